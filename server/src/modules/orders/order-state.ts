import type { OrderStatus } from '@orders/shared';
import { conflict } from '../../errors.js';

/**
 * The order's state machine. `failed` is not final: a later attempt (or a late IPN) may still pay.
 * Refund states are reached only from paid money.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paid', 'failed', 'cancelled'],
  failed: ['paid', 'pending', 'cancelled'],
  paid: ['refunded', 'partially_refunded'],
  partially_refunded: ['refunded', 'partially_refunded', 'paid'],
  // A cancelled reversal gives back what a chargeback took: a refunded order may be paid (or partly refunded) again.
  refunded: ['paid', 'partially_refunded'],
  cancelled: [],
};

/** Statuses in which money has been received for the order. */
export const PAID_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded'];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw conflict(`order is ${from}; it cannot become ${to}`);
}

/** Statuses from which an order may move to `to`: what a conditional update's `where status in (…)` needs. */
export function sourcesOf(to: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) => canTransition(from, to));
}

/**
 * The payment_status of an order a service asserted paid (processOrderToPaid, updateAttempt) rather
 * than PayPal: reconciliation lists it until a PayPal capture for it is recorded.
 */
export const ASSERTED_PAYMENT_STATUS = 'asserted';
