import { StringDecoder } from 'node:string_decoder';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { AttemptDto, AuditDto, BackofficeOrderDetail, OrderSearchFilter, OrderSearchResult, PaymentEventDto, StaffRole } from '@orders/shared';
import { firstRow, iso, rows, sql } from '../../db/sql.js';
import { notFound } from '../../errors.js';
import { orderNotes } from '../orders/order-notes.js';
import { findOrder, orderLines } from '../orders/order.repository.js';
import { paidLineStates } from '../payments/line-refunds.js';
import { orderCsvChunks } from './csv-export.js';
import { allowedOrderActions } from './order-actions.js';
import {
  cursorFor,
  positionOf,
  rowByIdQuery,
  toBackofficeRow,
  type OrderOrdering,
} from './order-search.js';
import { SearchStatistics } from './search-statistics.js';
import { COUNT_BUDGET_MS, searchPage } from './search-page.js';

export type OrderSearchQuery = OrderSearchFilter & OrderOrdering & { cursor?: string; limit: number };
export type OrderExportQuery = OrderSearchFilter & OrderOrdering & { ids?: readonly string[] | undefined };

/** An unpaid order's (cart) lines: nothing of them can have been refunded. */
const NOTHING_REFUNDED = { refundedQuantity: 0, refundedAmount: 0, pendingRefundQuantity: 0, restockedQuantity: 0 } as const;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** IPN bodies as PayPal sent them: UTF-8 when they are valid UTF-8, otherwise byte for byte (latin1). */
function rawText(raw: Buffer | null): string | null {
  if (raw === null) return null;
  try {
    return strictUtf8.decode(raw);
  } catch {
    return Buffer.from(raw).toString('latin1');
  }
}

export class BackofficeService {
  /** What the planner knows of the search documents, held for fragment searches (search-page.ts). */
  private readonly searchStatistics: SearchStatistics;

  constructor(private readonly orm: MikroORM) {
    this.searchStatistics = new SearchStatistics(orm);
  }

  async search(query: OrderSearchQuery): Promise<OrderSearchResult> {
    const em = this.orm.em.fork();
    const { sort, direction, cursor, limit, ...filter } = query;
    const ordering = { sort, direction };
    const after = cursor === undefined ? undefined : positionOf(ordering, cursor);
    const { page, total } = await searchPage(em, filter, ordering, after, limit + 1, COUNT_BUDGET_MS, this.searchStatistics);
    const items = page.slice(0, limit);
    return {
      items: items.map(toBackofficeRow),
      nextCursor: page.length > limit ? cursorFor(ordering, items[items.length - 1]!) : null,
      total,
    };
  }

  /** One order with everything staff see of it, and what `role` may do to it now. */
  async get(orderId: string, role: StaffRole): Promise<BackofficeOrderDetail> {
    const em = this.orm.em.fork();
    const order = await findOrder(em, orderId);
    if (!order) throw notFound('order');
    const [row, lines, attempts, events, audit, others, lineStates, notes] = await Promise.all([
      firstRow(em, rowByIdQuery(orderId)),
      orderLines(em, order),
      rows(
        em,
        sql<AttemptDto>`
          select a.id, a.status, a.external_id as "externalId", a.sale_id as "saleId", a.sale_state as "saleState", a.amount, a.currency,
                 a.payer_email as "payerEmail", a.payer_name as "payerName", a.failure_reason as "failureReason", a.approval_url as "approvalUrl",
                 a.created_at as "createdAt", a.updated_at as "updatedAt", a.succeeded_at as "succeededAt"
            from order_payment_attempt a where a.order_id = ${orderId} order by a.created_at, a.id`,
      ),
      rows(
        em,
        sql<Omit<PaymentEventDto, 'raw'> & { rawBody: Buffer | null }>`
          select e.id, e.source, e.attempt_id as "attemptId", e.external_id as "externalId", e.txn_id as "txnId",
                 e.parent_txn_id as "parentTxnId", e.provider_status as "providerStatus", e.amount, e.currency, e.verification,
                 e.processing, e.outcome, e.flag_kind as "flagKind", e.raw_body as "rawBody", e.payload,
                 e.created_at as "createdAt", e.processed_at as "processedAt"
            from payment_event e where e.order_id = ${orderId} order by e.created_at, e.id`,
      ),
      rows(
        em,
        sql<AuditDto>`
          select e.id, e.actor_type as "actorType", e.actor_id as "actorId",
                 coalesce(u.email, 'API key "' || k.name || '"') as "actorLabel", e.action,
                 e.before, e.after, e.reason, e.created_at as "createdAt"
            from audit_entry e left join staff_user u on e.actor_type = 'staff' and u.id::text = e.actor_id
                 left join api_key k on e.actor_type = 'service' and k.id::text = e.actor_id
           where e.order_id = ${orderId} order by e.created_at, e.id`,
      ),
      firstRow(
        em,
        sql<{ n: number }>`select count(*)::int as n from "order"
                            where customer_type = ${order.customerType} and customer_id = ${order.customerId} and id <> ${orderId}`,
      ),
      paidLineStates(em, orderId),
      orderNotes(em, orderId),
    ]);
    const allowedActions = await allowedOrderActions(em, order, role, { frozen: lines.frozen, lines: lines.frozen ? lineStates : [] });
    return {
      order: toBackofficeRow(row!),
      allowedActions,
      role,
      lines: lines.frozen ? lineStates.map(({ id: _id, ...line }) => line) : lines.lines.map((line) => ({ ...line, ...NOTHING_REFUNDED })),
      linesFrozen: lines.frozen,
      attempts: attempts.map((a) => ({ ...a, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt), succeededAt: iso(a.succeededAt) })),
      events: events.map(({ rawBody, ...e }) => ({ ...e, raw: rawText(rawBody), createdAt: iso(e.createdAt), processedAt: iso(e.processedAt) })),
      audit: audit.map((a) => ({ ...a, createdAt: iso(a.createdAt) })),
      notes,
      customerOrderCount: others?.n ?? 0,
    };
  }

  /**
   * The filter's every row as CSV text, streamed from PostgreSQL's COPY (csv-export.ts), header first.
   * The first chunk is produced before anything is sent, so a bad filter fails cleanly.
   */
  async *exportCsv(query: OrderExportQuery): AsyncGenerator<string, void, undefined> {
    const decoder = new StringDecoder('utf8');
    for await (const chunk of this.exportCsvBytes(query)) {
      const text = decoder.write(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  }

  /** The same export as bytes, for the HTTP download. */
  exportCsvBytes(query: OrderExportQuery): AsyncGenerator<Buffer, void, undefined> {
    const { sort, direction, ...filter } = query;
    return orderCsvChunks(this.orm, filter, { sort, direction });
  }

}
