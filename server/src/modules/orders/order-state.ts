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
  refunded: ['paid'],
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
