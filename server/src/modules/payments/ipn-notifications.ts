import { createHash } from 'node:crypto';
import { parseIpn, verifyIpn, type IpnFields } from '../../paypal/ipn/ipn-message.js';
import { IPN_MOVEMENTS, disputeKey, ipnDisputeStage, outcomeFromIpn, unsignedMinor } from '../../paypal/outcomes.js';
import { isUuid } from '../../ids.js';
import { findAttempt } from './attempt.repository.js';
import {
  PAYPAL_ACTOR,
  applyVerifiedNotification,
  finishNotification,
  inboxColumn,
  pendingNotification,
  storeNotification,
  strandedNotifications,
} from './notification-inbox.js';
import type { Processing } from './payment-events.js';
import type { PaymentsDeps } from './payments.deps.js';

/** PayPal's IPNs: stored raw by the listener, verified by postback and applied by a job. */

/** payment_event.dedup_key's length. */
const DEDUP_KEY_LENGTH = 200;

/**
 * What makes an IPN "the same message again": its transaction and status (a sale's Completed, a
 * refund's Refunded, each txn_id once per status). A case PayPal opened (`new_case`: the disputed
 * sale's txn_id, no payment_status) is its case and stage, the key its webhook has too (disputeKey):
 * two cases on one sale are two messages, one case told by IPN and webhook is one. A payment status
 * keeps its key whether or not a case_id rides along (a chargeback's Reversed may carry one): keys
 * stored before cases were keyed still match PayPal's resends. A message with
 * neither a txn_id nor a payment_status (subscr_signup, subscr_cancel, recurring_payment_profile_created)
 * is itself: its fields, PayPal's `resend` marker left out. A key past the column's length is hashed:
 * it made the job fail on every retry, for ever.
 */
export function ipnDedupKey(fields: IpnFields): string {
  const txnId = fields.txn_id ?? '';
  const status = fields.payment_status ?? '';
  let key = `ipn:${txnId}:${status}`;
  // A case's opening: keyed as its webhook is (disputeKey), so the second channel to tell it is a duplicate.
  if (openedCase(fields)) key = disputeKey(fields.case_id!, ipnDisputeStage(fields.case_type));
  else if (fields.case_id && !status) key += `:case:${fields.case_id}:${fields.case_type ?? ''}`;
  else if (!txnId && !status) {
    const message = Object.entries(fields)
      .filter(([name]) => name !== 'resend')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    key = `ipn:message:${createHash('sha256').update(JSON.stringify(message)).digest('hex')}`;
  }
  return fitted(key);
}

/** `key`, or its hash when it is longer than the column holds. */
function fitted(key: string): string {
  return key.length <= DEDUP_KEY_LENGTH ? key : `ipn:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A new_case IPN naming its case: PayPal opened a dispute (outcomeFromIpn). */
function openedCase(fields: IpnFields): boolean {
  return fields.txn_type === 'new_case' && !!fields.case_id && !fields.payment_status;
}

/**
 * The keys an IPN was stored under before its key changed: a resend of one processed then is still a
 * duplicate. A case's opening was keyed by its transaction and case type before disputeKey.
 */
export function earlierIpnKeys(fields: IpnFields): string[] {
  if (!openedCase(fields)) return [];
  return [fitted(`ipn:${fields.txn_id ?? ''}::case:${fields.case_id}:${fields.case_type ?? ''}`)];
}

/**
 * An adjustment PayPal makes on our account (txn_type=adjustment: a chargeback's settlement, a fee) is
 * money we pay, so it names no receiver: our account is its payer (payer_email), and parent_txn_id the
 * sale it is about. Seen in production: `txn_type=adjustment&payment_status=Completed&mc_gross=-225.00
 * &reason_code=chargeback_settlement&payer_email=<the merchant>&parent_txn_id=…`, no receiver_email or
 * business. It was flagged "receiver (none) is not ours" and never reached its order.
 */
export function isOurAdjustment(fields: IpnFields, ours: string): boolean {
  const named = fields.receiver_email ?? fields.business;
  return !named && fields.txn_type === 'adjustment' && (fields.payer_email ?? '').toLowerCase() === ours && !!fields.parent_txn_id;
}

/** The IPN listener's whole synchronous job: store the exact bytes, queue the work. */
export async function receiveIpn(deps: PaymentsDeps, raw: Buffer): Promise<string> {
  const fields = parseIpn(raw);
  return storeNotification(
    deps.orm.em.fork(),
    {
      source: 'ipn',
      txnId: inboxColumn(fields.txn_id, 64),
      parentTxnId: inboxColumn(fields.parent_txn_id, 64),
      providerStatus: inboxColumn(fields.payment_status, 64),
      currency: inboxColumn(fields.mc_currency, 3),
      rawBody: raw,
    },
    (eventId) => deps.queue.enqueueIpn(eventId),
    deps.logger,
  );
}

/**
 * The IPN job: verify by postback, run PayPal's checklist, apply through the exactly-once path.
 * Throws only for temporary trouble (verification unreachable), so the queue retries with backoff.
 */
export async function processIpn(deps: PaymentsDeps, eventId: string): Promise<Processing> {
  const em = deps.orm.em.fork();
  const event = await pendingNotification(em, eventId, 'ipn');
  if (typeof event === 'string') return event;
  const verdict = await verifyIpn(deps.config.ipnVerifyUrl, event.rawBody, deps.config.ipnVerifyTimeoutMs);
  if (verdict === 'INVALID') {
    await finishNotification(em, eventId, 'invalid', 'ignored', 'PayPal answered INVALID: not from PayPal or altered');
    return 'ignored';
  }
  const fields = parseIpn(event.rawBody);
  const receiver = (fields.receiver_email ?? fields.business ?? '').toLowerCase();
  if (receiver !== deps.config.receiverEmail && !isOurAdjustment(fields, deps.config.receiverEmail)) {
    await finishNotification(em, eventId, 'verified', 'flagged', `receiver ${receiver || '(none)'} is not ours`, { flagKind: 'receiver_mismatch' });
    return 'flagged';
  }
  const txnId = fields.txn_id ?? '';
  const status = fields.payment_status ?? '';
  // Refunds and reversals carry a new txn_id; the original sale is parent_txn_id.
  const saleId = fields.parent_txn_id || txnId;
  return applyVerifiedNotification(
    em,
    {
      eventId,
      dedupKey: ipnDedupKey(fields),
      earlierKeys: earlierIpnKeys(fields),
      subject: `txn ${txnId || '(none)'}`,
      gross: unsignedMinor(fields.mc_gross, fields.mc_currency)?.amount ?? null,
      noAction: `payment_status ${status || '(none)'} needs no action`,
      movementSaleId: IPN_MOVEMENTS.has(status) ? fields.parent_txn_id || null : null,
      findAttempt: async (tx) =>
        (saleId ? await findAttempt(tx, { saleId }) : undefined) ??
        (fields.invoice && isUuid(fields.invoice) ? await findAttempt(tx, { id: fields.invoice }) : undefined),
      outcome: (attempt) => outcomeFromIpn(fields, attempt),
    },
    PAYPAL_ACTOR,
    deps.duplicates,
    deps.logger,
  );
}

/** IPNs stored but never processed (a crash between the 200 and the queue): queue them again. */
export async function requeueStrandedIpns(deps: PaymentsDeps, olderThanSeconds = 30, round?: string): Promise<number> {
  const stranded = await strandedNotifications(deps.orm.em.fork(), 'ipn', olderThanSeconds);
  // Together: the sweep's re-queues share one batch (a restart's round ones go out one by one).
  await Promise.all(stranded.map((id) => deps.queue.enqueueIpn(id, round)));
  return stranded.length;
}
