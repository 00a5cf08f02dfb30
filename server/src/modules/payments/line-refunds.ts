import type { BackofficeOrderLine, Currency, RefundLinesResult } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, db, firstRow, rows, sql, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { findOrder } from '../orders/order.repository.js';

/*
 * Line refunds: which paid lines (order_line, the frozen snapshot) a refund covers, and putting their
 * units back in stock once — when the refund row completes, whichever path completes it.
 */

/** A paid line and what line refunds took from it: completed ones, and ones still waiting for PayPal. */
export async function paidLineStates(em: EntityManager, orderId: string): Promise<(BackofficeOrderLine & { id: string })[]> {
  const lines = await db(em)
    .selectFrom('order_line as l')
    .leftJoin('order_refund_line as rl', 'rl.order_line_id', 'l.id')
    .leftJoin('order_refund as r', 'r.id', 'rl.refund_id')
    .select(['l.id', 'l.sku', 'l.name', 'l.unit_price as unitPrice', 'l.quantity', 'l.line_total as lineTotal', 'l.currency'])
    .select([
      sql<number>`coalesce(sum(rl.quantity) filter (where r.status = 'completed'), 0)::int`.as('refundedQuantity'),
      sql<number>`coalesce(sum(rl.amount) filter (where r.status = 'completed'), 0)::int`.as('refundedAmount'),
      sql<number>`coalesce(sum(rl.quantity) filter (where r.status = 'requested'), 0)::int`.as('pendingRefundQuantity'),
      sql<number>`coalesce(sum(rl.quantity) filter (where rl.restocked_at is not null), 0)::int`.as('restockedQuantity'),
    ])
    .where('l.order_id', '=', orderId)
    .groupBy('l.id')
    .orderBy('l.sku')
    .$narrowType<{ currency: Currency }>()
    .execute();
  return lines;
}

export interface ChosenLine {
  sku: string;
  quantity: number;
}

export interface PricedLine {
  orderLineId: string;
  sku: string;
  quantity: number;
  /** The paid unit price × quantity. */
  amount: number;
  currency: string;
}

/**
 * Prices the chosen lines from the paid snapshot, refusing a sku that is not a paid line or a quantity
 * beyond what is left of it (paid, less refunded, less held by refunds waiting for PayPal). Under the
 * order's lock, so two refunds of the same line cannot both pass.
 */
export async function priceChosenLines(em: EntityManager, orderId: string, chosen: ChosenLine[]): Promise<PricedLine[]> {
  const paid = await paidLineStates(em, orderId);
  if (paid.length === 0) throw conflict('the order has no paid lines to refund');
  return chosen.map((choice, index) => {
    const line = paid.find((l) => l.sku === choice.sku);
    if (!line) throw badRequest(`lines.${index}.sku: ${choice.sku} is not a paid line of this order`, `lines.${index}.sku`);
    const left = line.quantity - line.refundedQuantity - line.pendingRefundQuantity;
    if (choice.quantity > left) {
      throw badRequest(
        `lines.${index}.quantity: ${left === 0 ? `nothing of ${line.sku} is left to refund` : `at most ${left} of ${line.sku} can still be refunded`} (${line.quantity} paid)`,
        `lines.${index}.quantity`,
      );
    }
    return { orderLineId: line.id, sku: line.sku, quantity: choice.quantity, amount: line.unitPrice * choice.quantity, currency: line.currency };
  });
}

/** Records which lines a refund row covers, in the transaction that creates the row. */
export async function recordRefundLines(em: EntityManager, refund: { id: string; orderId: string; restock: boolean }, lines: PricedLine[]): Promise<void> {
  for (const line of lines) {
    await affected(
      em,
      sql`insert into order_refund_line (id, created_at, updated_at, refund_id, order_id, order_line_id, sku, quantity, amount, currency, restock)
          values (${newId()}, now(), now(), ${refund.id}, ${refund.orderId}, ${line.orderLineId}, ${line.sku}, ${line.quantity}, ${line.amount},
                  ${line.currency}, ${refund.restock})`,
    );
  }
}

export interface CompletedRefundLines {
  lines: { sku: string; quantity: number; amount: number }[];
  restock: boolean;
  /** Units put back now (empty when not asked, or already done). */
  restockedNow: { sku: string; quantity: number }[];
}

/**
 * The refund completed: its lines' units go back in stock if it asked so, exactly once — the claim on
 * `restocked_at` is a conditional update, so a second completion path (the sweep, a late answer)
 * finds nothing left to put back. Products are locked in sku order, as stock reservations lock them.
 * Undefined when the refund covered no lines (a refund by amount).
 */
export async function completeRefundLines(em: EntityManager, refundId: string): Promise<CompletedRefundLines | undefined> {
  const lines = await rows(
    em,
    sql<{ sku: string; quantity: number; amount: number; restock: boolean }>`
      select sku, quantity, amount, restock from order_refund_line where refund_id = ${refundId} order by sku`,
  );
  if (lines.length === 0) return undefined;
  await rows(em, sql`select 1 from product where sku in (${sql.join(lines.map((l) => l.sku))}) order by sku for update`);
  const restockedNow = await rows(
    em,
    sql<{ sku: string; quantity: number }>`
      update order_refund_line set restocked_at = now(), updated_at = now()
       where refund_id = ${refundId} and restock and restocked_at is null
      returning sku, quantity`,
  );
  for (const line of restockedNow) {
    await affected(em, sql`update product set stock = stock + ${line.quantity}, updated_at = now() where sku = ${line.sku}`);
  }
  return { lines: lines.map(({ sku, quantity, amount }) => ({ sku, quantity, amount })), restock: lines.some((l) => l.restock), restockedNow };
}

/**
 * A line refund already made with this client key (a double click, a retry after a lost answer): its id
 * when completed, so the caller gets that refund's result and nothing is refunded twice. Under the
 * order's lock, so a second call waits for the first one's row.
 */
export async function earlierLineRefund(tx: EntityManager, orderId: string, requestKey: string): Promise<string | undefined> {
  if (!(await findOrder(tx, orderId, { lock: true }))) throw notFound('order');
  const earlier = await firstRow(
    tx,
    sql<{ id: string; orderId: string; status: string; failureReason: string | null }>`
      select id, order_id as "orderId", status, failure_reason as "failureReason" from order_refund where request_key = ${requestKey}`,
  );
  if (!earlier) return undefined;
  if (earlier.orderId !== orderId) throw badRequest('requestKey: already used for a refund of another order', 'requestKey');
  if (earlier.status === 'requested') throw conflict('this refund (same requestKey) is already under way with PayPal');
  if (earlier.status === 'failed') throw conflict(`this refund (same requestKey) failed: ${earlier.failureReason ?? 'PayPal refused it'}`);
  return earlier.id;
}

/** A completed line refund's result, as refundLines answered it the first time. */
export async function lineRefundResult(em: EntityManager, refundId: string): Promise<RefundLinesResult> {
  const refund = await firstRow(
    em,
    sql<{ orderId: string; providerRefundId: string; amount: number; currency: Currency }>`
      select order_id as "orderId", provider_refund_id as "providerRefundId", amount, currency from order_refund where id = ${refundId}`,
  );
  const order = (await findOrder(em, refund!.orderId))!;
  return {
    orderId: order.id,
    status: order.status,
    refundedAmount: order.refundedAmount,
    refundId,
    providerRefundId: refund!.providerRefundId,
    amount: refund!.amount,
    currency: refund!.currency,
    ...(await coveredLines(em, refundId)),
  };
}

/** What a line refund covered, and whether its units are back in stock (when it asked for that). */
export async function coveredLines(em: EntityManager, refundId: string): Promise<Pick<RefundLinesResult, 'lines' | 'restocked'>> {
  const covered = await rows(
    em,
    sql<{ sku: string; quantity: number; amount: number; restock: boolean; restocked: boolean }>`
      select sku, quantity, amount, restock, restocked_at is not null as restocked from order_refund_line where refund_id = ${refundId} order by sku`,
  );
  return {
    lines: covered.map(({ sku, quantity, amount }) => ({ sku, quantity, amount })),
    restocked: covered.some((line) => line.restock) && covered.every((line) => !line.restock || line.restocked),
  };
}
