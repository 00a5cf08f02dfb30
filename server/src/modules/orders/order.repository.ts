import type { Currency, Customer, OrderDto, OrderLineDto, OrderStatus } from '@orders/shared';
import type { Selectable } from 'kysely';
import { db, iso, sql, type Database, type EntityManager } from '../../db/sql.js';
import { notFound } from '../../errors.js';
import { loadLines, type CartLineDto } from '../carts/carts.service.js';

/** An order's columns under the names the code uses, checked against the entity by the typed builder. */
const ORDER_SELECTION = [
  'o.id',
  'o.number',
  'o.customer_type as customerType',
  'o.customer_id as customerId',
  'o.customer_email as customerEmail',
  'o.customer_name as customerName',
  'o.cart_id as cartId',
  'o.status',
  'o.total',
  'o.currency',
  'o.refunded_amount as refundedAmount',
  'o.payment_status as paymentStatus',
  'o.payment_transaction_id as paymentTransactionId',
  'o.stock_reserved as stockReserved',
  'o.created_at as createdAt',
  'o.updated_at as updatedAt',
  'o.paid_at as paidAt',
] as const;

/** Orders as every module reads them; the status is written only by order.transitions.ts. */
function selectOrders(em: EntityManager) {
  return db(em)
    .selectFrom('order as o')
    .select(ORDER_SELECTION)
    .$narrowType<{ status: OrderStatus; currency: Currency; customerType: Customer['type'] }>();
}

type OrderTable = Selectable<Database['order']>;

/**
 * An order as selectOrders reads it, written out (its inferred type is too long for the client
 * package's bundled declarations); the repository's return types check the two agree.
 */
export interface OrderRow {
  id: OrderTable['id'];
  number: OrderTable['number'];
  customerType: Customer['type'];
  customerId: OrderTable['customer_id'];
  customerEmail: OrderTable['customer_email'];
  customerName: OrderTable['customer_name'];
  cartId: OrderTable['cart_id'];
  status: OrderStatus;
  total: OrderTable['total'];
  currency: Currency;
  refundedAmount: OrderTable['refunded_amount'];
  paymentStatus: OrderTable['payment_status'];
  paymentTransactionId: OrderTable['payment_transaction_id'];
  stockReserved: OrderTable['stock_reserved'];
  createdAt: OrderTable['created_at'];
  updatedAt: OrderTable['updated_at'];
  paidAt: OrderTable['paid_at'];
}

/** The same columns for the statements that decide races (row locks, conditional updates): `returning ${ORDER_COLUMNS}`. */
export const ORDER_COLUMNS = sql`o.id, o.number, o.customer_type as "customerType", o.customer_id as "customerId",
  o.customer_email as "customerEmail", o.customer_name as "customerName", o.cart_id as "cartId",
  o.status, o.total, o.currency, o.refunded_amount as "refundedAmount", o.payment_status as "paymentStatus",
  o.payment_transaction_id as "paymentTransactionId", o.stock_reserved as "stockReserved",
  o.created_at as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt"`;

/** One order; with `lock`, held (FOR NO KEY UPDATE) until the transaction ends. */
export async function findOrder(em: EntityManager, orderId: string, options: { lock?: boolean } = {}): Promise<OrderRow | undefined> {
  const query = selectOrders(em).where('o.id', '=', orderId);
  return (options.lock ? query.forNoKeyUpdate() : query).executeTakeFirst();
}

/** The customer's own order, or NOT_FOUND (another owner's order does not exist for them). */
export async function findOwnedOrder(em: EntityManager, customer: Customer, orderId: string): Promise<OrderRow> {
  const order = await selectOrders(em)
    .where('o.id', '=', orderId)
    .where('o.customer_type', '=', customer.type)
    .where('o.customer_id', '=', customer.id)
    .executeTakeFirst();
  if (!order) throw notFound('order');
  return order;
}

/** A page of the customer's orders, newest first, from the (customer_type, customer_id, created_at, id) index. */
export async function customerOrders(
  em: EntityManager,
  customer: Customer,
  page: { limit: number; offset: number; after?: { createdAt: string; id: string } },
): Promise<{ items: OrderRow[]; total: number }> {
  let query = selectOrders(em).where('o.customer_type', '=', customer.type).where('o.customer_id', '=', customer.id);
  if (page.after) query = query.where(sql<boolean>`(o.created_at, o.id) < (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)`);
  const [items, count] = await Promise.all([
    query.orderBy('o.created_at', 'desc').orderBy('o.id', 'desc').limit(page.limit).offset(page.offset).execute(),
    db(em)
      .selectFrom('order')
      .select((eb) => eb.fn.countAll<string>().as('total'))
      .where('customer_type', '=', customer.type)
      .where('customer_id', '=', customer.id)
      .executeTakeFirst(),
  ]);
  return { items, total: Number(count?.total ?? 0) };
}

/** The frozen snapshot once paid; before that, the cart's lines at the prices quoted at checkout. */
export async function orderLines(em: EntityManager, order: OrderRow): Promise<{ lines: OrderLineDto[]; frozen: boolean }> {
  const frozen = await db(em)
    .selectFrom('order_line')
    .select(['sku', 'name', 'unit_price as unitPrice', 'quantity', 'line_total as lineTotal', 'currency'])
    .where('order_id', '=', order.id)
    .orderBy('sku')
    .$narrowType<{ currency: Currency }>()
    .execute();
  if (frozen.length > 0) return { lines: frozen, frozen: true };
  const quoted: CartLineDto[] = await loadLines(em, order.cartId);
  return { lines: quoted, frozen: false };
}

export function toOrderDto(order: OrderRow, lines: OrderLineDto[], frozen: boolean): OrderDto {
  return {
    id: order.id,
    number: order.number,
    customer: { type: order.customerType, id: order.customerId },
    customerEmail: order.customerEmail,
    customerName: order.customerName,
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

