import { moneyText } from '../../money-text.js';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Currency, RefundResult } from '@orders/shared';
import { PaymentProviderError, type ProviderRefund } from '../../paypal/gateway.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { findOrder } from '../orders/order.repository.js';
import { settleRefunds } from '../orders/order.transitions.js';
import { findAttempt } from './attempt.repository.js';
import { changeAttempt } from './attempt.transitions.js';
import { completeRefundLines } from './line-refunds.js';
import { applyMovement, saleBalance, saleStateOf } from './money-ledger.js';
import { recordPaymentEvent } from './payment-events.js';
import { completeRefund, failRefund } from './refund.transitions.js';

/* What PayPal answered to a refund request, applied: used by staff refunds, line refunds, duplicate refunds and the sweep. */

/** A refund row in `requested`: its amount is held against other refunds until PayPal answers. */
export interface RequestedRefund {
  id: string;
  /** `order`: the order's own sale; `duplicate`: a second sale for an already paid order, which leaves the order as it is. */
  kind: 'order' | 'duplicate';
  orderId: string;
  saleId: string;
  amount: number;
  currency: Currency;
  attemptId: string | null;
  attemptExternalId: string | null;
  reason: string;
  /** The order as it was when the refund was asked for, for the audit trail. */
  before: { status: string; refundedAmount: number };
}

/** PayPal did not refund: the row failed (unless another path settled it), with its event and audit entry. */
export async function failRefundRequest(orm: MikroORM, requested: RequestedRefund, error: unknown, actor: Actor): Promise<void> {
  const reason = error instanceof PaymentProviderError ? error.message : 'PayPal call failed';
  await orm.em.fork().transactional(async (tx) => {
    // Someone else settled it meanwhile (a resumed request that got PayPal's answer): theirs stands.
    if (!(await failRefund(tx, requested.id, reason))) return;
    await recordPaymentEvent(tx, {
      source: 'provider',
      attemptId: requested.attemptId,
      orderId: requested.orderId,
      parentTxnId: requested.saleId,
      providerStatus: error instanceof PaymentProviderError ? error.providerErrorName : 'error',
      amount: requested.amount,
      currency: requested.currency,
      payload: error instanceof PaymentProviderError ? { name: error.providerErrorName, httpStatus: error.httpStatus, debugId: error.debugId } : null,
      processing: 'flagged',
      outcome: `refund failed: ${reason}`,
    });
    await recordAudit(tx, {
      actor,
      action: 'order.refund_failed',
      orderId: requested.orderId,
      before: requested.before,
      after: { refundId: requested.id, amount: requested.amount, error: reason },
      reason: requested.reason,
    });
  });
}

/** PayPal refunded: the row completed and the money applied, once, under the order's lock. */
export async function completeRefundRequest(
orm: MikroORM,
requested: RequestedRefund,
refund: ProviderRefund,
actor: Actor,
auditReason: string,
): Promise<RefundResult> {
  return orm.em.fork().transactional(async (tx) => {
    const current = (await findOrder(tx, requested.orderId, { lock: true }))!;
    const result = (order: { status: RefundResult['status']; refundedAmount: number }): RefundResult => ({
      orderId: requested.orderId,
      status: order.status,
      refundedAmount: order.refundedAmount,
      refundId: requested.id,
      providerRefundId: refund.refundId,
      amount: refund.amount,
      currency: refund.currency,
    });
    // Not when another path (the sweep, or the request it resumed) completed it first.
    if (!(await completeRefund(tx, requested.id, refund))) return result(current);
    // Line refunds: the covered units go back in stock with the completion, once, whichever path completes it.
    const coveredLines = await completeRefundLines(tx, requested.id);
    if (coveredLines) {
      await recordAudit(tx, {
        actor,
        action: 'order.lines_refunded',
        orderId: requested.orderId,
        before: requested.before,
        after: {
          refundId: requested.id,
          providerRefundId: refund.refundId,
          amount: refund.amount,
          lines: coveredLines.lines,
          restock: coveredLines.restock,
          restocked: coveredLines.restockedNow,
        },
        reason: auditReason,
      });
    }
    const verdict = await applyMovement(
      tx,
      { saleId: requested.saleId, kind: 'refund', amount: refund.amount, currency: refund.currency, providerTxnId: refund.refundId, reason: auditReason },
      { orderId: requested.orderId, attemptId: requested.attemptId ?? (await findAttempt(tx, { saleId: requested.saleId }))?.id ?? null },
    );
    const appliedByNotification = verdict.result === 'duplicate';
    const updated =
      requested.kind === 'order' && verdict.result === 'applied'
        ? await settleRefunds(tx, current, { actor, reason: auditReason, paymentStatus: 'refunded' })
        : current;
    if (appliedByNotification || requested.kind === 'duplicate') {
      // The money moved with the IPN or webhook (audited as PayPal's), or on a sale that is not the order's:
      // who asked for it, and why, is recorded here.
      await recordAudit(tx, {
        actor,
        action: requested.kind === 'duplicate' ? 'payment.duplicate_refunded' : 'order.refund_confirmed',
        orderId: requested.orderId,
        before: requested.before,
        after: { status: updated.status, refundedAmount: updated.refundedAmount, refundId: requested.id, providerRefundId: refund.refundId, saleId: requested.saleId, amount: refund.amount },
        reason: auditReason,
      });
    }
    if (requested.attemptId) {
      // What the sale's ledger says (a reversal cancelled on it reads completed again), not the order's status ('paid').
      await changeAttempt(tx, requested.attemptId, { saleState: saleStateOf(await saleBalance(tx, requested.saleId)) });
    }
    await recordPaymentEvent(tx, {
      source: 'provider',
      attemptId: requested.attemptId,
      orderId: requested.orderId,
      externalId: requested.attemptExternalId,
      txnId: refund.refundId,
      parentTxnId: requested.saleId,
      providerStatus: `refund ${refund.state}`,
      amount: refund.amount,
      currency: refund.currency,
      payload: refund.raw,
      processing: verdict.result === 'rejected' ? 'flagged' : 'processed',
      flagKind: verdict.result === 'rejected' ? verdict.flag : null,
      outcome:
        verdict.result === 'rejected'
          ? `PayPal refunded, but ${verdict.message}`
          : appliedByNotification
            ? `refund ${refund.refundId} was already applied by its notification`
            : requested.kind === 'duplicate'
              ? `duplicate sale ${requested.saleId} refunded (${moneyText(refund.amount, refund.currency)}); the order stays ${updated.status}`
              : `order is ${updated.status} (${moneyText(updated.refundedAmount, updated.currency)} of ${moneyText(updated.total, updated.currency)} refunded)`,
    });
    return result(updated);
  });
}
