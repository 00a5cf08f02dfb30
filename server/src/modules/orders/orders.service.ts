import type { MikroORM } from '@mikro-orm/postgresql';
import { maxMinorAmount, type CancelResult, type Currency, type Customer, type OrderDto, type OrderLineDto, type OrderStatus } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, iso, rows, sql, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { loadLines, lockOwnedCart, type CartLineDto } from '../carts/carts.service.js';
import { OPEN_ATTEMPT_STATUSES } from '../payments/attempt-state.js';
import { returnedOf, saleBalance } from '../payments/money-ledger.js';
import { ASSERTED_PAYMENT_STATUS, PAID_STATUSES, assertTransition, sourcesOf } from './order-state.js';

// The order contract is declared once, in @orders/shared; these names stay here for the modules that import them.
export type { OrderDto, OrderLineDto } from '@orders/shared';

export interface OrderRow {
  id: string;
  customerType: Customer['type'];
  customerId: string;
  cartId: string;
  status: OrderStatus;
  total: number;
  currency: Currency;
  refundedAmount: number;
  paymentStatus: string | null;
  paymentTransactionId: string | null;
  stockReserved: boolean;
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
}

export const ORDER_COLUMNS = sql`o.id, o.customer_type as "customerType", o.customer_id as "customerId", o.cart_id as "cartId",
  o.status, o.total, o.currency, o.refunded_amount as "refundedAmount", o.payment_status as "paymentStatus",
  o.payment_transaction_id as "paymentTransactionId", o.stock_reserved as "stockReserved",
  o.created_at as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt"`;

/** Keeps PostgreSQL's microsecond timestamp text as is: a JS Date would round it and skip rows. */
function encodeCursor(order: OrderRow): string {
  return Buffer.from(`${String(order.createdAt)}|${order.id}`).toString('base64url');
}

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Timestamp text as PostgreSQL writes it, within ranges it accepts back: what keyset cursors carry. */
export function isPgTimestampText(text: string): boolean {
  const time = PG_TIMESTAMP.exec(text);
  return (
    time !== null &&
    Number(time[1]) >= 1970 &&
    Number(time[2]) >= 1 && Number(time[2]) <= 12 &&
    Number(time[3]) >= 1 && Number(time[3]) <= 31 &&
    Number(time[4]) <= 23 && Number(time[5]) <= 59 && Number(time[6]) <= 59
  );
}

/** Only what encodeCursor produced gets through; anything else is bad input, never a database error. */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  const valid = createdAt !== undefined && isPgTimestampText(createdAt) && rest.length === 0 && id !== undefined && UUID.test(id);
  if (!valid) throw badRequest('cursor: is not a cursor this server issued', 'cursor');
  return { createdAt: createdAt!, id: id! };
}

export async function findOrder(em: EntityManager, orderId: string, options: { lock?: boolean } = {}): Promise<OrderRow | undefined> {
  return firstRow(
    em,
    options.lock
      ? sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o where o.id = ${orderId} for no key update`
      : sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o where o.id = ${orderId}`,
  );
}

async function findOwnedOrder(em: EntityManager, customer: Customer, orderId: string): Promise<OrderRow> {
  const order = await firstRow(
    em,
    sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o
                  where o.id = ${orderId} and o.customer_type = ${customer.type} and o.customer_id = ${customer.id}`,
  );
  if (!order) throw notFound('order');
  return order;
}

export async function orderLines(em: EntityManager, order: OrderRow): Promise<{ lines: OrderLineDto[]; frozen: boolean }> {
  const frozen = await rows(
    em,
    sql<OrderLineDto>`select sku, name, unit_price as "unitPrice", quantity, line_total as "lineTotal", currency
                        from order_line where order_id = ${order.id} order by sku`,
  );
  if (frozen.length > 0) return { lines: frozen, frozen: true };
  const quoted: CartLineDto[] = await loadLines(em, order.cartId);
  return { lines: quoted, frozen: false };
}

export function toOrderDto(order: OrderRow, lines: OrderLineDto[], frozen: boolean): OrderDto {
  return {
    id: order.id,
    customer: { type: order.customerType, id: order.customerId },
    status: order.status,
    total: order.total,
    currency: order.currency,
    refundedAmount: order.refundedAmount,
    paymentStatus: order.paymentStatus,
    paymentTransactionId: order.paymentTransactionId,
    lines,
    linesFrozen: frozen,
    createdAt: iso(order.createdAt),
    updatedAt: iso(order.updatedAt),
    paidAt: iso(order.paidAt),
  };
}

/**
 * Takes stock for every line of the cart, or for none: rows are locked in sku order (so two
 * checkouts never deadlock), then decremented only where enough remains.
 * Returns the skus that were short; empty means reserved.
 */
async function reserveStock(em: EntityManager, cartId: string): Promise<string[]> {
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

export interface PaidTransition {
  /** False when the order was already paid: the call changed nothing. */
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
): Promise<PaidTransition> {
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
): Promise<PaidTransition> {
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

export class OrdersService {
  constructor(private readonly orm: MikroORM) {}

  /** A pending order from the customer's cart, with its stock reserved, in one transaction. */
  async create(customer: Customer, cartId: string, actor: Actor): Promise<OrderDto> {
    return this.orm.em.fork().transactional(async (em) => {
      const cart = await lockOwnedCart(em, customer, cartId);
      if (cart.checkedOutAt) throw conflict('cart is already checked out');
      const quoted = await rows(
        em,
        sql<{ lines: number; currencies: number; currency: Currency; total: string }>`
          update cart_line l set quoted_unit_price = p.unit_price, quoted_name = p.name, updated_at = now()
            from product p where p.sku = l.sku and l.cart_id = ${cartId}
          returning 1 as lines, p.currency, (p.unit_price::bigint * l.quantity)::text as total`,
      );
      if (quoted.length === 0) throw badRequest('cart is empty', 'cartId');
      const currency = quoted[0]!.currency;
      if (quoted.some((q) => q.currency !== currency)) throw conflict('cart mixes currencies');
      const total = quoted.reduce((sum, q) => sum + Number(q.total), 0);
      if (total > maxMinorAmount(currency)) throw badRequest(`order total exceeds what PayPal accepts in ${currency}`, 'cartId');
      const short = await reserveStock(em, cartId);
      if (short.length > 0) throw conflict(`out of stock: ${short.join(', ')}`);
      await affected(em, sql`update cart set checked_out_at = now(), updated_at = now() where id = ${cartId}`);
      const order = await firstRow(
        em,
        sql<OrderRow>`
          insert into "order" as o (id, created_at, updated_at, customer_type, customer_id, cart_id, status, total, currency,
                               refunded_amount, stock_reserved)
          values (${newId()}, clock_timestamp(), clock_timestamp(), ${customer.type}, ${customer.id}, ${cartId}, 'pending', ${total}, ${currency}, 0, true)
          returning ${ORDER_COLUMNS}`,
      );
      await recordAudit(em, { actor, action: 'order.created', orderId: order!.id, after: { status: 'pending', total, currency } });
      return toOrderDto(order!, await loadLines(em, cartId), false);
    });
  }

  async get(customer: Customer, orderId: string): Promise<OrderDto> {
    const em = this.orm.em.fork();
    const order = await findOwnedOrder(em, customer, orderId);
    const { lines, frozen } = await orderLines(em, order);
    return toOrderDto(order, lines, frozen);
  }

  /** Newest first, from the (customer_type, customer_id, created_at, id) index. */
  async list(customer: Customer, page: number, pageSize: number, cursor?: string) {
    const em = this.orm.em.fork();
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const position = after
      ? sql`and (o.created_at, o.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : sql``;
    const offset = after ? 0 : (page - 1) * pageSize;
    const [items, count] = await Promise.all([
      rows(
        em,
        sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o
                       where o.customer_type = ${customer.type} and o.customer_id = ${customer.id} ${position}
                       order by o.created_at desc, o.id desc limit ${pageSize} offset ${offset}`,
      ),
      firstRow(
        em,
        sql<{ total: string }>`select count(*) as total from "order"
                                where customer_type = ${customer.type} and customer_id = ${customer.id}`,
      ),
    ]);
    const last = items.length === pageSize ? items[items.length - 1] : undefined;
    return {
      items: items.map((o) => {
        const { lines: _lines, linesFrozen: _frozen, ...summary } = toOrderDto(o, [], false);
        return summary;
      }),
      page,
      pageSize,
      total: Number(count?.total ?? 0),
      nextCursor: last ? encodeCursor(last) : null,
    };
  }

  /** What a payment needs; CONFLICT once money was received or the order was cancelled. */
  async getToPay(orderId: string): Promise<OrderDto> {
    const em = this.orm.em.fork();
    const order = await findOrder(em, orderId);
    if (!order) throw notFound('order');
    if (PAID_STATUSES.includes(order.status)) throw conflict(`order is already ${order.status}`);
    if (order.status === 'cancelled') throw conflict('order is cancelled');
    return toOrderDto(order, await loadLines(em, order.cartId), false);
  }

  /** Staff cancel of an unpaid order: its stock is released and its open attempts end with it. */
  async cancel(orderId: string, reason: string, actor: Actor): Promise<CancelResult> {
    return this.orm.em.fork().transactional(async (em) => {
      const { changed, order } = await transitionToUnpaidEnd(em, orderId, 'cancelled', { actor, reason });
      if (!changed) throw conflict('order is already cancelled');
      const cancelledAttempts = await affected(
        em,
        sql`update order_payment_attempt set status = 'cancelled', failure_reason = 'order cancelled by staff', updated_at = now()
             where order_id = ${orderId} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})`,
      );
      return { orderId, status: order.status, refundedAmount: order.refundedAmount, cancelledAttempts };
    });
  }

  /** Seed `process_order_to_paid`: idempotent; the second call changes nothing. */
  async processOrderToPaid(orderId: string, actor: Actor): Promise<OrderDto & { changed: boolean }> {
    return this.orm.em.fork().transactional(async (em) => {
      const { changed, order } = await transitionToPaid(em, orderId, { actor, reason: 'processOrderToPaid', paymentStatus: ASSERTED_PAYMENT_STATUS });
      const { lines, frozen } = await orderLines(em, order);
      return { ...toOrderDto(order, lines, frozen), changed };
    });
  }
}
