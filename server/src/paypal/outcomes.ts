import { isSupportedCurrency, maxMinorAmount, parseDecimalString } from '@orders/shared';
import { moneyText } from '../money-text.js';
import type { ProviderPayment } from './gateway.js';
import type { IpnFields } from './ipn/ipn-message.js';
import type { WebhookEnvelope } from './webhook/webhook-event.js';

/*
 * PayPal's messages in our vocabulary: what a REST answer, an IPN or a webhook says happened to a
 * payment, with the checks PayPal asks for (status first, then the amount where money moves).
 * Pure functions; the payments module applies what they return.
 */

/** What a capture or pending sale is checked against: the attempt's amount, currency and recorded sale. */
export interface Expected {
  amount: number;
  currency: string;
  saleId: string | null;
}

/** What the provider says happened to a payment, in our terms (money in minor units). */
export type PaymentOutcome =
  /** `evidence: 'caller'`: a service asserted it (payments.updateAttempt), PayPal did not: no capture is recorded. */
  | {
      kind: 'completed';
      saleId: string;
      amount: number;
      currency: string;
      payerId?: string | null;
      payerEmail?: string | null;
      payerName?: string | null;
      evidence?: 'paypal' | 'caller';
    }
  | { kind: 'pending'; saleId: string | null; reason?: string | null; amount?: number; currency?: string }
  | { kind: 'failed'; reason: string; saleId?: string | null }
  /**
   * Money back out of sale `saleId`: a refund or a reversal (chargeback). `refundTxnId`: PayPal's
   * transaction id of the refund or reversal (the IPN's txn_id, the webhook resource's id).
   */
  | { kind: 'refunded'; movement: 'refund' | 'reversal'; saleId: string; amount: number; currency: string; reason: string; refundTxnId: string | null }
  | { kind: 'reversal_canceled'; saleId: string; amount: number; currency: string; txnId: string | null };

/**
 * A notification's amount in minor units, unsigned (refunds and reversals come negative), when readable:
 * a decimal in the currency's digits, no larger than PayPal's maximum (which also keeps it inside the
 * integer amount columns).
 */
export function unsignedMinor(total: string | undefined, currencyCode: string | undefined): { amount: number; currency: string } | null {
  const currency = (currencyCode ?? '').toUpperCase();
  if (!isSupportedCurrency(currency)) return null;
  const minor = parseDecimalString(total ?? '', currency);
  return minor === null || Math.abs(minor) > maxMinorAmount(currency) ? null : { amount: Math.abs(minor), currency };
}

/** A message staff must look at, applied to nothing: its flag and what it said. */
export type Mismatch = { kind: 'mismatch'; reason: string; flag: 'amount_mismatch' | 'unreadable_amount' | 'dispute_opened' };

/** The outcome for a notification whose amount cannot be read. */
export const unreadableAmount = (total: string | undefined, currency: string | undefined): Mismatch => ({
  kind: 'mismatch',
  flag: 'unreadable_amount',
  reason: `unreadable amount ${total ?? '(none)'} ${(currency ?? '').toUpperCase() || '(none)'}`,
});
export type NotificationOutcome = PaymentOutcome | Mismatch | undefined;

/** A capture or pending sale must be for exactly what the attempt asked; `says` names the source ("IPN says $1.00"). */
export function amountMismatch(attempt: Expected, money: { amount: number; currency: string }, says: string): Mismatch | undefined {
  if (money.currency === attempt.currency && money.amount === attempt.amount) return undefined;
  return { kind: 'mismatch', flag: 'amount_mismatch', reason: `${says}, attempt expects ${moneyText(attempt.amount, attempt.currency)}` };
}

/**
 * The payer's name as PayPal gives it (first and last name, REST payer_info or IPN first_name/last_name):
 * trimmed, control characters dropped, at most 200 characters (the column); null when there is none.
 */
export function payerNameOf(first: string | null | undefined, last: string | null | undefined): string | null {
  const name = [first, last]
    .map((part) => (part ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 200);
  return name || null;
}

/** The provider's view of a payment turned into our outcome vocabulary. */
export function outcomeFromProvider(payment: ProviderPayment): PaymentOutcome | undefined {
  const sale = payment.sale;
  if (!sale) return payment.state === 'failed' ? { kind: 'failed', reason: 'payment failed at PayPal' } : undefined;
  switch (sale.state) {
    case 'completed':
    case 'refunded':
    case 'partially_refunded':
      return {
        kind: 'completed',
        saleId: sale.id,
        amount: sale.amount,
        currency: sale.currency,
        payerId: payment.payerId ?? null,
        payerEmail: payment.payerEmail ?? null,
        payerName: payment.payerName ?? null,
      };
    case 'pending':
      return { kind: 'pending', saleId: sale.id, reason: sale.reasonCode ?? null };
    case 'denied':
    case 'failed':
    case 'voided':
    case 'expired':
      return { kind: 'failed', reason: `sale ${sale.state}`, saleId: sale.id };
    default:
      return undefined;
  }
}

/** IPN statuses that move money back out of (or into) a sale already captured: their sale is parent_txn_id. */
export const IPN_MOVEMENTS = new Set(['Refunded', 'Reversed', 'Canceled_Reversal']);

/**
 * Maps an IPN's payment_status to an outcome. The status decides first: a failure needs no amount,
 * and only a capture, a pending sale or a money movement has its amount read (and checked).
 */
export function outcomeFromIpn(fields: IpnFields, attempt: Expected | undefined): NotificationOutcome {
  // A case PayPal opened on the sale (txn_id): no money has moved yet, and none does here. Staff must
  // answer it in PayPal before its deadline; a chargeback's money arrives later as a Reversed IPN.
  if (fields.txn_type === 'new_case') return attempt ? disputeOpened(fields) : undefined;
  const status = fields.payment_status ?? '';
  switch (status) {
    case 'Failed':
    case 'Denied':
    case 'Expired':
    case 'Voided':
      return attempt ? { kind: 'failed', reason: `PayPal IPN: ${status}`, saleId: fields.txn_id ?? null } : undefined;
    case 'Completed':
    case 'Pending':
    case 'Refunded':
    case 'Reversed':
    case 'Canceled_Reversal':
      break;
    default:
      return undefined;
  }
  const money = unsignedMinor(fields.mc_gross, fields.mc_currency);
  if (!money) return unreadableAmount(fields.mc_gross, fields.mc_currency);
  const { amount, currency } = money;
  const says = `IPN says ${moneyText(amount, currency)}`;
  if (status === 'Completed' || status === 'Pending') {
    if (!attempt) return undefined;
    // A negative Completed is money taken from the merchant (txn_type=adjustment: a chargeback's
    // settlement, a fee), never a payment: read unsigned it would pay the order. Flagged for staff.
    if (/^\s*-/.test(fields.mc_gross ?? '')) {
      return {
        kind: 'mismatch',
        flag: 'amount_mismatch',
        reason: `IPN says -${moneyText(amount, currency)} (${fields.txn_type ?? 'no txn_type'}${fields.reason_code ? `, ${fields.reason_code}` : ''}): money taken, not a payment; attempt expects ${moneyText(attempt.amount, attempt.currency)}`,
      };
    }
    return (
      amountMismatch(attempt, money, says) ??
      (status === 'Completed'
        ? {
            kind: 'completed',
            saleId: fields.txn_id ?? '',
            amount,
            currency,
            payerId: fields.payer_id ?? null,
            payerEmail: fields.payer_email ?? null,
            payerName: payerNameOf(fields.first_name, fields.last_name),
          }
        : { kind: 'pending', saleId: fields.txn_id ?? null, reason: fields.pending_reason ?? null })
    );
  }
  const saleId = fields.parent_txn_id || attempt?.saleId;
  if (!saleId) return undefined;
  // The refund's, reversal's or cancelled reversal's own transaction: the webhook for it names the same one.
  const txnId = fields.txn_id || null;
  if (status === 'Canceled_Reversal') return { kind: 'reversal_canceled', saleId, amount, currency, txnId };
  return {
    kind: 'refunded',
    movement: status === 'Refunded' ? 'refund' : 'reversal',
    saleId,
    amount,
    currency,
    reason: status === 'Refunded' ? 'refunded' : `reversed (${fields.reason_code ?? 'no reason given'})`,
    refundTxnId: txnId,
  };
}

/** A new_case IPN for staff: the case, its kind and reason, and the amount disputed when PayPal says it. */
function disputeOpened(fields: IpnFields): Mismatch {
  return disputeFlag({
    kind: fields.case_type,
    caseId: fields.case_id,
    saleId: fields.txn_id,
    reason: fields.reason_code,
    disputed: unsignedMinor(fields.amount ?? fields.mc_gross, fields.mc_currency),
  });
}

/**
 * The stage at which a notification says a case was opened, in one vocabulary for both channels, so
 * that PayPal's IPN and webhook about one case at one stage are one message (disputeKey). The case id
 * is one identifier in both: the IPN's case_id and the Disputes API's dispute_id (PP-D-… for both since
 * PayPal's 2015 change of case ids). The stages, as PayPal defines them:
 *  - inquiry: buyer and seller talk without PayPal (IPN case_type `dispute`, webhook stage INQUIRY);
 *  - claim: escalated for PayPal to decide (`complaint`; stage CHARGEBACK through PayPal, channel
 *    INTERNAL: "not a credit card or debit card chargeback");
 *  - chargeback: the buyer's card issuer (`chargeback`; stage CHARGEBACK, channel EXTERNAL);
 *  - the appeals, PRE_ARBITRATION and ARBITRATION (webhook only).
 * A name outside these keeps its channel in the stage: never matched across channels, so at worst a
 * case is listed twice, never hidden behind another stage's.
 */
export type DisputeStage = 'inquiry' | 'claim' | 'chargeback' | 'pre_arbitration' | 'arbitration' | `ipn-${string}` | `webhook-${string}`;

/** A Map, not an object: a case_type such as `constructor` must not find Object's own members. */
const IPN_CASE_TYPES = new Map<string, DisputeStage>([
  ['dispute', 'inquiry'],
  ['complaint', 'claim'],
  ['chargeback', 'chargeback'],
]);

export function ipnDisputeStage(caseType: string | undefined): DisputeStage {
  const type = (caseType ?? '').toLowerCase();
  return IPN_CASE_TYPES.get(type) ?? `ipn-${type}`;
}

export function webhookDisputeStage(stage: string | undefined, channel: string | undefined): DisputeStage {
  const named = (stage ?? '').toUpperCase();
  if (named === 'INQUIRY') return 'inquiry';
  if (named === 'CHARGEBACK' && channel?.toUpperCase() === 'INTERNAL') return 'claim';
  if (named === 'CHARGEBACK' && channel?.toUpperCase() === 'EXTERNAL') return 'chargeback';
  if (named === 'PRE_ARBITRATION' || named === 'ARBITRATION') return named.toLowerCase() as DisputeStage;
  return `webhook-${named.toLowerCase()}${channel ? `-${channel.toLowerCase()}` : ''}`;
}

/** The dedup key of a case's opening at a stage: the same for its IPN and its webhook (notification-inbox). */
export function disputeKey(caseId: string, stage: DisputeStage): string {
  return `dispute:${caseId}:${stage}`;
}

/** A case on a sale, as staff read it whichever channel told (IPN new_case, webhook CUSTOMER.DISPUTE.CREATED). */
function disputeFlag(from: {
  /** Opened at this stage, or moved to it from an earlier one (a webhook's CUSTOMER.DISPUTE.UPDATED). */
  escalated?: boolean;
  kind: string | undefined;
  caseId: string | undefined;
  saleId: string | undefined;
  reason: string | undefined;
  disputed: { amount: number; currency: string } | null;
}): Mismatch {
  const { disputed } = from;
  const details = [from.reason, disputed ? `${moneyText(disputed.amount, disputed.currency)} disputed` : undefined].filter(Boolean).join(', ');
  return {
    kind: 'mismatch',
    flag: 'dispute_opened',
    reason: `${from.escalated ? `PayPal moved case ${from.caseId ?? '(no case id)'} to ${from.kind || 'another stage'}` : `PayPal opened ${from.kind || 'case'} ${from.caseId ?? '(no case id)'}`} on sale ${from.saleId ?? '(none)'}${details ? ` (${details})` : ''}: answer it in PayPal`,
  };
}

/** Events whose resource is money leaving a sale (a refund or a chargeback), not the sale itself. */
export const MONEY_OUT_EVENTS = new Set(['PAYMENT.SALE.REFUNDED', 'PAYMENT.SALE.REVERSED']);

/** The sale and payment a webhook is about, whichever of its two resource shapes it has. */
export function subjectOf(event: WebhookEnvelope): { saleId: string | undefined; paymentId: string | undefined } {
  const { resource } = event;
  // A dispute's resource is the case (PP-D-…): the sale is the one it names.
  if (event.dispute) return { saleId: event.dispute.saleId, paymentId: undefined };
  return { saleId: MONEY_OUT_EVENTS.has(event.eventType) ? resource.saleId : resource.id, paymentId: resource.parentPayment };
}

/**
 * The case stage a dispute webhook tells of for the first time when nothing told it before (disputeKey):
 * its opening (CUSTOMER.DISPUTE.CREATED) or any update naming a stage (CUSTOMER.DISPUTE.UPDATED: an
 * inquiry escalated to a claim, a claim to arbitration), or undefined for any other event.
 */
export function webhookCaseStage(event: WebhookEnvelope): { caseId: string; stage: DisputeStage } | undefined {
  const { dispute, eventType } = event;
  const tells = eventType === 'CUSTOMER.DISPUTE.CREATED' || (eventType === 'CUSTOMER.DISPUTE.UPDATED' && dispute?.stage);
  return tells && dispute?.id ? { caseId: dispute.id, stage: webhookDisputeStage(dispute.stage, dispute.channel) } : undefined;
}

/**
 * A verified webhook in our outcome vocabulary: the same outcomes, and the same checks in the same order,
 * as its IPN. `firstAtStage`: no message before it told of its case at the stage it names (webhookCaseStage).
 */
export function outcomeFromWebhook(event: WebhookEnvelope, attempt: Expected | undefined, firstAtStage = false): NotificationOutcome {
  const { resource, eventType } = event;
  const saleId = subjectOf(event).saleId ?? null;
  // A case PayPal opened on the sale, or moved to a stage nothing told before (as the IPN's new_case for
  // that stage): listed for staff, nothing applied. A later update at a stage already listed needs no action.
  const { dispute } = event;
  if (dispute && firstAtStage && (eventType === 'CUSTOMER.DISPUTE.CREATED' || eventType === 'CUSTOMER.DISPUTE.UPDATED')) {
    const escalated = eventType === 'CUSTOMER.DISPUTE.UPDATED';
    // The stage in the words of the table above (a CHARGEBACK through PayPal is a claim), not PayPal's stage name.
    const kind = dispute.stage ? webhookDisputeStage(dispute.stage, dispute.channel).replace(/^webhook-/, '').replaceAll('_', '-') : undefined;
    return attempt
      ? disputeFlag({ escalated, kind, caseId: dispute.id, saleId: dispute.saleId, reason: dispute.reason, disputed: unsignedMinor(dispute.total, dispute.currency) })
      : undefined;
  }
  if (eventType === 'PAYMENT.SALE.DENIED') return attempt ? { kind: 'failed', reason: `PayPal webhook: ${eventType}`, saleId } : undefined;
  if (!['PAYMENT.SALE.COMPLETED', 'PAYMENT.SALE.PENDING', ...MONEY_OUT_EVENTS].includes(eventType)) return undefined;
  const money = unsignedMinor(resource.total, resource.currency);
  if (!money) return unreadableAmount(resource.total, resource.currency);
  const { amount, currency } = money;
  const says = `webhook says ${moneyText(amount, currency)}`;
  if (MONEY_OUT_EVENTS.has(eventType)) {
    const sale = saleId ?? attempt?.saleId;
    if (!sale) return undefined;
    const refund = eventType === 'PAYMENT.SALE.REFUNDED';
    return {
      kind: 'refunded',
      movement: refund ? 'refund' : 'reversal',
      saleId: sale,
      amount,
      currency,
      reason: refund ? 'refunded' : `reversed (${resource.reasonCode ?? 'no reason given'})`,
      // The refund's or reversal's own transaction: its IPN carries the same id as txn_id.
      refundTxnId: resource.id ?? null,
    };
  }
  if (!attempt) return undefined;
  if (eventType === 'PAYMENT.SALE.COMPLETED') return amountMismatch(attempt, money, says) ?? { kind: 'completed', saleId: saleId ?? '', amount, currency };
  return amountMismatch(attempt, money, says) ?? { kind: 'pending', saleId, reason: resource.reasonCode ?? null };
}

