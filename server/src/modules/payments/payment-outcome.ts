import type { AttemptStatus, Currency } from '@orders/shared';
import { affected, firstRow, sql, type EntityManager } from '../../db/sql.js';
import { DomainError, notFound } from '../../errors.js';
import { PaymentProviderError } from '../../paypal/gateway.js';
import type { Actor } from '../audit/audit.service.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { ORDER_COLUMNS, applyRefundDelta, transitionToPaid, transitionToUnpaidEnd, type OrderRow } from '../orders/orders.service.js';
import { attemptCanBecome } from './attempt-state.js';
import { notificationThatApplied, type FlagKind } from './payment-events.js';

export interface AttemptRow {
  id: string;
  orderId: string;
  status: AttemptStatus;
  amount: number;
  currency: Currency;
  externalId: string | null;
  saleId: string | null;
  saleState: string | null;
  approvalUrl: string | null;
  returnUrl: string | null;
  cancelUrl: string | null;
  payerId: string | null;
  createdAt: string;
}

export const ATTEMPT_COLUMNS = sql`a.id, a.order_id as "orderId", a.status, a.amount, a.currency, a.external_id as "externalId",
  a.sale_id as "saleId", a.sale_state as "saleState", a.approval_url as "approvalUrl", a.return_url as "returnUrl",
  a.cancel_url as "cancelUrl", a.payer_id as "payerId", a.created_at as "createdAt"`;

/** What the provider says happened to a payment, in our terms (money in minor units). */
export type PaymentOutcome =
  | { kind: 'completed'; saleId: string; amount: number; currency: string; payerId?: string | null; payerEmail?: string | null }
  | { kind: 'pending'; saleId: string | null; reason?: string | null; amount?: number; currency?: string }
  | { kind: 'failed'; reason: string; saleId?: string | null }
  /** `refundTxnId`: PayPal's transaction id of the refund or reversal, when known (the IPN's txn_id, the webhook resource's id). */
  | { kind: 'refunded'; amount: number; currency: string; reason: string; refundTxnId?: string | null }
  | { kind: 'reversal_canceled'; amount: number; currency: string };

export type OutcomeResult =
  | 'paid'
  | 'already_applied'
  | 'pending'
  | 'failed'
  | 'refund_applied'
  | 'flagged'
  | 'ignored';

export interface AppliedOutcome {
  result: OutcomeResult;
  message: string;
  /** Set when `result` is 'flagged'. */
  flag?: FlagKind;
  order: OrderRow;
  attempt: AttemptRow;
}

export async function findAttempt(em: EntityManager, where: { id?: string; externalId?: string; saleId?: string }) {
  if (where.id) return firstRow(em, sql<AttemptRow>`select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.id = ${where.id}`);
  if (where.externalId) {
    return firstRow(em, sql<AttemptRow>`select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.external_id = ${where.externalId}`);
  }
  if (where.saleId) return firstRow(em, sql<AttemptRow>`select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.sale_id = ${where.saleId}`);
  return undefined;
}

/**
 * Locks the order, then the attempt — always in that order, so the return URL, IPN workers and
 * staff re-syncs queue behind each other instead of deadlocking. Inside a transaction.
 * FOR NO KEY UPDATE, not FOR UPDATE: the foreign-key checks of concurrent inserts that reference these
 * rows (payment events, audit entries) take KEY SHARE locks one row at a time, and against FOR UPDATE
 * those deadlocked with this order+attempt sequence.
 */
export async function lockOrderAndAttempt(em: EntityManager, attemptId: string): Promise<{ order: OrderRow; attempt: AttemptRow }> {
  // One statement finds the attempt's order and locks it; then the attempt row itself.
  const order = await firstRow(
    em,
    sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o
                   where o.id = (select order_id from order_payment_attempt where id = ${attemptId}) for no key update`,
  );
  if (!order) throw notFound('payment attempt');
  const attempt = await firstRow(em, sql<AttemptRow>`select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.id = ${attemptId} for no key update`);
  return { order, attempt: attempt! };
}

async function setAttempt(
  em: EntityManager,
  attemptId: string,
  changes: { status?: AttemptStatus; saleId?: string | null; saleState?: string | null; failureReason?: string | null; payerId?: string | null; payerEmail?: string | null },
): Promise<AttemptRow> {
  const row = await firstRow(
    em,
    sql<AttemptRow>`
      update order_payment_attempt a set
        status = coalesce(${changes.status ?? null}, a.status),
        sale_id = coalesce(${changes.saleId ?? null}, a.sale_id),
        sale_state = coalesce(${changes.saleState ?? null}, a.sale_state),
        failure_reason = coalesce(${changes.failureReason ?? null}, a.failure_reason),
        payer_id = coalesce(${changes.payerId ?? null}, a.payer_id),
        payer_email = coalesce(${changes.payerEmail ?? null}, a.payer_email),
        succeeded_at = case when ${changes.status ?? null}::text = 'succeeded' then now() else a.succeeded_at end,
        updated_at = now()
      where a.id = ${attemptId}
      returning ${ATTEMPT_COLUMNS}`,
  );
  return row!;
}

/**
 * The single path by which any source (return URL, IPN, updateAttempt, staff re-sync) applies what
 * PayPal said. Under the order+attempt row locks it is idempotent: the same outcome twice changes
 * nothing the second time, and the order is paid once with one snapshot. Inside a transaction.
 */
export async function applyPaymentOutcome(
  em: EntityManager,
  attemptId: string,
  outcome: PaymentOutcome,
  actor: Actor,
): Promise<AppliedOutcome> {
  const { order, attempt } = await lockOrderAndAttempt(em, attemptId);
  const done = (result: OutcomeResult, message: string, o: OrderRow = order, a: AttemptRow = attempt): AppliedOutcome => ({
    result,
    message,
    order: o,
    attempt: a,
  });
  const flagged = (flag: FlagKind, message: string, o: OrderRow = order, a: AttemptRow = attempt): AppliedOutcome => ({
    ...done('flagged', message, o, a),
    flag,
  });

  switch (outcome.kind) {
    case 'completed': {
      if (outcome.amount !== attempt.amount || outcome.currency !== attempt.currency) {
        return flagged('amount_mismatch', `amount mismatch: PayPal captured ${outcome.amount} ${outcome.currency}, attempt expects ${attempt.amount} ${attempt.currency}`);
      }
      if (attempt.status === 'succeeded') {
        if (attempt.saleId === outcome.saleId) return done('already_applied', 'already applied');
        return flagged('conflicting_sale', `attempt already succeeded with sale ${attempt.saleId}; PayPal reports sale ${outcome.saleId}`);
      }
      // Other attempts that already hold this sale, or already succeeded for this order: one query.
      const others = await firstRow(
        em,
        sql<{ saleOwner: string | null; otherSuccess: string | null }>`
          select (select id from order_payment_attempt where sale_id = ${outcome.saleId} and id <> ${attempt.id}) as "saleOwner",
                 (select id from order_payment_attempt
                   where order_id = ${order.id} and status = 'succeeded' and id <> ${attempt.id}) as "otherSuccess"`,
      );
      const saleOwner = others?.saleOwner ? { id: others.saleOwner } : undefined;
      const otherSuccess = others?.otherSuccess ? { id: others.otherSuccess } : undefined;
      if (saleOwner) return done('flagged', `sale ${outcome.saleId} already belongs to attempt ${saleOwner.id}`);
      if (otherSuccess) {
        const a = await setAttempt(em, attempt.id, { saleId: outcome.saleId, saleState: 'completed' });
        return flagged('double_payment', `double payment: the order was already paid by attempt ${otherSuccess.id}; refund sale ${outcome.saleId}`, order, a);
      }
      const a = await setAttempt(em, attempt.id, {
        status: 'succeeded',
        saleId: outcome.saleId,
        saleState: 'completed',
        payerId: outcome.payerId ?? null,
        payerEmail: outcome.payerEmail ?? null,
      });
      if (order.status === 'cancelled') {
        return flagged('paid_after_cancel', `paid after the order was cancelled: refund sale ${outcome.saleId}`, order, a);
      }
      const paid = await transitionToPaid(em, order.id, { actor, saleId: outcome.saleId, paymentStatus: 'completed', reason: `sale ${outcome.saleId}` });
      return done(paid.changed ? 'paid' : 'already_applied', paid.changed ? 'order paid' : 'order was already paid', paid.order, a);
    }
    case 'pending': {
      if (attempt.status === 'succeeded') return done('ignored', 'pending reported for a succeeded attempt');
      const a = await setAttempt(em, attempt.id, {
        status: attemptCanBecome(attempt.status, 'approved') ? 'approved' : undefined,
        saleId: outcome.saleId,
        saleState: 'pending',
      });
      await affected(em, sql`update "order" set payment_status = 'pending', updated_at = now() where id = ${order.id} and status in ('pending', 'failed')`);
      return done('pending', `sale pending${outcome.reason ? ` (${outcome.reason})` : ''}`, order, a);
    }
    case 'failed': {
      if (attempt.status === 'succeeded') return flagged('unexpected_state', `failure (${outcome.reason}) reported for a succeeded attempt`);
      if (attempt.status === 'failed') return done('already_applied', 'already failed');
      const a = await setAttempt(em, attempt.id, {
        status: attemptCanBecome(attempt.status, 'failed') ? 'failed' : undefined,
        saleId: outcome.saleId ?? null,
        saleState: outcome.saleId ? 'failed' : null,
        failureReason: outcome.reason,
      });
      if (order.status !== 'pending') return done('failed', `attempt failed: ${outcome.reason}`, order, a);
      const failed = await transitionToUnpaidEnd(em, order.id, 'failed', { actor, reason: outcome.reason, paymentStatus: 'failed' });
      return done('failed', `attempt and order failed: ${outcome.reason}`, failed.order, a);
    }
    case 'refunded':
    case 'reversal_canceled': {
      if (outcome.kind === 'refunded' && outcome.refundTxnId) {
        // A back-office refund applies itself when PayPal confirms it; PayPal's IPN for it then arrives too.
        const refund = await firstRow(
          em,
          sql<{ id: string }>`select id from order_refund where provider_refund_id = ${outcome.refundTxnId} and status = 'completed'`,
        );
        if (refund) return done('already_applied', `refund ${outcome.refundTxnId} was already applied by back-office refund ${refund.id}`);
        // The same refund or reversal announced on the other channel (IPN and webhook) and already applied from there.
        const announced = await notificationThatApplied(em, outcome.refundTxnId);
        if (announced) return done('already_applied', `transaction ${outcome.refundTxnId} was already applied by ${announced.source} event ${announced.id}`);
      }
      if (outcome.currency !== attempt.currency) {
        return flagged('amount_mismatch', `currency mismatch: ${outcome.currency} against ${attempt.currency}`);
      }
      if (!PAID_STATUSES.includes(order.status)) return flagged('unexpected_state', `money movement on an order that is ${order.status}`);
      const delta = outcome.kind === 'refunded' ? outcome.amount : -outcome.amount;
      if (order.refundedAmount + delta > order.total) {
        return flagged('refund_exceeds_total', `refunds would exceed the order total (${order.refundedAmount + delta} > ${order.total})`);
      }
      const updated = await applyRefundDelta(em, order, delta, {
        actor,
        reason: outcome.kind === 'refunded' ? outcome.reason : 'reversal canceled',
        paymentStatus: outcome.kind === 'refunded' ? outcome.reason : 'canceled_reversal',
      });
      const a = await setAttempt(em, attempt.id, { saleState: updated.status });
      return done('refund_applied', `order is ${updated.status} (${updated.refundedAmount} of ${updated.total} refunded)`, updated, a);
    }
  }
}

/** Provider trouble as the caller sees it: retryable → SERVICE_UNAVAILABLE, refusals → BAD_GATEWAY. */
export function providerFailure(error: unknown, message: string): DomainError {
  if (error instanceof PaymentProviderError) {
    return new DomainError(error.retryable ? 'SERVICE_UNAVAILABLE' : 'BAD_GATEWAY', `${message}: ${error.providerErrorName}${error.debugId ? ` (debug id ${error.debugId})` : ''}`);
  }
  return new DomainError('SERVICE_UNAVAILABLE', message);
}
