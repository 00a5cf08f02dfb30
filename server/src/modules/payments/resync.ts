import type { ResyncResult } from '@orders/shared';
import { conflict, notFound } from '../../errors.js';
import type { ProviderPayment } from '../../paypal/gateway.js';
import { outcomeFromProvider } from '../../paypal/outcomes.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import type { OrderRow } from '../orders/order.repository.js';
import { findAttempt, lockOrderAndAttempt, type AttemptRow } from './attempt.repository.js';
import { sendDuplicateRefund } from './notification-inbox.js';
import { recordPaymentEvent } from './payment-events.js';
import { lockSale, providerFailure, saleToLock } from './payment-outcome.js';
import type { PaymentsDeps } from './payments.deps.js';
import { recordApplied } from './provider-answers.js';

/**
 * Staff re-sync: ask PayPal and apply its answer through the same path as IPNs. The audit entry
 * (who, the attempt and order before and after, why) commits together with what the answer changed.
 */
export async function resync(deps: PaymentsDeps, attemptId: string, actor: Actor, reason?: string | null): Promise<ResyncResult> {
  const em = deps.orm.em.fork();
  const attempt = await findAttempt(em, { id: attemptId });
  if (!attempt) throw notFound('payment attempt');
  if (!attempt.externalId) throw conflict('this attempt never reached PayPal');
  const externalId = attempt.externalId;
  let payment: ProviderPayment;
  try {
    payment = await deps.gateway.getPayment(externalId);
  } catch (error) {
    throw providerFailure(error, 'PayPal could not be asked');
  }
  const outcome = outcomeFromProvider(payment);
  let duplicateRefundId: string | undefined;
  const result = await em.transactional(async (tx) => {
    // The sale PayPal names first, then the order, as every path takes them (lockSale).
    const sale = outcome ? saleToLock(outcome) : undefined;
    if (sale) await lockSale(tx, sale);
    const before = await lockOrderAndAttempt(tx, attemptId);
    let applied: { result: string; message: string; order: OrderRow; attempt: AttemptRow };
    if (outcome) {
      const recorded = await recordApplied(deps, tx, attemptId, outcome, actor, { source: 'resync', externalId, payload: payment.raw, txnId: payment.sale?.id ?? null });
      duplicateRefundId = recorded.duplicateRefundId;
      applied = recorded;
    } else {
      const message = `PayPal says ${payment.state}`;
      await recordPaymentEvent(tx, { source: 'resync', attemptId, orderId: attempt.orderId, externalId, payload: payment.raw, outcome: message });
      applied = { result: 'no_change', message, order: before.order, attempt: before.attempt };
    }
    await recordAudit(tx, {
      actor,
      action: 'payment.resynced',
      orderId: before.order.id,
      before: { attemptId, attemptStatus: before.attempt.status, orderStatus: before.order.status },
      after: { attemptStatus: applied.attempt.status, orderStatus: applied.order.status, paypalState: payment.state, result: applied.result },
      reason: reason ?? null,
    });
    return {
      orderId: applied.order.id,
      status: applied.order.status,
      refundedAmount: applied.order.refundedAmount,
      attemptId,
      attemptStatus: applied.attempt.status,
      result: applied.result,
      message: applied.message,
    };
  });
  if (duplicateRefundId) await sendDuplicateRefund(deps.duplicates, duplicateRefundId, deps.logger);
  return result;
}
