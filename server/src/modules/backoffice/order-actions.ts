import type { OrderAction, StaffRole } from '@orders/shared';
import { rows, sql, type EntityManager } from '../../db/sql.js';
import { openOf, saleBalance } from '../payments/money-ledger.js';
import { requestedAmount } from '../payments/refund.transitions.js';
import type { OrderRow } from '../orders/order.repository.js';
import { PAID_STATUSES, canTransition } from '../orders/order-state.js';
import { roleAtLeast } from '../staff/staff.service.js';

/**
 * The least role each staff action on an order needs. `backoffice.router.ts` guards each procedure
 * with these, and `allowedOrderActions` reads them: the buttons the app shows are the calls the
 * server accepts, from one table.
 */
export const ACTION_ROLES: Readonly<Record<OrderAction, StaffRole>> = {
  resync: 'operator',
  refund: 'admin',
  refundLines: 'admin',
  refundDuplicate: 'admin',
  cancel: 'operator',
  note: 'operator',
};

/** What the detail knows of a line: how much of it could still be refunded. */
export interface LineRefundState {
  quantity: number;
  refundedQuantity?: number;
  pendingRefundQuantity?: number;
}

/**
 * The actions the server would accept now on this order from a member with `role`: the same checks
 * as the procedures' own (order state table, the refund service's "paid through PayPal with money
 * left that no refund holds", the duplicate refund's "a sale that did not pay the order, with money
 * left"), read without locks. A race (someone else acting first) can still refuse a listed action
 * with CONFLICT; an unlisted one is always refused.
 */
export async function allowedOrderActions(
  em: EntityManager,
  order: OrderRow,
  role: StaffRole,
  lines: { frozen: boolean; lines: readonly LineRefundState[] },
): Promise<OrderAction[]> {
  const may = (action: OrderAction) => roleAtLeast(role, ACTION_ROLES[action]);
  const allowed: OrderAction[] = [];
  if (!may('resync') && !may('refund')) return allowed;
  const attempts = await rows(
    em,
    sql<{ externalId: string | null; saleId: string | null }>`
      select external_id as "externalId", sale_id as "saleId" from order_payment_attempt where order_id = ${order.id}`,
  );
  if (may('resync') && attempts.some((a) => a.externalId !== null)) allowed.push('resync');
  if (may('refund') && PAID_STATUSES.includes(order.status) && order.paymentTransactionId) {
    const remaining = order.total - order.refundedAmount - (await requestedAmount(em, { orderId: order.id, kind: 'order' }));
    if (remaining > 0) {
      allowed.push('refund');
      const lineLeft = (line: LineRefundState) => line.quantity - (line.refundedQuantity ?? 0) - (line.pendingRefundQuantity ?? 0) > 0;
      if (may('refundLines') && lines.frozen && lines.lines.some(lineLeft)) allowed.push('refundLines');
    }
  }
  if (may('refundDuplicate')) {
    const paidBy = PAID_STATUSES.includes(order.status) ? order.paymentTransactionId : null;
    for (const { saleId } of attempts) {
      if (!saleId || saleId.startsWith('manual-') || saleId === paidBy) continue;
      if (openOf(await saleBalance(em, saleId)) > 0 && (await requestedAmount(em, { saleId })) === 0) {
        allowed.push('refundDuplicate');
        break;
      }
    }
  }
  if (may('cancel') && canTransition(order.status, 'cancelled')) allowed.push('cancel');
  if (may('note')) allowed.push('note');
  return allowed;
}
