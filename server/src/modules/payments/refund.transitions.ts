import type { Currency } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, sql, type EntityManager } from '../../db/sql.js';

/*
 * The only writer of order_refund.status: requested → completed (PayPal refunded; also from failed,
 * when PayPal's answer to a request we gave up on arrives after all) or requested → failed.
 * Conditional updates: when two paths race (a live request and the sweep resuming it), one wins.
 */

export type RefundKind = 'order' | 'duplicate';

export interface NewRefund {
  orderId: string;
  attemptId: string | null;
  saleId: string;
  kind: RefundKind;
  amount: number;
  currency: Currency | string;
  staffId: string | null;
  reason: string;
  /** The client's idempotency key, when it sent one. */
  requestKey?: string | null;
}

/** A refund row in `requested`: its id is the PayPal-Request-Id, its amount held until PayPal answers. */
export async function requestRefund(em: EntityManager, refund: NewRefund): Promise<string> {
  const row = await firstRow(
    em,
    sql<{ id: string }>`
      insert into order_refund (id, created_at, updated_at, order_id, attempt_id, sale_id, kind, amount, currency, status, staff_id, reason, request_key)
      values (${newId()}, now(), now(), ${refund.orderId}, ${refund.attemptId}, ${refund.saleId}, ${refund.kind}, ${refund.amount}, ${refund.currency},
              'requested', ${refund.staffId}, ${refund.reason}, ${refund.requestKey ?? null})
      returning id`,
  );
  return row!.id;
}

/** Money of `saleId` (or of the order's own refunds) asked back and not answered yet. */
export async function requestedAmount(em: EntityManager, where: { saleId: string } | { orderId: string; kind: RefundKind }): Promise<number> {
  const row = await firstRow(
    em,
    'saleId' in where
      ? sql<{ amount: number }>`select coalesce(sum(amount), 0)::int as amount from order_refund where sale_id = ${where.saleId} and status = 'requested'`
      : sql<{ amount: number }>`select coalesce(sum(amount), 0)::int as amount from order_refund
                                 where order_id = ${where.orderId} and kind = ${where.kind} and status = 'requested'`,
  );
  return row?.amount ?? 0;
}

/** PayPal refunded: true for the one path that records it. */
export async function completeRefund(em: EntityManager, refundId: string, provider: { refundId: string; raw: unknown }): Promise<boolean> {
  const claimed = await affected(
    em,
    sql`update order_refund set status = 'completed', provider_refund_id = ${provider.refundId}, raw_response = ${JSON.stringify(provider.raw)}::jsonb,
          completed_at = now(), updated_at = now() where id = ${refundId} and status in ('requested', 'failed')`,
  );
  return claimed > 0;
}

/** PayPal refused or stayed unreachable: false when another path settled it meanwhile. */
export async function failRefund(em: EntityManager, refundId: string, reason: string): Promise<boolean> {
  const marked = await affected(
    em,
    sql`update order_refund set status = 'failed', failure_reason = ${reason}, updated_at = now() where id = ${refundId} and status = 'requested'`,
  );
  return marked > 0;
}
