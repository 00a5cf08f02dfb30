import type { AttemptStatus, Currency } from '@orders/shared';
import type { Selectable } from 'kysely';
import { db, firstRow, sql, type Database, type EntityManager } from '../../db/sql.js';
import { notFound } from '../../errors.js';
import { ORDER_COLUMNS, type OrderRow } from '../orders/order.repository.js';

/** Payment attempts as the payments module reads them; the status is written only by attempt.transitions.ts. */
/** An attempt's columns under the names the code uses, checked against the entity by the typed builder. */
const ATTEMPT_SELECTION = [
  'a.id',
  'a.order_id as orderId',
  'a.status',
  'a.amount',
  'a.currency',
  'a.external_id as externalId',
  'a.sale_id as saleId',
  'a.sale_state as saleState',
  'a.approval_url as approvalUrl',
  'a.return_url as returnUrl',
  'a.cancel_url as cancelUrl',
  'a.payer_id as payerId',
  'a.failure_reason as failureReason',
  'a.created_at as createdAt',
] as const;

function selectAttempts(em: EntityManager) {
  return db(em).selectFrom('order_payment_attempt as a').select(ATTEMPT_SELECTION).$narrowType<{ status: AttemptStatus; currency: Currency }>();
}

type AttemptTable = Selectable<Database['order_payment_attempt']>;

/**
 * An attempt as selectAttempts reads it, written out (its inferred type is too long for the client
 * package's bundled declarations); findAttempt's return type checks the two agree.
 */
export interface AttemptRow {
  id: AttemptTable['id'];
  orderId: AttemptTable['order_id'];
  status: AttemptStatus;
  amount: AttemptTable['amount'];
  currency: Currency;
  externalId: AttemptTable['external_id'];
  saleId: AttemptTable['sale_id'];
  saleState: AttemptTable['sale_state'];
  approvalUrl: AttemptTable['approval_url'];
  returnUrl: AttemptTable['return_url'];
  cancelUrl: AttemptTable['cancel_url'];
  payerId: AttemptTable['payer_id'];
  /** Why an attempt ended (cancelled by the buyer, superseded, expired, declined); null while open. */
  failureReason: AttemptTable['failure_reason'];
  createdAt: AttemptTable['created_at'];
}

/** The same columns for the statements that decide races (row locks, conditional updates): `returning ${ATTEMPT_COLUMNS}`. */
export const ATTEMPT_COLUMNS = sql`a.id, a.order_id as "orderId", a.status, a.amount, a.currency, a.external_id as "externalId",
  a.sale_id as "saleId", a.sale_state as "saleState", a.approval_url as "approvalUrl", a.return_url as "returnUrl",
  a.cancel_url as "cancelUrl", a.payer_id as "payerId", a.failure_reason as "failureReason", a.created_at as "createdAt"`;

/** The attempt with this id, PayPal payment id or sale id. */
export async function findAttempt(em: EntityManager, where: { id?: string; externalId?: string; saleId?: string }): Promise<AttemptRow | undefined> {
  const query = selectAttempts(em);
  if (where.id) return query.where('a.id', '=', where.id).executeTakeFirst();
  if (where.externalId) return query.where('a.external_id', '=', where.externalId).executeTakeFirst();
  if (where.saleId) return query.where('a.sale_id', '=', where.saleId).executeTakeFirst();
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

/** The attempt as it is now, inside the caller's transaction. */
export async function refreshedAttempt(em: EntityManager, attemptId: string): Promise<AttemptRow> {
  return (await findAttempt(em, { id: attemptId }))!;
}
