import type { BulkCancelItem, BulkCancelResult, OrderStatus } from '@orders/shared';
import { rows, sql, type EntityManager } from '../../db/sql.js';
import { asDomainError } from '../../errors.js';
import type { Actor } from '../audit/audit.service.js';

/**
 * Staff cancel of several unpaid orders with one reason (`backoffice.bulkCancel`). Each order is
 * cancelled in its own transaction by `cancelOne` (the single cancel: state table, stock released,
 * open attempts ended, audited with the reason), so one order that cannot be cancelled — paid meanwhile,
 * already cancelled, unknown — is skipped with why and the others still go through.
 */
export async function bulkCancel(
  em: EntityManager,
  orderIds: readonly string[],
  cancelOne: (orderId: string) => Promise<{ status: OrderStatus; cancelledAttempts: number }>,
): Promise<BulkCancelResult> {
  const known = new Map(
    (
      await rows(
        em,
        sql<{ id: string; number: number; status: OrderStatus }>`
          select id, number, status from "order" where id = any(${orderIds.map((id) => id.toLowerCase())}::uuid[])`,
      )
    ).map((order) => [order.id, order]),
  );
  const items: BulkCancelItem[] = [];
  // One after another: at most MAX_SELECTED_ORDERS short transactions, and no order waits on another's lock.
  for (const requested of orderIds) {
    const orderId = requested.toLowerCase();
    const order = known.get(orderId);
    if (!order) {
      items.push({ orderId, number: null, result: 'skipped', status: null, code: 'not_found', message: 'order not found' });
      continue;
    }
    try {
      const cancelled = await cancelOne(orderId);
      items.push({ orderId, number: order.number, result: 'cancelled', status: cancelled.status, cancelledAttempts: cancelled.cancelledAttempts });
    } catch (error) {
      const refusal = asDomainError(error);
      if (refusal?.code === 'NOT_FOUND') {
        items.push({ orderId, number: null, result: 'skipped', status: null, code: 'not_found', message: 'order not found' });
      } else if (refusal?.code === 'CONFLICT') {
        const [now] = await rows(em, sql<{ status: OrderStatus }>`select status from "order" where id = ${orderId}`);
        items.push({ orderId, number: order.number, result: 'skipped', status: now?.status ?? order.status, code: 'not_cancellable', message: refusal.message });
      } else {
        throw error;
      }
    }
  }
  const cancelled = items.filter((item) => item.result === 'cancelled').length;
  return { items, cancelled, skipped: items.length - cancelled };
}
