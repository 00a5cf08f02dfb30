import type { MikroORM } from '@mikro-orm/postgresql';
import type { BulkCancelResult, CancelResult, Customer, OrderDto } from '@orders/shared';
import { conflict, notFound } from '../../errors.js';
import type { Actor } from '../audit/audit.service.js';
import { decodeCursor, encodeCursor } from '../backoffice/keyset-cursor.js';
import { loadLines } from '../carts/carts.service.js';
import { cancelOpenAttempts } from '../payments/attempt.transitions.js';
import { bulkCancel } from './bulk-cancel.js';
import { customerOrders, findOrder, findOwnedOrder, orderLines, toOrderDto } from './order.repository.js';
import { ASSERTED_PAYMENT_STATUS, PAID_STATUSES } from './order-state.js';
import { createPendingOrder, transitionToPaid, transitionToUnpaidEnd, type NewOrderSource } from './order.transitions.js';

/** The ordering `orders.list` cursors are issued for. */
const LIST_ORDERING = 'orders:created:desc';

export class OrdersService {
  constructor(private readonly orm: MikroORM) {}

  /**
   * A pending order from the customer's cart (or from items, as a new cart), its stock reserved, in one
   * statement (createPendingOrder). `display`: the customer's email and name as the calling service
   * knows them, for staff to read.
   */
  async create(
    customer: Customer,
    source: NewOrderSource,
    actor: Actor,
    display: { customerEmail?: string | undefined; customerName?: string | undefined } = {},
  ): Promise<OrderDto> {
    const { order, lines } = await createPendingOrder(this.orm.em.fork(), customer, source, actor, display);
    return toOrderDto(order, lines, false);
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
