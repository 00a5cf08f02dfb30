import type { Currency, Customer, OrderDto, OrderLineDto, OrderStatus } from '@orders/shared';
import { firstRow, iso, rows, sql, type EntityManager } from '../../db/sql.js';
import { notFound } from '../../errors.js';
import { loadLines, type CartLineDto } from '../carts/carts.service.js';

/** Orders as every module reads them; the status is written only by order.transitions.ts. */
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

export async function findOrder(em: EntityManager, orderId: string, options: { lock?: boolean } = {}): Promise<OrderRow | undefined> {
  return firstRow(
    em,
    options.lock
      ? sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o where o.id = ${orderId} for no key update`
      : sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o where o.id = ${orderId}`,
  );
}

export async function findOwnedOrder(em: EntityManager, customer: Customer, orderId: string): Promise<OrderRow> {
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

