import { moneyText } from '../../money-text.js';
import type { AttemptStatus, Currency } from '@orders/shared';
import { DomainError, conflict, notFound } from '../../errors.js';
import type { Actor } from '../audit/audit.service.js';
import { findOrder } from '../orders/order.repository.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { findAttempt, lockOrderAndAttempt } from './attempt.repository.js';
import { attemptCanBecome, transitionAttempt } from './attempt.transitions.js';
import { recordPaymentEvent, type FlagKind, type Processing } from './payment-events.js';
import { applyPaymentOutcome, type AppliedOutcome } from './payment-outcome.js';
import type { PaymentsDeps } from './payments.deps.js';

/** `payments.updateAttempt` (scope payments:settle): a caller reports an outcome; amount and currency must match. */
export async function updateAttempt(
  deps: PaymentsDeps,
  input: { externalId: string; status: AttemptStatus; amount: number; currency: Currency },
  actor: Actor,
): Promise<{ attemptId: string; status: AttemptStatus; orderId: string; orderStatus: string; changed: boolean }> {
  const em = deps.orm.em.fork();
  const attempt = await findAttempt(em, { externalId: input.externalId });
  if (!attempt) throw notFound('payment attempt');
  // What the caller reported is kept as a payment event either way, for reconciliation.
  const reported = (processing: Processing, outcome: string, flagKind?: FlagKind) => ({
    source: 'update_attempt' as const,
    attemptId: attempt.id,
    orderId: attempt.orderId,
    externalId: input.externalId,
    providerStatus: input.status,
    amount: input.amount,
    currency: input.currency,
    payload: input,
    processing,
    outcome,
    flagKind: flagKind ?? null,
  });
  if (input.amount !== attempt.amount || input.currency !== attempt.currency) {
    await recordPaymentEvent(
      em,
      reported('flagged', `amount mismatch: reported ${moneyText(input.amount, input.currency)}, expected ${moneyText(attempt.amount, attempt.currency)}`, 'amount_mismatch'),
    );
    throw new DomainError('PRECONDITION_FAILED', `amount or currency does not match the attempt (expected ${attempt.amount} ${attempt.currency})`, 'amount');
  }
  if (input.status === attempt.status) {
    const order = await findOrder(em, attempt.orderId);
    return { attemptId: attempt.id, status: attempt.status, orderId: attempt.orderId, orderStatus: order!.status, changed: false };
  }
  if (!attemptCanBecome(attempt.status, input.status)) throw conflict(`attempt is ${attempt.status}; it cannot become ${input.status}`);
  const applied = await em.transactional(async (tx) => {
    let result: AppliedOutcome | undefined;
    switch (input.status) {
      case 'succeeded': {
        // A caller's word is no PayPal sale: it may pay an unpaid order, never a cancelled one (the buyer
        // was then told "Payment received" for nothing charged) nor add a payment to a paid one (listed
        // as paid twice, with nothing to refund). PayPal's own messages about the attempt still count.
        const { order } = await lockOrderAndAttempt(tx, attempt.id);
        const refusal =
          order.status === 'cancelled'
            ? 'order is cancelled; it cannot become paid'
            : PAID_STATUSES.includes(order.status)
              ? `order is already ${order.status.replace('_', ' ')}; a reported success adds no payment`
              : undefined;
        if (refusal) {
          await recordPaymentEvent(tx, reported('ignored', `refused: ${refusal}`));
          return { result: undefined, refusal };
        }
        result = await applyPaymentOutcome(tx, attempt.id, {
          kind: 'completed',
          saleId: attempt.saleId ?? `manual-${attempt.id}`,
          amount: input.amount,
          currency: input.currency,
          evidence: 'caller',
        }, actor);
        break;
      }
      case 'failed':
        result = await applyPaymentOutcome(tx, attempt.id, { kind: 'failed', reason: 'reported failed by caller' }, actor);
        break;
      default:
        await transitionAttempt(tx, attempt.id, input.status, 'reported by the caller');
    }
    await recordPaymentEvent(tx, reported(result?.result === 'flagged' ? 'flagged' : 'processed', result?.message ?? `attempt ${input.status}`, result?.flag));
    return { result, refusal: undefined };
  });
  if (applied.refusal) throw conflict(applied.refusal);
  const order = await findOrder(em, attempt.orderId);
  const now = await findAttempt(em, { id: attempt.id });
  return { attemptId: attempt.id, status: now!.status, orderId: attempt.orderId, orderStatus: order!.status, changed: applied.result?.result !== 'already_applied' };
}
