import type { MikroORM } from '@mikro-orm/postgresql';
import type { RawBuilder } from 'kysely';
import {
  ORDER_STATUSES,
  backoffice,
  type Discrepancy,
  type DiscrepancyKind,
  type ReconciliationPage,
  type ReconciliationSummary,
  type ResolveResult,
} from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { firstRow, iso, rows, sql } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { decodeCursor, encodeCursor } from '../backoffice/keyset-cursor.js';
import { PAID_STATUSES } from '../orders/order-state.js';

export const DEFAULT_STUCK_AFTER_MINUTES = 30;

const { DISCREPANCY_KINDS } = backoffice;
const UNPAID_STATUSES = ORDER_STATUSES.filter((s) => !PAID_STATUSES.includes(s));
const CURSOR_ORDERING = 'discrepancies';

type DiscrepancyRow = Omit<Discrepancy, 'detectedAt'> & { detectedAt: string };

/*
 * Every discrepancy, computed on demand by one SQL statement; each branch starts from an index:
 *  - paid_at_paypal_not_paid: unpaid orders (order_status_idx) with an attempt holding a completed sale
 *  - amount_mismatch:         flagged events (payment_event_processing_idx) whose flag_kind says so
 *  - multiple_successes:      orders with a captured sale beside their success (attempt_extra_capture_idx)
 *  - stuck_attempt:           created/approved attempts not touched for a while (attempt_status_idx)
 *  - unmatched_ipn:           IPNs and webhooks that matched no attempt (payment_event_processing_idx)
 * A discrepancy's id is `kind:subject`; resolving it records that id, and it no longer shows.
 */
function discrepancies(stuckAfterMinutes: number): RawBuilder<DiscrepancyRow> {
  return sql<DiscrepancyRow>`
    select 'paid_at_paypal_not_paid'::text as kind, 'paid_at_paypal_not_paid:' || a.id as id, o.id as "orderId", a.id as "attemptId",
           null::uuid as "eventId", o.status::text as "orderStatus", a.amount, a.currency::text as currency,
           format('PayPal captured sale %s (attempt %s) but the order is %s', a.sale_id, a.status, o.status) as detail,
           coalesce(a.succeeded_at, a.updated_at) as "detectedAt"
      from "order" o join order_payment_attempt a on a.order_id = o.id
     where o.status in (${sql.join(UNPAID_STATUSES)}) and a.sale_id is not null and (a.status = 'succeeded' or a.sale_state = 'completed')
    union all
    select 'amount_mismatch', 'amount_mismatch:' || e.id, e.order_id, e.attempt_id, e.id, o.status, e.amount, e.currency,
           coalesce(e.outcome, 'amount or currency mismatch') || format(' (%s)', e.source), e.created_at
      from payment_event e left join "order" o on o.id = e.order_id
     where e.processing = 'flagged' and e.flag_kind = 'amount_mismatch'
    union all
    select 'multiple_successes', 'multiple_successes:' || o.id, o.id, null, null, o.status, (c.captured - o.total)::int, o.currency,
           format('%s captured sales for one order: %s', c.sales, c.sale_ids), c.detected_at
      from (select a.order_id, count(*) as sales, sum(a.amount) as captured, string_agg(a.sale_id, ', ' order by a.created_at) as sale_ids,
                   max(a.updated_at) as detected_at
              from order_payment_attempt a
             where a.order_id in (select x.order_id from order_payment_attempt x where x.sale_id is not null and x.status <> 'succeeded')
               and a.sale_id is not null and (a.status = 'succeeded' or a.sale_state = 'completed')
             group by a.order_id having count(*) > 1) c
      join "order" o on o.id = c.order_id
    union all
    select 'stuck_attempt', 'stuck_attempt:' || a.id, a.order_id, a.id, null, o.status, a.amount, a.currency,
           format('attempt %s for %s minutes%s', a.status, floor(extract(epoch from now() - a.updated_at) / 60)::int,
                  case when a.sale_state = 'pending' then ', its sale pending at PayPal' else '' end),
           a.updated_at
      from order_payment_attempt a join "order" o on o.id = a.order_id
     where a.status in ('created', 'approved') and a.updated_at < now() - make_interval(mins => ${stuckAfterMinutes})
    union all
    select 'unmatched_ipn', 'unmatched_ipn:' || e.id, null, null, e.id, null, e.amount, e.currency,
           format('%s %s for txn %s matches no attempt', case e.source when 'ipn' then 'IPN' else 'Webhook' end,
                  coalesce(e.provider_status, '(no status)'), coalesce(e.txn_id, '(none)')),
           e.created_at
      from payment_event e
     where e.processing = 'unmatched' and e.source in ('ipn', 'webhook')`;
}

const unresolved = sql`not exists (select 1 from reconciliation_resolution r where r.discrepancy_id = d.id)`;

function toDiscrepancy(row: DiscrepancyRow): Discrepancy {
  return { ...row, detectedAt: iso(row.detectedAt) };
}

const DISCREPANCY_ID = /^([a-z_]+):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export class ReconciliationService {
  constructor(private readonly orm: MikroORM) {}

  async summary(stuckAfterMinutes = DEFAULT_STUCK_AFTER_MINUTES): Promise<ReconciliationSummary> {
    const counted = await rows(
      this.orm.em.fork(),
      sql<{ kind: DiscrepancyKind; n: number }>`
        select d.kind, count(*)::int as n from (${discrepancies(stuckAfterMinutes)}) d where ${unresolved} group by d.kind`,
    );
    const counts = Object.fromEntries(DISCREPANCY_KINDS.map((kind) => [kind, 0])) as Record<DiscrepancyKind, number>;
    for (const { kind, n } of counted) counts[kind] = n;
    return { counts, total: counted.reduce((sum, c) => sum + c.n, 0) };
  }

  /** Newest first, keyset-paginated on (detectedAt, id). */
  async list(input: { kind?: DiscrepancyKind; cursor?: string; limit: number; stuckAfterMinutes?: number }): Promise<ReconciliationPage> {
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, CURSOR_ORDERING, 'timestamp');
    const page = await rows(
      this.orm.em.fork(),
      sql<DiscrepancyRow>`
        select d.* from (${discrepancies(input.stuckAfterMinutes ?? DEFAULT_STUCK_AFTER_MINUTES)}) d
         where ${unresolved}
           ${input.kind ? sql`and d.kind = ${input.kind}` : sql``}
           ${after ? sql`and (d."detectedAt", d.id) < (${after.key}::timestamptz, ${after.id})` : sql``}
         order by d."detectedAt" desc, d.id desc
         limit ${input.limit + 1}`,
    );
    const items = page.slice(0, input.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDiscrepancy),
      nextCursor: page.length > input.limit && last ? encodeCursor(CURSOR_ORDERING, { key: String(last.detectedAt), id: last.id }) : null,
    };
  }

  /** Marks a current discrepancy as dealt with; the resolution and its audit entry commit together. */
  async resolve(discrepancyId: string, reason: string, actor: Actor): Promise<ResolveResult> {
    const match = DISCREPANCY_ID.exec(discrepancyId);
    const kind = match?.[1] as DiscrepancyKind | undefined;
    if (!kind || !DISCREPANCY_KINDS.includes(kind)) throw badRequest('discrepancyId: is not a discrepancy id', 'discrepancyId');
    return this.orm.em.fork().transactional(async (tx) => {
      // Any attempt past the shortest threshold the list offers may have been listed as stuck.
      const found = await firstRow(
        tx,
        sql<DiscrepancyRow>`select d.* from (${discrepancies(1)}) d where d.kind = ${kind} and d.id = ${discrepancyId}`,
      );
      if (!found) throw notFound('discrepancy');
      const resolution = await firstRow(
        tx,
        sql<{ createdAt: string }>`
          insert into reconciliation_resolution (id, created_at, updated_at, discrepancy_id, kind, order_id, staff_id, reason)
          values (${newId()}, now(), now(), ${discrepancyId}, ${kind}, ${found.orderId}, ${actor.id}, ${reason})
          on conflict (discrepancy_id) do nothing
          returning created_at as "createdAt"`,
      );
      if (!resolution) throw conflict('this discrepancy is already resolved');
      const discrepancy = toDiscrepancy(found);
      await recordAudit(tx, {
        actor,
        action: 'discrepancy.resolved',
        orderId: found.orderId,
        before: { discrepancy },
        after: { resolved: true },
        reason,
      });
      return { discrepancyId, resolvedAt: iso(resolution.createdAt) };
    });
  }
}
