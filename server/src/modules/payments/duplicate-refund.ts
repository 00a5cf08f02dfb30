import { newId } from '../../db/base.entity.js';
import { firstRow, sql, type EntityManager } from '../../db/sql.js';
import { openOf, saleBalance } from './money-ledger.js';

export const AUTOMATIC_DUPLICATE_REASON = 'automatic refund of a duplicate payment';

/**
 * Asks for the whole of a duplicate sale back: a `requested` refund row of kind `duplicate` for what is
 * still captured on it and not already being refunded. The refund is sent to PayPal after the
 * transaction commits (or by the payments sweep), with the row's id as PayPal-Request-Id.
 * Returns the row's id, or null when nothing is left to ask for.
 */
export async function requestDuplicateRefund(
  em: EntityManager,
  target: { orderId: string; attempt: { id: string }; saleId: string },
  requestedBy: { staffId: string | null; reason: string } = { staffId: null, reason: AUTOMATIC_DUPLICATE_REASON },
): Promise<string | null> {
  const balance = await saleBalance(em, target.saleId);
  const open = openOf(balance);
  const inFlight = await firstRow(
    em,
    sql<{ amount: number }>`
      select coalesce(sum(amount), 0)::int as amount from order_refund where sale_id = ${target.saleId} and status = 'requested'`,
  );
  const amount = open - (inFlight?.amount ?? 0);
  if (amount <= 0) return null;
  const row = await firstRow(
    em,
    sql<{ id: string }>`
      insert into order_refund (id, created_at, updated_at, order_id, attempt_id, sale_id, kind, amount, currency, status, staff_id, reason)
      values (${newId()}, now(), now(), ${target.orderId}, ${target.attempt.id}, ${target.saleId}, 'duplicate', ${amount}, ${balance.currency}, 'requested',
              ${requestedBy.staffId}, ${requestedBy.reason})
      returning id`,
  );
  return row!.id;
}
