import { moneyText } from '../../money-text.js';
import { firstRow, sql, type EntityManager } from '../../db/sql.js';
import { DomainError } from '../../errors.js';
import { PaymentProviderError } from '../../paypal/gateway.js';
import type { Actor } from '../audit/audit.service.js';
import { ASSERTED_PAYMENT_STATUS, PAID_STATUSES } from '../orders/order-state.js';
import type { OrderRow } from '../orders/order.repository.js';
import { markPaymentPending, settleRefunds, transitionToPaid, transitionToUnpaidEnd } from '../orders/order.transitions.js';
import { attemptCanBecome, changeAttempt } from './attempt.transitions.js';
import { lockOrderAndAttempt, refreshedAttempt, type AttemptRow } from './attempt.repository.js';
import { requestDuplicateRefund } from './duplicate-refund.js';
import { applyMovement, applyParked, openOf, parkMovement, recordCapture, saleBalance, saleStateOf, type Movement, type Owner } from './money-ledger.js';
import type { FlagKind } from './payment-events.js';
import type { PaymentOutcome } from '../../paypal/outcomes.js';

/** A refund, reversal or cancelled reversal as a ledger movement. */
export function movementOf(outcome: Extract<PaymentOutcome, { kind: 'refunded' | 'reversal_canceled' }>, eventId?: string | null): Movement {
  return outcome.kind === 'refunded'
    ? { saleId: outcome.saleId, kind: outcome.movement, amount: outcome.amount, currency: outcome.currency, providerTxnId: outcome.refundTxnId, eventId: eventId ?? null, reason: outcome.reason }
    : { saleId: outcome.saleId, kind: 'reversal_canceled', amount: outcome.amount, currency: outcome.currency, providerTxnId: outcome.txnId, eventId: eventId ?? null, reason: 'reversal canceled' };
}

/** The order's payment_status after `movement`: `refunded`, `reversed (<PayPal's reason code>)` or `canceled_reversal`. */
const paymentStatusOf = (movement: Pick<Movement, 'kind' | 'reason'>) => (movement.kind === 'reversal_canceled' ? 'canceled_reversal' : (movement.reason ?? movement.kind));

export const isMoneyMovement = (outcome: PaymentOutcome): outcome is Extract<PaymentOutcome, { kind: 'refunded' | 'reversal_canceled' }> =>
  outcome.kind === 'refunded' || outcome.kind === 'reversal_canceled';

/** How an outcome is applied: the event that carries it, and whether a duplicate capture is refunded at once. */
export interface ApplyOptions {
  eventId?: string | null;
  /** AUTO_REFUND_DUPLICATES: a second sale captured for an already paid order is refunded through PayPal. */
  refundDuplicates?: boolean;
}

/**
 * Serialises everything that concerns one PayPal sale, before its order is known: a refund parked for
 * a sale and the capture that records that sale cannot miss each other. Transaction-scoped, and taken
 * again at no cost by the transaction that holds it.
 *
 * Always before the order's row lock, never after it: a refund's notification takes it before it can
 * look the sale's attempt (and so the order) up, so a path that held the order and then asked for the
 * sale (a capture recording it, a refund parked by invoice) could wait for a notification that waited
 * for the order. Found from outside: a staff refund answered 500 "deadlock detected" in the
 * exactly-once property (a second capture and its refund IPN, the staff refund queued for the order).
 */
export async function lockSale(em: EntityManager, saleId: string): Promise<void> {
  await firstRow(em, sql`select pg_advisory_xact_lock(hashtextextended(${`sale:${saleId}`}, 0))`);
}

/** The sale whose lock (lockSale) applying `outcome` takes: a capture PayPal reported, a refund, a reversal or its cancellation. */
export function saleToLock(outcome: PaymentOutcome): string | undefined {
  if (outcome.kind === 'completed') return outcome.evidence === 'caller' ? undefined : outcome.saleId;
  if (outcome.kind === 'refunded' || outcome.kind === 'reversal_canceled') return outcome.saleId;
  return undefined;
}

export type OutcomeResult =
  | 'paid'
  | 'already_applied'
  | 'pending'
  | 'failed'
  | 'refund_applied'
  | 'flagged'
  | 'ignored'
  /** A refund, reversal or cancelled reversal kept until its sale is recorded. */
  | 'parked';

export interface AppliedOutcome {
  result: OutcomeResult;
  message: string;
  /** Set when `result` is 'flagged'. */
  flag?: FlagKind;
  /** A refund of a duplicate capture was requested in this transaction; send it once committed. */
  duplicateRefundId?: string;
  order: OrderRow;
  attempt: AttemptRow;
}

/**
 * The single path by which any source (return URL, IPN, webhook, updateAttempt, staff re-sync) applies
 * what PayPal said. Under the order+attempt row locks it is idempotent: the same outcome twice changes
 * nothing the second time, the order is paid once with one snapshot, and money movements are counted
 * once each in the ledger. Inside a transaction.
 */
export async function applyPaymentOutcome(
  em: EntityManager,
  attemptId: string,
  outcome: PaymentOutcome,
  actor: Actor,
  options: ApplyOptions = {},
): Promise<AppliedOutcome> {
  // The sale first, then the order (lockSale).
  const sale = saleToLock(outcome);
  if (sale) await lockSale(em, sale);
  const { order, attempt } = await lockOrderAndAttempt(em, attemptId);
  const owner: Owner = { orderId: order.id, attemptId: attempt.id };
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
        return flagged('amount_mismatch', `amount mismatch: PayPal captured ${moneyText(outcome.amount, outcome.currency)}, attempt expects ${moneyText(attempt.amount, attempt.currency)}`);
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
      if (others?.saleOwner) return flagged('conflicting_sale', `sale ${outcome.saleId} already belongs to attempt ${others.saleOwner}`);
      const fromPaypal = outcome.evidence !== 'caller';
      /** Records the capture; returns how many early refunds/reversals waiting for this sale it applied. */
      /** The sale in the ledger, and the movements that were waiting for it applied (or refused), in arrival order. */
      const recordSale = async (a: AttemptRow) => {
        if (!fromPaypal) return [];
        // The sale's lock is held: taken above, before the order (saleToLock).
        await recordCapture(em, { saleId: outcome.saleId, amount: outcome.amount, currency: outcome.currency, eventId: options.eventId ?? null }, owner);
        return applyParked(em, outcome.saleId, { orderId: order.id, attemptId: a.id });
      };
      const payer = { payerId: outcome.payerId ?? null, payerEmail: outcome.payerEmail ?? null, payerName: outcome.payerName ?? null };
      if (others?.otherSuccess || PAID_STATUSES.includes(order.status)) {
        // Money for an order that is already paid: a second sale, kept on its own attempt and given back.
        const a = await changeAttempt(em, attempt.id, { saleId: outcome.saleId, ...payer });
        await recordSale(a);
        // What is left of it, from the ledger: a re-sync of a duplicate already given back must not reopen it.
        await changeAttempt(em, a.id, { saleState: fromPaypal ? saleStateOf(await saleBalance(em, outcome.saleId)) : 'completed' });
        const paidBy = others?.otherSuccess ? `attempt ${others.otherSuccess}` : `sale ${order.paymentTransactionId ?? '(none)'}`;
        const refundId = fromPaypal && options.refundDuplicates ? await requestDuplicateRefund(em, { orderId: order.id, attempt: a, saleId: outcome.saleId }) : null;
        const after = await refreshedAttempt(em, a.id);
        return {
          ...flagged(
            'double_payment',
            refundId
              ? `duplicate payment: the order was already paid by ${paidBy}; sale ${outcome.saleId} is refunded automatically (refund ${refundId})`
              : `duplicate payment: the order was already paid by ${paidBy}; refund sale ${outcome.saleId}`,
            order,
            after,
          ),
          ...(refundId ? { duplicateRefundId: refundId } : {}),
        };
      }
      const a = await changeAttempt(em, attempt.id, { status: 'succeeded', saleId: outcome.saleId, saleState: 'completed', ...payer });
      if (order.status === 'cancelled') {
        await recordSale(a);
        return flagged('paid_after_cancel', `paid after the order was cancelled: refund sale ${outcome.saleId}`, order, await refreshedAttempt(em, a.id));
      }
      const paid = await transitionToPaid(em, order.id, {
        actor,
        saleId: outcome.saleId,
        paymentStatus: fromPaypal ? 'completed' : ASSERTED_PAYMENT_STATUS,
        reason: fromPaypal ? `sale ${outcome.saleId}` : `reported paid by the caller (${outcome.saleId})`,
      });
      // Refunds or reversals that arrived before the sale itself are in the ledger now: the order says so,
      // with the payment status the last of them gives, as if they had come after the sale (found from
      // outside: a chargeback before its sale left "completed", after it "reversed (chargeback)").
      const parked = await recordSale(a);
      const last = parked.filter((p) => p.verdict.result === 'applied').at(-1)?.movement;
      const settled =
        parked.length > 0
          ? await settleRefunds(em, paid.order, { actor, reason: 'refunds and reversals received before the sale', paymentStatus: last ? paymentStatusOf(last) : 'completed' })
          : paid.order;
      // The sale's state is its own ledger's (completed, partially_refunded, refunded), never the order's status.
      const after = settled === paid.order ? a : await changeAttempt(em, a.id, { saleState: saleStateOf(await saleBalance(em, outcome.saleId)) });
      return done(paid.changed ? 'paid' : 'already_applied', paid.changed ? `order ${settled.status === 'paid' ? 'paid' : `paid, then ${settled.status.replace('_', ' ')}`}` : 'order was already paid', settled, after);
    }
    case 'pending': {
      if (attempt.status === 'succeeded') return done('ignored', 'pending reported for a succeeded attempt');
      const a = await changeAttempt(em, attempt.id, {
        status: attemptCanBecome(attempt.status, 'approved') ? 'approved' : undefined,
        saleId: outcome.saleId,
        saleState: 'pending',
      });
      await markPaymentPending(em, order.id);
      return done('pending', `sale pending${outcome.reason ? ` (${outcome.reason})` : ''}`, order, a);
    }
    case 'failed': {
      if (attempt.status === 'succeeded') return flagged('unexpected_state', `failure (${outcome.reason}) reported for a succeeded attempt`);
      if (attempt.status === 'failed') return done('already_applied', 'already failed');
      const a = await changeAttempt(em, attempt.id, {
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
      const movement = movementOf(outcome, options.eventId);
      if (attempt.saleId !== outcome.saleId) {
        // Matched by invoice, but this attempt's sale is not recorded yet: wait for it (under the sale's
        // lock, taken above before the order: saleToLock).
        const parked = await parkMovement(em, movement);
        return parked
          ? done('parked', `${movement.kind.replace('_', ' ')} for sale ${outcome.saleId}, which is not recorded yet: kept until it is`)
          : done('already_applied', `transaction ${movement.providerTxnId} is already known`);
      }
      const ownSale = order.paymentTransactionId === outcome.saleId && PAID_STATUSES.includes(order.status);
      const verdict = await applyMovement(em, movement, owner);
      if (verdict.result === 'duplicate') return done('already_applied', verdict.message);
      if (verdict.result === 'rejected') return flagged(verdict.flag, verdict.message);
      if (ownSale) {
        const updated = await settleRefunds(em, order, {
          actor,
          reason: outcome.kind === 'refunded' ? outcome.reason : 'reversal canceled',
          paymentStatus: paymentStatusOf(movement),
        });
        const a = await changeAttempt(em, attempt.id, { saleState: saleStateOf(await saleBalance(em, outcome.saleId)) });
        return done('refund_applied', `order is ${updated.status} (${moneyText(updated.refundedAmount, updated.currency)} of ${moneyText(updated.total, updated.currency)} refunded)`, updated, a);
      }
      // A sale that did not pay the order (a duplicate, or paid after cancelling): its own ledger only.
      const balance = await saleBalance(em, outcome.saleId);
      const a = await changeAttempt(em, attempt.id, { saleState: saleStateOf(balance) });
      return done('refund_applied', `${verdict.message}; ${moneyText(openOf(balance), balance.currency ?? outcome.currency)} still captured on that sale, the order stays ${order.status}`, order, a);
    }
  }
}

/** A provider error as stored on a payment event. */
export const providerErrorPayload = (error: PaymentProviderError) => ({
  name: error.providerErrorName,
  httpStatus: error.httpStatus,
  debugId: error.debugId,
  details: error.details,
});

/** Provider trouble as the caller sees it: retryable → SERVICE_UNAVAILABLE, refusals → BAD_GATEWAY. */
export function providerFailure(error: unknown, message: string): DomainError {
  if (error instanceof PaymentProviderError) {
    return new DomainError(error.retryable ? 'SERVICE_UNAVAILABLE' : 'BAD_GATEWAY', `${message}: ${error.providerErrorName}${error.debugId ? ` (debug id ${error.debugId})` : ''}`);
  }
  return new DomainError('SERVICE_UNAVAILABLE', message);
}
