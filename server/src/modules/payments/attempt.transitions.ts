import type { AttemptStatus } from '@orders/shared';
import { affected, firstRow, sql, type EntityManager } from '../../db/sql.js';
import { conflict } from '../../errors.js';
import { ATTEMPT_COLUMNS, type AttemptRow } from './attempt.repository.js';

/*
 * The only writer of order_payment_attempt.status. Every change is checked against the state table:
 * a conditional update lets the database refuse a transition that a concurrent writer made illegal.
 */
/**
 * Payment attempt transitions. `succeeded` is reachable even from failed, cancelled or expired:
 * when PayPal confirms a completed sale, the money is real and must be recorded (the one-success
 * unique index still guards the order). Nothing leaves `succeeded`.
 */
export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  created: ['approved', 'succeeded', 'failed', 'cancelled', 'expired'],
  approved: ['succeeded', 'failed', 'cancelled', 'expired'],
  failed: ['succeeded'],
  cancelled: ['succeeded'],
  expired: ['succeeded'],
  succeeded: [],
};

export const OPEN_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['created', 'approved'];

export function attemptCanBecome(from: AttemptStatus, to: AttemptStatus): boolean {
  return ATTEMPT_TRANSITIONS[from].includes(to);
}

/** Statuses from which an attempt may become `to`: what a conditional update's `where status in (…)` needs. */
export function attemptSourcesOf(to: AttemptStatus): AttemptStatus[] {
  return (Object.keys(ATTEMPT_TRANSITIONS) as AttemptStatus[]).filter((from) => attemptCanBecome(from, to));
}

/**
 * Records what PayPal said on an attempt (its sale, the payer) and, with `status`, moves it — only along
 * the state table. Clears an execution claim: PayPal has answered. Inside the transaction holding its lock.
 * The payer of the attempt that succeeded is also the order's (order.payer_email / payer_name, which the
 * back office lists and searches), in the same statement.
 */
export async function changeAttempt(
  em: EntityManager,
  attemptId: string,
  changes: {
    status?: AttemptStatus;
    saleId?: string | null;
    saleState?: string | null;
    failureReason?: string | null;
    payerId?: string | null;
    payerEmail?: string | null;
    payerName?: string | null;
  },
): Promise<AttemptRow> {
  const row = await firstRow(
    em,
    sql<AttemptRow>`
      with changed as (
      update order_payment_attempt a set
        status = coalesce(${changes.status ?? null}, a.status),
        sale_id = coalesce(${changes.saleId ?? null}, a.sale_id),
        sale_state = coalesce(${changes.saleState ?? null}, a.sale_state),
        failure_reason = coalesce(${changes.failureReason ?? null}, a.failure_reason),
        payer_id = coalesce(${changes.payerId ?? null}, a.payer_id),
        payer_email = coalesce(${changes.payerEmail ?? null}, a.payer_email),
        payer_name = coalesce(${changes.payerName ?? null}, a.payer_name),
        succeeded_at = case when ${changes.status ?? null}::text = 'succeeded' then now() else a.succeeded_at end,
        execute_started_at = null,
        updated_at = now()
      where a.id = ${attemptId}
        ${changes.status ? sql`and (a.status = ${changes.status} or a.status = any(${attemptSourcesOf(changes.status)}::text[]))` : sql``}
      returning ${ATTEMPT_COLUMNS}, a.payer_email as "payerEmail", a.payer_name as "payerName"
      ), payer as (
        update "order" o set payer_email = changed."payerEmail", payer_name = changed."payerName"
          from changed
         where changed.status = 'succeeded' and o.id = changed."orderId"
           and (changed."payerEmail" is not null or changed."payerName" is not null)
           and (o.payer_email is distinct from changed."payerEmail" or o.payer_name is distinct from changed."payerName")
      )
      select * from changed`,
  );
  if (!row) throw conflict(`attempt ${attemptId} cannot become ${changes.status}`);
  return row;
}

/**
 * Moves one attempt to `to` if the table allows it from where it is now; false when it was not in a
 * status that may become `to` (someone else moved it first).
 */
export async function transitionAttempt(em: EntityManager, attemptId: string, to: AttemptStatus, reason: string | null = null): Promise<boolean> {
  if (attemptSourcesOf(to).length === 0) return false;
  const changed = await affected(
    em,
    sql`update order_payment_attempt set status = ${to}, failure_reason = coalesce(${reason}, failure_reason),
          succeeded_at = case when ${to}::text = 'succeeded' then now() else succeeded_at end, updated_at = now()
        where id = ${attemptId} and status in (${sql.join(attemptSourcesOf(to))})`,
  );
  return changed > 0;
}

/** Ends every open attempt of an order (a newer attempt supersedes them, or the order was cancelled). */
export function cancelOpenAttempts(em: EntityManager, orderId: string, reason: string): Promise<number> {
  return affected(em, cancelOpenAttemptsStatement(orderId, reason));
}

/** The update cancelOpenAttempts runs, for a statement that writes more in the same go (a data-modifying CTE). */
export function cancelOpenAttemptsStatement(orderId: string, reason: string) {
  return sql`update order_payment_attempt set status = 'cancelled', failure_reason = ${reason}, updated_at = now()
              where order_id = ${orderId} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})`;
}

/**
 * The buyer cancelled at PayPal: this attempt ends if it was still open and nothing can be charged on
 * it any more. Not while its execution was started (PayPal may be capturing it; a lost execution is
 * asked about before anything supersedes it) nor once PayPal holds a sale for it (pending): cancelled,
 * it let the buyer pay again, and both sales were captured (found from outside with the cancel URL).
 */
export async function cancelAttempt(em: EntityManager, attemptId: string, reason: string): Promise<boolean> {
  const changed = await affected(
    em,
    sql`update order_payment_attempt set status = 'cancelled', failure_reason = ${reason}, updated_at = now()
         where id = ${attemptId} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})
           and execute_started_at is null and sale_id is null and coalesce(sale_state, '') <> 'pending'`,
  );
  return changed > 0;
}

/** Attempts nobody finished (the buyer never came back) stop counting as open after `olderThanMinutes`. */
export function expireStaleAttempts(em: EntityManager, olderThanMinutes: number): Promise<number> {
  return affected(
    em,
    sql`update order_payment_attempt set status = 'expired', failure_reason = 'no answer from the buyer in time', updated_at = now()
         where status in (${sql.join([...OPEN_ATTEMPT_STATUSES])}) and coalesce(sale_state, '') <> 'pending'
           and updated_at < now() - make_interval(mins => ${olderThanMinutes})`,
  );
}

/** A refused transition as the caller sees it. */
export function assertAttemptCanBecome(from: AttemptStatus, to: AttemptStatus): void {
  if (!attemptCanBecome(from, to)) throw conflict(`attempt is ${from}; it cannot become ${to}`);
}
