import { maxMinorAmount, type Currency, type Customer, type OrderStatus } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, rows, sql, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { MAX_AMOUNTS, type CartLineDto } from '../carts/carts.service.js';
import { returnedOf, saleBalance } from '../payments/money-ledger.js';
import { ORDER_COLUMNS, findOrder, type OrderRow } from './order.repository.js';
import { cartFromItems, cartLinesOf, checkOutCart, itemLines, type CreateVerdict } from './order-intake.sql.js';
import { PAID_STATUSES, assertTransition, sourcesOf } from './order-state.js';

/*
 * The only writer of "order".status (and of the stock an order holds). Each transition checks the
 * state table in order-state.ts, writes the change and its audit entry in the caller's transaction.
 */

/** Where a new order's lines come from: the customer's cart, or items that become a checked-out cart in the same statement. */
export type NewOrderSource = { cartId: string } | { items: readonly { sku: string; quantity: number }[] };

/**
 * The one way an order is created (status `pending`, its stock reserved), in one statement: the cart
 * locked (ownership checked), the products locked in sku order (two checkouts never deadlock), every
 * rule checked, then — only when all hold — prices quoted onto the lines, stock decremented, the cart
 * checked out, the order inserted (its trigger sends the live update) and the audit entry written.
 * When a rule fails nothing is written and the first failing rule is the error, as before: NOT_FOUND,
 * CONFLICT (checked out, mixed currencies, out of stock), BAD_REQUEST (empty, total too large, unknown sku).
 *
 * One statement sees one snapshot, taken before it waited for the cart lock; a change another
 * transaction committed to the cart meanwhile (setItem touches the cart row) shows as a different
 * row version under the lock, and then the statement changed nothing and runs again.
 */
export async function createPendingOrder(
  em: EntityManager,
  customer: Customer,
  source: NewOrderSource,
  actor: Actor,
  display: { customerEmail?: string | undefined; customerName?: string | undefined } = {},
): Promise<{ order: OrderRow; lines: CartLineDto[] }> {
  const fromCart = 'cartId' in source;
  const cartId = fromCart ? source.cartId : newId();
  for (let round = 0; round < 5; round++) {
    const result = await firstRow(
      em,
      sql<CreateVerdict & (OrderRow | { [K in keyof OrderRow]: null })>`
        with ${fromCart ? cartLinesOf(customer, cartId) : itemLines('items' in source ? source.items : [])},
        verdict as materialized (
          select count(*)::int as line_count, count(distinct currency)::int as currencies, min(currency) as currency,
                 coalesce(sum(unit_price::bigint * quantity), 0)::text as quoted_total,
                 array_agg(sku order by sku) filter (where stock < quantity) as short,
                 json_agg(json_build_object('sku', sku, 'name', name, 'quantity', quantity, 'unitPrice', unit_price,
                          'lineTotal', unit_price::bigint * quantity, 'currency', currency) order by sku) as lines
            from lines),
        ok as materialized (
          select v.currency, v.quoted_total::bigint as total from verdict v, cart_state s
           where s.found and not s.checked_out and not s.moved and s.unknown_item is null
             and v.line_count > 0 and v.currencies = 1 and v.short is null
             and v.quoted_total::bigint <= (${MAX_AMOUNTS}::jsonb ->> v.currency)::bigint),
        ${fromCart ? checkOutCart(cartId) : cartFromItems(customer, cartId)},
        reserved as (
          update product p set stock = p.stock - w.quantity, updated_at = now()
            from lines w where p.sku = w.sku and exists (select from ok)),
        created as (
          insert into "order" as o (id, created_at, updated_at, customer_type, customer_id, customer_email, customer_name, cart_id,
                                    status, total, currency, refunded_amount, stock_reserved)
          select ${newId()}, clock_timestamp(), clock_timestamp(), ${customer.type}, ${customer.id}, ${display.customerEmail ?? null},
                 ${display.customerName ?? null}, ${cartId}, 'pending', ok.total, ok.currency, 0, true
            from ok
          returning ${ORDER_COLUMNS}),
        audited as (
          insert into audit_entry (id, created_at, updated_at, actor_type, actor_id, action, order_id, before, after, reason)
          select ${newId()}, now(), now(), ${actor.type}, ${actor.id}, 'order.created', created.id, null,
                 jsonb_build_object('status', 'pending', 'total', created.total, 'currency', created.currency), null
            from created)
        select s.found, s.checked_out as "checkedOut", s.moved, s.unknown_item as "unknownItem",
               v.line_count as "lineCount", v.currencies, v.currency as "quotedCurrency", v.quoted_total as "quotedTotal", v.short, v.lines, created.*
          from cart_state s cross join verdict v left join created on true`,
    );
    const verdict = result!;
    if (verdict.moved) continue;
    if (!verdict.found) throw notFound('cart');
    if (verdict.checkedOut) throw conflict('cart is already checked out');
    if (verdict.unknownItem !== null && 'items' in source) {
      const index = verdict.unknownItem;
      throw badRequest(`items.${index}.sku: no product ${source.items[index]!.sku}`, `items.${index}.sku`);
    }
    if (verdict.lineCount === 0) throw badRequest('cart is empty', 'cartId');
    // Named like any other refusal of the input (a service read "cart mixes currencies" with no field).
    if (verdict.currencies > 1) {
      throw conflict(fromCart ? 'cart mixes currencies: an order is in one currency' : 'items are in more than one currency: an order is in one', fromCart ? 'cartId' : 'items');
    }
    if (Number(verdict.quotedTotal) > maxMinorAmount(verdict.quotedCurrency!)) {
      throw badRequest(`order total exceeds what PayPal accepts in ${verdict.quotedCurrency}`, fromCart ? 'cartId' : 'items');
    }
    if (verdict.short) throw conflict(`out of stock: ${verdict.short.join(', ')}`);
    if (!verdict.id) throw new Error('order not created although every rule held');
    const lines = typeof verdict.lines === 'string' ? (JSON.parse(verdict.lines) as CartLineDto[]) : (verdict.lines ?? []);
    const { found: _f, checkedOut: _c, moved: _m, unknownItem: _u, lineCount: _n, currencies: _cs, quotedCurrency: _q, quotedTotal: _t, short: _s, lines: _l, ...order } = verdict;
    return { order: order as OrderRow, lines };
  }
  throw conflict('the cart kept changing while the order was being created; try again');
}

/**
 * Takes stock for every line of the cart, or for none: rows are locked in sku order (so two
 * checkouts never deadlock), then decremented only where enough remains.
 * Returns the skus that were short; empty means reserved.
 */
export async function reserveStock(em: EntityManager, cartId: string): Promise<string[]> {
  const wanted = await rows(
    em,
    sql<{ sku: string; quantity: number; stock: number }>`
      select p.sku, l.quantity, p.stock from cart_line l join product p on p.sku = l.sku
       where l.cart_id = ${cartId} order by p.sku for update of p`,
  );
  const short = wanted.filter((w) => w.stock < w.quantity).map((w) => w.sku);
  if (short.length > 0) return short;
  await affected(
    em,
    sql`update product p set stock = p.stock - l.quantity, updated_at = now()
          from cart_line l where l.cart_id = ${cartId} and p.sku = l.sku`,
  );
  return [];
}

async function releaseStock(em: EntityManager, order: OrderRow): Promise<void> {
  if (!order.stockReserved) return;
  await affected(
    em,
    sql`update product p set stock = p.stock + l.quantity, updated_at = now()
          from cart_line l where l.cart_id = ${order.cartId} and p.sku = l.sku`,
  );
  await affected(em, sql`update "order" set stock_reserved = false where id = ${order.id}`);
}

export interface OrderTransition {
  /** False when the order already was where the call would take it (already paid, already failed or cancelled): nothing changed. */
  changed: boolean;
  order: OrderRow;
}

/**
 * The one way an order becomes paid. A conditional update decides who wins when the return URL,
 * IPNs and staff race; the winner freezes the snapshot and writes the audit entry, everyone else
 * sees `changed: false`. Must run inside a transaction.
 */
export async function transitionToPaid(
  em: EntityManager,
  orderId: string,
  options: { actor: Actor; saleId?: string | null; paymentStatus?: string; reason?: string },
): Promise<OrderTransition> {
  const won = await firstRow(
    em,
    sql<OrderRow & { previousStatus: OrderStatus }>`
      update "order" o set status = 'paid', paid_at = now(), updated_at = now(),
             payment_transaction_id = coalesce(${options.saleId ?? null}, o.payment_transaction_id),
             payment_status = ${options.paymentStatus ?? 'completed'}
        from (select id, status from "order" where id = ${orderId} for no key update) previous
       where o.id = previous.id
         and previous.status in (${sql.join(sourcesOf('paid').filter((s) => !PAID_STATUSES.includes(s)))})
      returning ${ORDER_COLUMNS}, previous.status as "previousStatus"`,
  );
  if (!won) {
    const current = await findOrder(em, orderId);
    if (!current) throw notFound('order');
    if (PAID_STATUSES.includes(current.status)) return { changed: false, order: current };
    throw conflict(`order is ${current.status}; it cannot become paid`);
  }
  let stockNote: string | undefined;
  if (!won.stockReserved) {
    // The order had failed and given its stock back; money arrived anyway, so take it again.
    const short = await reserveStock(em, won.cartId);
    if (short.length === 0) await affected(em, sql`update "order" set stock_reserved = true where id = ${orderId}`);
    else stockNote = `paid while out of stock: ${short.join(', ')}`;
  }
  const snapshot = await rows(
    em,
    sql<{ total: number }>`
      insert into order_line (id, created_at, updated_at, order_id, sku, name, unit_price, quantity, line_total, currency)
      select gen_random_uuid(), now(), now(), ${orderId}, l.sku, l.quoted_name, l.quoted_unit_price, l.quantity,
             l.quoted_unit_price * l.quantity, ${won.currency}
        from cart_line l where l.cart_id = ${won.cartId}
      returning line_total as total`,
  );
  const snapshotTotal = snapshot.reduce((sum, line) => sum + line.total, 0);
  if (snapshotTotal !== won.total) {
    throw conflict(`snapshot total ${snapshotTotal} differs from the order total ${won.total}; nothing was changed`);
  }
  await recordAudit(em, {
    actor: options.actor,
    action: 'order.paid',
    orderId,
    before: { status: won.previousStatus },
    after: { status: 'paid', paymentTransactionId: won.paymentTransactionId },
    reason: [options.reason, stockNote].filter(Boolean).join('; ') || null,
  });
  return { changed: true, order: won };
}

/** Moves an unpaid order to `failed` or `cancelled`, giving its stock back. Inside a transaction. */
export async function transitionToUnpaidEnd(
  em: EntityManager,
  orderId: string,
  to: 'failed' | 'cancelled',
  options: { actor: Actor; reason?: string | null; paymentStatus?: string },
): Promise<OrderTransition> {
  const order = await findOrder(em, orderId, { lock: true });
  if (!order) throw notFound('order');
  if (order.status === to) return { changed: false, order };
  if (!sourcesOf(to).includes(order.status)) throw conflict(`order is ${order.status}; it cannot become ${to}`);
  await releaseStock(em, order);
  const updated = await firstRow(
    em,
    sql<OrderRow>`update "order" o set status = ${to}, updated_at = now(),
                    payment_status = coalesce(${options.paymentStatus ?? null}, o.payment_status)
                  where o.id = ${orderId} returning ${ORDER_COLUMNS}`,
  );
  await recordAudit(em, {
    actor: options.actor,
    action: `order.${to}`,
    orderId,
    before: { status: order.status },
    after: { status: to },
    reason: options.reason ?? null,
  });
  return { changed: true, order: updated! };
}

/**
 * Money going back (refund, reversal: positive delta) or coming back (a cancelled reversal: negative
 * delta). The status follows from how much of the total is refunded. Inside a transaction, with the
 * order row already locked by the caller.
 */
/**
 * The order's refunded amount and status, recomputed from the money ledger of the sale that paid it
 * (refunds and reversals, less cancelled reversals), never moved by deltas: however PayPal's messages
 * were ordered or repeated, the order says what the ledger says. Writes only when something changed.
 */
export async function settleRefunds(
  em: EntityManager,
  order: OrderRow,
  options: { actor: Actor; reason: string; paymentStatus: string },
): Promise<OrderRow> {
  if (!PAID_STATUSES.includes(order.status) || !order.paymentTransactionId) return order;
  const balance = await saleBalance(em, order.paymentTransactionId);
  const refundedAmount = Math.min(order.total, Math.max(0, returnedOf(balance)));
  const status: OrderStatus = refundedAmount === 0 ? 'paid' : refundedAmount === order.total ? 'refunded' : 'partially_refunded';
  if (refundedAmount === order.refundedAmount && status === order.status) return order;
  assertTransition(order.status, status);
  const updated = await firstRow(
    em,
    sql<OrderRow>`update "order" o set refunded_amount = ${refundedAmount}, status = ${status},
                    payment_status = ${options.paymentStatus}, updated_at = now()
                  where o.id = ${order.id} returning ${ORDER_COLUMNS}`,
  );
  await recordAudit(em, {
    actor: options.actor,
    action: refundedAmount >= order.refundedAmount ? 'order.refunded' : 'order.refund_reversed',
    orderId: order.id,
    before: { status: order.status, refundedAmount: order.refundedAmount },
    after: { status, refundedAmount },
    reason: options.reason,
  });
  return updated!;
}

/** A failed order taking a new payment attempt: back to pending, with its stock taken again. */
export async function reopenFailedOrder(em: EntityManager, order: OrderRow, actor: Actor): Promise<OrderRow> {
  if (order.status !== 'failed') return order;
  if (!order.stockReserved) {
    const short = await reserveStock(em, order.cartId);
    if (short.length > 0) throw conflict(`out of stock: ${short.join(', ')}`);
  }
  const reopened = await firstRow(
    em,
    sql<OrderRow>`update "order" o set status = 'pending', stock_reserved = true, updated_at = now()
                  where o.id = ${order.id} returning ${ORDER_COLUMNS}`,
  );
  await recordAudit(em, { actor, action: 'order.reopened', orderId: order.id, before: { status: 'failed' }, after: { status: 'pending' } });
  return reopened!;
}

/** PayPal holds the sale (pending review, an echeck): the unpaid order says so; its status does not change. */
export async function markPaymentPending(em: EntityManager, orderId: string): Promise<void> {
  await affected(em, sql`update "order" set payment_status = 'pending', updated_at = now() where id = ${orderId} and status in ('pending', 'failed')`);
}
