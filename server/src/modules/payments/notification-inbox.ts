import { affected, firstRow, rows, sql, type EntityManager } from '../../db/sql.js';
import type { Logger } from '../../logger.js';
import type { Actor } from '../audit/audit.service.js';
import { recordPaymentEvent, type FlagKind, type NewPaymentEvent, type NotificationSource, type Processing } from './payment-events.js';
import { parkMovement } from './money-ledger.js';
import type { NotificationOutcome } from '../../paypal/outcomes.js';
import { findAttempt, type AttemptRow } from './attempt.repository.js';
import { applyPaymentOutcome, isMoneyMovement, lockSale, movementOf } from './payment-outcome.js';

/*
 * What IPNs and webhooks share once they are in the inbox (payment_event rows in `received`): reading
 * one back for its job, recording what became of it, and the exactly-once path a verified one takes.
 */

export const PAYPAL_ACTOR: Actor = { type: 'paypal', id: null };

/**
 * A notification field copied into an indexed column, as far as the column can hold it: PostgreSQL text
 * cannot hold NUL (a forged body with one must still be stored, not answered 500). raw_body keeps every byte.
 */
export function inboxColumn(value: string | null | undefined, max: number): string | null {
  return value === undefined || value === null ? null : value.replaceAll('\u0000', '').slice(0, max);
}

/**
 * A listener's whole synchronous job: store what arrived (raw bytes included) as `received` — one
 * insert — and hand its id to the queue, which sends it with the next batch. The stored row is the
 * inbox: when queueing fails or the process dies first, the recovery sweep (or the restart) re-queues it.
 */
export async function storeNotification(
  em: EntityManager,
  event: NewPaymentEvent & { source: NotificationSource },
  enqueue: (eventId: string) => Promise<void>,
  logger: Logger,
): Promise<string> {
  const eventId = await recordPaymentEvent(em, { ...event, verification: 'pending', processing: 'received' });
  // Not awaited: the answer waits only for the insert; the job goes out with the queue's next batch.
  enqueue(eventId).catch((err: unknown) => {
    logger.warn({ err, eventId, source: event.source }, 'notification stored but not queued; the sweep will pick it up');
  });
  return eventId;
}

/** The stored notification a job is about, or what became of it when it is no longer waiting. */
export async function pendingNotification(
  em: EntityManager,
  eventId: string,
  source: NotificationSource,
): Promise<{ rawBody: Buffer; payload: unknown } | Processing> {
  const event = await firstRow(
    em,
    sql<{ rawBody: Buffer | null; payload: unknown; processing: Processing }>`
      select raw_body as "rawBody", payload, processing from payment_event where id = ${eventId} and source = ${source}`,
  );
  if (!event) return 'ignored';
  if (event.processing !== 'received') return event.processing;
  if (event.rawBody === null) {
    // Written around the listener (a script, a restore): nothing to verify with PayPal or to parse.
    // Closed as such and kept, not retried: a job that throws here would be retried for ever.
    await finishNotification(em, eventId, 'not_applicable', 'ignored', 'stored without its raw body: it cannot be verified with PayPal');
    return 'ignored';
  }
  return { rawBody: Buffer.from(event.rawBody), payload: event.payload };
}

export interface FinishDetails {
  attemptId?: string;
  orderId?: string;
  dedupKey?: string;
  amount?: number | null;
  flagKind?: FlagKind;
}

/** Records what processing made of a stored notification, once: only while it is still `received`. */
export function finishNotification(
  tx: EntityManager,
  eventId: string,
  verification: 'verified' | 'invalid' | 'not_applicable',
  processing: Processing,
  outcome: string,
  details: FinishDetails = {},
): Promise<number> {
  return affected(
    tx,
    sql`update payment_event set verification = ${verification}, processing = ${processing},
          outcome = ${outcome}, flag_kind = ${details.flagKind ?? null}, attempt_id = coalesce(${details.attemptId ?? null}, attempt_id), order_id = coalesce(${details.orderId ?? null}, order_id),
          dedup_key = ${details.dedupKey ?? null}, amount = coalesce(${details.amount ?? null}, amount),
          attempts = attempts + 1, processed_at = clock_timestamp(), updated_at = now()
        where id = ${eventId} and processing = 'received'`,
  );
}

/** A notification PayPal vouched for, described in the terms every channel shares. */
export interface VerifiedNotification {
  eventId: string;
  /**
   * One per thing PayPal told us (IPN: txn and status; webhook: the event id; either: a case opened at a
   * stage): a repeat is a duplicate.
   */
  dedupKey: string;
  /** Keys the same message was stored under before its key changed: a repeat of one is a duplicate too. */
  earlierKeys?: readonly string[];
  /** What it is about, for outcome texts: "txn 9905168056260241A". */
  subject: string;
  /** Its amount (minor units, unsigned) when readable, kept on unmatched and flagged rows. */
  gross: number | null;
  /** The outcome text when it maps to nothing to do. */
  noAction: string;
  /**
   * For a refund, reversal or cancelled reversal: the sale it moves money on. Such a message is applied
   * only to the attempt holding that sale, and parked until that sale is recorded.
   */
  movementSaleId?: string | null;
  /**
   * A key this message takes instead of its own when no message holds it yet: the first word of a
   * case at a stage told by an update (webhooks.service.ts). Then `outcome` hears `firstAtStage`.
   */
  opens?: StageOpening | undefined;
  findAttempt(tx: EntityManager): Promise<AttemptRow | undefined>;
  /** Without an attempt, only what needs none (a money movement to park) is expected. */
  outcome(attempt: AttemptRow | undefined, firstAtStage: boolean): NotificationOutcome;
}

/** A key a message takes when it is the first to hold it (VerifiedNotification.opens). */
export interface StageOpening {
  key: string;
  /** Whether the message that holds the key is this one, received before (a resend is a duplicate). */
  sameMessage(rawBody: Buffer): boolean;
}

/** What becomes of a duplicate capture: refunded at once when the setting says so (sent after commit). */
export interface DuplicatePolicy {
  refundDuplicates: boolean;
  sendRefund(refundId: string): Promise<unknown>;
}

/**
 * The exactly-once path of a verified notification, in one transaction: claim the event, absorb a
 * duplicate, keep an unmatched one for reconciliation, flag a mismatch, else apply the outcome through
 * applyPaymentOutcome under the order+attempt locks, where IPNs, webhooks, return URLs and re-syncs meet.
 */
export async function applyVerifiedNotification(
  em: EntityManager,
  notification: VerifiedNotification,
  actor: Actor,
  policy: DuplicatePolicy,
  logger: Logger,
): Promise<Processing> {
  const { eventId } = notification;
  const finish = (tx: EntityManager, processing: Processing, outcome: string, details: FinishDetails = {}) =>
    finishNotification(tx, eventId, 'verified', processing, outcome, details);
  let duplicateRefundId: string | undefined;
  const processing = await em.transactional(async (tx): Promise<Processing> => {
    // Two workers holding the same event (a re-queued job) must not both act on it.
    const mine = await firstRow(tx, sql<{ processing: Processing }>`select processing from payment_event where id = ${eventId} for update`);
    if (mine?.processing !== 'received') return mine?.processing ?? 'ignored';
    // A racing duplicate that commits first makes our dedup_key write fail: the job is retried and lands here.
    const keys = [notification.dedupKey, ...(notification.earlierKeys ?? [])];
    const holder = (held: string[]) =>
      firstRow(
        tx,
        sql<{ id: string; source: string; orderId: string | null; attemptId: string | null; rawBody: Buffer | null }>`
          select id, source, order_id as "orderId", attempt_id as "attemptId", raw_body as "rawBody" from payment_event where dedup_key = any(${held}::text[]) limit 1`,
      );
    let seen = await holder(keys);
    let dedupKey = notification.dedupKey;
    let firstAtStage = false;
    if (!seen && notification.opens) {
      // The first to tell of its case at this stage takes the stage's key (a racing twin's write of it fails
      // and its job is retried here); a later message at the stage is news of its own, unless it is this one again.
      const told = await holder([notification.opens.key]);
      if (!told) [dedupKey, firstAtStage] = [notification.opens.key, true];
      else if (told.rawBody && notification.opens.sameMessage(told.rawBody)) seen = told;
    }
    if (seen) {
      // On the order of the message it repeats: an order's page lists every message PayPal sent about it.
      const owner = { ...(seen.orderId ? { orderId: seen.orderId } : {}), ...(seen.attemptId ? { attemptId: seen.attemptId } : {}) };
      await finish(tx, 'duplicate', `already processed as ${seen.source === 'ipn' ? 'IPN' : seen.source} event ${seen.id}`, owner);
      return 'duplicate';
    }
    const sale = notification.movementSaleId;
    // Taken before looking the sale up: the capture that records it takes the same lock, so one sees the other.
    if (sale) await lockSale(tx, sale);
    const attempt = sale ? await findAttempt(tx, { saleId: sale }) : await notification.findAttempt(tx);
    if (!attempt) {
      const early = sale ? notification.outcome(undefined, firstAtStage) : undefined;
      if (early && early.kind !== 'mismatch' && isMoneyMovement(early)) {
        // Shown on the order the message names (IPN invoice: our attempt id) while it waits: staff see it
        // there, and its reconciliation item links to it (found from outside: "no order"). So is its
        // repeat on the other channel.
        const named = await notification.findAttempt(tx);
        const owner = named ? { attemptId: named.id, orderId: named.orderId } : {};
        const parked = await parkMovement(tx, movementOf(early, eventId));
        if (!parked) {
          await finish(tx, 'duplicate', `transaction ${early.kind === 'refunded' ? early.refundTxnId : early.txnId} is already known`, owner);
          return 'duplicate';
        }
        await finish(tx, 'parked', `${notification.subject}: sale ${sale} is not recorded yet; applied when it is`, { dedupKey, amount: notification.gross, ...owner });
        return 'parked';
      }
      if (early?.kind === 'mismatch') {
        await finish(tx, 'flagged', early.reason, { dedupKey, amount: notification.gross, flagKind: early.flag });
        return 'flagged';
      }
      await finish(tx, 'unmatched', `no attempt matches ${notification.subject}; kept for reconciliation`, { dedupKey, amount: notification.gross });
      return 'unmatched';
    }
    const linked = { attemptId: attempt.id, orderId: attempt.orderId, dedupKey };
    const outcome = notification.outcome(attempt, firstAtStage);
    if (!outcome) {
      await finish(tx, 'ignored', notification.noAction, linked);
      return 'ignored';
    }
    if (outcome.kind === 'mismatch') {
      await finish(tx, 'flagged', outcome.reason, { ...linked, amount: notification.gross, flagKind: outcome.flag });
      return 'flagged';
    }
    const applied = await applyPaymentOutcome(tx, attempt.id, outcome, actor, { eventId, refundDuplicates: policy.refundDuplicates });
    duplicateRefundId = applied.duplicateRefundId;
    const processing: Processing = applied.result === 'flagged' ? 'flagged' : applied.result === 'parked' ? 'parked' : 'processed';
    await finish(tx, processing, applied.message, {
      ...linked,
      amount: 'amount' in outcome && typeof outcome.amount === 'number' ? outcome.amount : null,
      ...(applied.flag ? { flagKind: applied.flag } : {}),
    });
    return processing;
  });
  if (duplicateRefundId) await sendDuplicateRefund(policy, duplicateRefundId, logger);
  return processing;
}

/** Best effort once committed: a refund PayPal cannot take now stays requested, and the payments sweep sends it. */
export async function sendDuplicateRefund(policy: DuplicatePolicy, refundId: string, logger: Logger): Promise<void> {
  try {
    await policy.sendRefund(refundId);
  } catch (err) {
    logger.warn({ refundId, error: (err as Error).message }, 'duplicate payment: automatic refund not sent yet; the payments sweep retries it');
  }
}

/** Notifications stored but never processed (a crash between the 200 and the queue), oldest first. */
export async function strandedNotifications(em: EntityManager, source: NotificationSource, olderThanSeconds: number): Promise<string[]> {
  const stranded = await rows(
    em,
    sql<{ id: string }>`select id from payment_event where source = ${source} and processing = 'received'
                         and created_at < now() - make_interval(secs => ${olderThanSeconds}) order by created_at limit 1000`,
  );
  return stranded.map((row) => row.id);
}
