import type { MikroORM } from '@mikro-orm/postgresql';
import { maxMinorAmount, type BulkCancelResult, type CancelResult, type Currency, type Customer, type OrderDto, type OrderItem } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, rows, sql } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { decodeCursor, encodeCursor } from '../backoffice/keyset-cursor.js';
import { createCartWithItems, loadLines, lockOwnedCart } from '../carts/carts.service.js';
import { cancelOpenAttempts } from '../payments/attempt.transitions.js';
import { bulkCancel } from './bulk-cancel.js';
import { ORDER_COLUMNS, customerOrders, findOrder, findOwnedOrder, orderLines, toOrderDto, type OrderRow } from './order.repository.js';
import { ASSERTED_PAYMENT_STATUS, PAID_STATUSES } from './order-state.js';
import { reserveStock, transitionToPaid, transitionToUnpaidEnd } from './order.transitions.js';

/** The ordering `orders.list` cursors are issued for. */
const LIST_ORDERING = 'orders:created:desc';

export class OrdersService {
  constructor(private readonly orm: MikroORM) {}

  /**
   * A pending order from the customer's cart, with its stock reserved, in one transaction. `display`:
   * the customer's email and name as the calling service knows them, for staff to read.
   */
  async create(
    customer: Customer,
    source: { cartId: string } | { items: readonly OrderItem[] },
    actor: Actor,
    display: { customerEmail?: string | undefined; customerName?: string | undefined } = {},
  ): Promise<OrderDto> {
    return this.orm.em.fork().transactional(async (em) => {
      const cartId = 'cartId' in source ? source.cartId : await createCartWithItems(em, customer, source.items);
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
          insert into "order" as o (id, created_at, updated_at, customer_type, customer_id, customer_email, customer_name, cart_id, status, total, currency,
                               refunded_amount, stock_reserved)
          values (${newId()}, clock_timestamp(), clock_timestamp(), ${customer.type}, ${customer.id}, ${display.customerEmail ?? null},
                  ${display.customerName ?? null}, ${cartId}, 'pending', ${total}, ${currency}, 0, true)
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

  /** Newest first; by `page`, or by `cursor` (stable while orders arrive). */
  async list(customer: Customer, page: number, pageSize: number, cursor?: string) {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, LIST_ORDERING, 'timestamp');
    const { items, total } = await customerOrders(this.orm.em.fork(), customer, {
      limit: pageSize,
      offset: after ? 0 : (page - 1) * pageSize,
      ...(after ? { after: { createdAt: String(after.key), id: after.id } } : {}),
    });
    const last = items.length === pageSize ? items[items.length - 1] : undefined;
    return {
      items: items.map((o) => {
        const { lines: _lines, linesFrozen: _frozen, ...summary } = toOrderDto(o, [], false);
        return summary;
      }),
      page,
      pageSize,
      total,
      // PostgreSQL's own timestamp text: a JS Date would round microseconds away and skip rows.
      nextCursor: last ? encodeCursor(LIST_ORDERING, { key: String(last.createdAt), id: last.id }) : null,
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
      const cancelledAttempts = await cancelOpenAttempts(em, orderId, 'order cancelled by staff');
      return { orderId, status: order.status, refundedAmount: order.refundedAmount, cancelledAttempts };
    });
  }

  /** `backoffice.bulkCancel`: each unpaid order cancelled as `cancel` does, the others skipped with why. */
  async bulkCancel(orderIds: readonly string[], reason: string, actor: Actor): Promise<BulkCancelResult> {
    return bulkCancel(this.orm.em.fork(), orderIds, (orderId) => this.cancel(orderId, reason, actor));
  }

  /** `payments.processOrderToPaid` (scope payments:settle): paid on the caller's word, idempotent; listed in reconciliation until PayPal's capture is recorded. */
  async processOrderToPaid(orderId: string, actor: Actor): Promise<OrderDto & { changed: boolean }> {
    return this.orm.em.fork().transactional(async (em) => {
      const { changed, order } = await transitionToPaid(em, orderId, { actor, reason: 'processOrderToPaid', paymentStatus: ASSERTED_PAYMENT_STATUS });
      const { lines, frozen } = await orderLines(em, order);
      return { ...toOrderDto(order, lines, frozen), changed };
    });
  }
}
