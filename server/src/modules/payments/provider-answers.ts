import type { EntityManager } from '../../db/sql.js';
import type { PaymentOutcome } from '../../paypal/outcomes.js';
import type { Actor } from '../audit/audit.service.js';
import { sendDuplicateRefund } from './notification-inbox.js';
import { recordPaymentEvent } from './payment-events.js';
import { applyPaymentOutcome, type AppliedOutcome } from './payment-outcome.js';
import type { PaymentsDeps } from './payments.deps.js';

/** PayPal's REST answers (execute, a re-sync's payment), applied like its notifications and stored as payment events. */

/** What PayPal answered and where it came from, as stored on the payment event. */
export interface ProviderAnswer {
  source: 'provider' | 'resync';
  externalId: string | null;
  payload: unknown;
  txnId?: string | null;
}

export async function applyAndRecord(deps: PaymentsDeps, attemptId: string, outcome: PaymentOutcome, actor: Actor, answer: ProviderAnswer): Promise<AppliedOutcome> {
  const applied = await deps.orm.em.fork().transactional((tx) => recordApplied(deps, tx, attemptId, outcome, actor, answer));
  await afterCommit(deps, applied);
  return applied;
}

/** A duplicate capture's refund, requested in the transaction just committed, goes to PayPal now. */
export async function afterCommit(deps: PaymentsDeps, applied: AppliedOutcome): Promise<void> {
  if (applied.duplicateRefundId) await sendDuplicateRefund(deps.duplicates, applied.duplicateRefundId, deps.logger);
}

/** Applies an outcome and stores it as a payment event, inside the caller's transaction. */
export async function recordApplied(
  deps: PaymentsDeps,
  tx: EntityManager,
  attemptId: string,
  outcome: PaymentOutcome,
  actor: Actor,
  answer: ProviderAnswer,
): Promise<AppliedOutcome> {
  const applied = await applyPaymentOutcome(tx, attemptId, outcome, actor, { refundDuplicates: deps.duplicates.refundDuplicates });
  await recordPaymentEvent(tx, {
    source: answer.source,
    attemptId,
    orderId: applied.order.id,
    externalId: answer.externalId,
    txnId: answer.txnId ?? null,
    providerStatus: outcome.kind,
    amount: 'amount' in outcome && typeof outcome.amount === 'number' ? outcome.amount : null,
    currency: 'currency' in outcome && typeof outcome.currency === 'string' ? outcome.currency : null,
    payload: answer.payload,
    processing: applied.result === 'flagged' ? 'flagged' : applied.result === 'parked' ? 'parked' : 'processed',
    outcome: applied.message,
    flagKind: applied.flag ?? null,
  });
  return applied;
}
