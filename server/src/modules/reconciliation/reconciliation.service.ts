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
  type StaffRole,
} from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { firstRow, iso, rows, sql, withLocalSettings } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { UUID_SOURCE } from '../../ids.js';
import { decodeCursor, encodeCursor } from '../backoffice/keyset-cursor.js';
import { ASSERTED_PAYMENT_STATUS, PAID_STATUSES } from '../orders/order-state.js';
import type { FlagKind } from '../payments/payment-events.js';
import { moneyText } from '../../money-text.js';
import { allowedDiscrepancyActions } from './discrepancy-actions.js';
import { UNPAID_SALE_TABLE } from './unpaid-sales.js';

export const DEFAULT_STUCK_AFTER_MINUTES = 30;

const { DISCREPANCY_KINDS } = backoffice;
const UNPAID_STATUSES = ORDER_STATUSES.filter((s) => !PAID_STATUSES.includes(s));
const CURSOR_ORDERING = 'discrepancies';

type DiscrepancyRow = Omit<Discrepancy, 'detectedAt' | 'allowedActions'> & { detectedAt: string };

/** Flags a payment event can carry that staff work from the event itself, each listed as its own kind. */
const EVENT_FLAG_KINDS = [
  'amount_mismatch',
  'unreadable_amount',
  'conflicting_sale',
  'unexpected_state',
  'receiver_mismatch',
  'signature_invalid',
  'dispute_opened',
] as const satisfies readonly DiscrepancyKind[] & readonly FlagKind[];
// double_payment and paid_after_cancel are listed from the state they leave (multiple_successes,
// duplicate_refunded, paid_at_paypal_not_paid), which also tells whether the money went back;
// no_open_reversal and refund_exceeds_total from what the sale's ledger adds up to now, so a
// message that arrived early stops being a discrepancy once the one it waited for arrives.

/**
 * An amount in a detail text: the statement marks it (`{money:3000}`), and toDiscrepancy writes it with the
 * item's currency the way the back office shows money ("$30.00"; JPY without decimals), never raw minor units.
 */
const money = (minor: RawBuilder<unknown>) => sql`'{money:' || (${minor})::bigint || '}'`;
const MONEY_MARK = /\{money:(-?\d+)\}/g;
/** The kinds whose detail this statement writes with amounts in it (an event flag's detail is its outcome, already written). */
const KINDS_WITH_MONEY: ReadonlySet<string> = new Set(['no_open_reversal', 'refund_exceeds_total', 'parked_movement']);

/** Unpaid statuses written out (a literal list the planner can plan with). */
const UNPAID_LITERAL = sql.raw(UNPAID_STATUSES.map((status) => `'${status}'`).join(', '));

/** What a sale's money out was last (its newest refund, reversal or cancellation), for the few sales sale_ledger lists. */
const LAST_MONEY_OUT = sql`
  (select (array_agg(m.id order by m.created_at desc, m.id desc))[1] as last_id,
          (array_agg(m.order_id order by m.created_at desc) filter (where m.order_id is not null))[1] as order_id,
          (array_agg(m.attempt_id order by m.created_at desc) filter (where m.attempt_id is not null))[1] as attempt_id,
          min(m.currency) as currency, max(m.created_at) as detected_at
     from money_movement m where m.sale_id = l.sale_id and m.kind <> 'capture' and m.state = 'applied')`;

/*
 * Every discrepancy, computed on demand by one SQL statement; each branch starts from an index:
 *  - paid_at_paypal_not_paid:  unpaid orders with an attempt holding a completed sale not given back: the orders the
 *                              database noted unpaid with a succeeded attempt when a transaction committed that state
 *                              (unpaid-sales.ts), and attempts with a completed sale that did not succeed (attempt_extra_capture_idx);
 *                              each checked here against its state now
 *  - event flags:              flagged events (payment_event_processing_idx), one kind per flag_kind
 *  - multiple_successes:       captured sales beside the order's success, still captured (attempt_extra_capture_idx)
 *  - duplicate_refunded:       the same, given back whole
 *  - paid_without_paypal_sale: orders a service asserted paid (order_asserted_paid_idx) with no capture in the ledger
 *  - stuck_attempt:            created/approved attempts not touched for a while (attempt_status_idx)
 *  - unmatched_ipn:            notifications (IPNs and webhooks) that matched no attempt (payment_event_processing_idx)
 *  - parked_movement:          refunds/reversals still waiting for their sale after the threshold (money_movement_parked_idx)
 *  - no_open_reversal, refund_exceeds_total: sales whose money out adds up wrong (sale_ledger's partial indexes)
 * A discrepancy's id is `kind:subject`; resolving it records that id, and it no longer shows.
 */
function discrepancies(stuckAfterMinutes: number): RawBuilder<DiscrepancyRow> {
  return sql<DiscrepancyRow>`
    with unpaid_with_sale as materialized (
      select u.order_id as id from ${sql.table(UNPAID_SALE_TABLE)} u
      union
      select x.order_id from order_payment_attempt x where x.sale_id is not null and x.status <> 'succeeded' and x.sale_state = 'completed'
    )
    select 'paid_at_paypal_not_paid'::text as kind, 'paid_at_paypal_not_paid:' || a.id as id, o.id as "orderId", o.number::int as "orderNumber", a.id as "attemptId",
           null::uuid as "eventId", o.status::text as "orderStatus", a.amount, a.currency::text as currency,
           format('PayPal captured sale %s (attempt %s) but the order is %s', a.sale_id, a.status, o.status) as detail,
           coalesce(a.succeeded_at, a.updated_at) as "detectedAt"
      from "order" o join order_payment_attempt a on a.order_id = o.id
     where o.id in (select id from unpaid_with_sale)
       and o.status in (${UNPAID_LITERAL}) and a.sale_id is not null and (a.status = 'succeeded' or a.sale_state = 'completed')
       and coalesce(a.sale_state, '') <> 'refunded'
    union all
    select e.flag_kind, e.flag_kind || ':' || e.id, e.order_id, o.number, e.attempt_id, e.id, o.status, e.amount, e.currency,
           coalesce(e.outcome, e.flag_kind) || format(' (%s)', e.source), e.created_at
      from payment_event e left join "order" o on o.id = e.order_id
     where e.processing = 'flagged' and e.flag_kind in (${sql.join([...EVENT_FLAG_KINDS])})
    union all
    select case when a.sale_state = 'refunded' then 'duplicate_refunded' else 'multiple_successes' end,
           case when a.sale_state = 'refunded' then 'duplicate_refunded:' else 'multiple_successes:' end || a.id,
           o.id, o.number, a.id, null, o.status, a.amount, a.currency,
           case when a.sale_state = 'refunded'
                then format('second payment: sale %s (attempt %s) was refunded; the order was paid by sale %s', a.sale_id, a.id, o.payment_transaction_id)
                else format('second payment: sale %s (attempt %s) is captured, %s; the order was paid by sale %s', a.sale_id, a.id,
                            replace(coalesce(a.sale_state, 'completed'), '_', ' '), o.payment_transaction_id) end,
           a.updated_at
      from order_payment_attempt a join "order" o on o.id = a.order_id
     where a.sale_id is not null and a.status <> 'succeeded' and a.sale_state in ('completed', 'partially_refunded', 'refunded')
       and o.status in (${sql.join(PAID_STATUSES)}) and o.payment_transaction_id is distinct from a.sale_id
    union all
    select 'paid_without_paypal_sale', 'paid_without_paypal_sale:' || o.id, o.id, o.number, null, null, o.status, o.total, o.currency,
           format('marked paid by a service (%s) with no PayPal sale captured for it', coalesce(o.payment_transaction_id, 'no sale id')),
           coalesce(o.paid_at, o.updated_at)
      from "order" o
     where o.payment_status = ${ASSERTED_PAYMENT_STATUS} and o.status in (${sql.join(PAID_STATUSES)})
       and not exists (select 1 from money_movement m where m.provider_txn_id = o.payment_transaction_id and m.kind = 'capture' and m.state = 'applied')
    union all
    select 'no_open_reversal', 'no_open_reversal:' || x.last_id, x.order_id, o.number, x.attempt_id, null, o.status, (l.canceled - l.reversed)::int, x.currency,
           format('PayPal cancelled %s of chargebacks on sale %s, which has %s reversed: the cancellation waits for its reversal and gives nothing back',
                  ${money(sql`l.canceled`)}, l.sale_id, ${money(sql`l.reversed`)}),
           x.detected_at
      from sale_ledger l cross join lateral ${LAST_MONEY_OUT} x left join "order" o on o.id = x.order_id
     where l.canceled > l.reversed
    union all
    select 'refund_exceeds_total', 'refund_exceeds_total:' || x.last_id, x.order_id, o.number, x.attempt_id, null, o.status,
           (l.refunded + greatest(0, l.reversed - l.canceled) - l.captured)::int, x.currency,
           format('refunds and chargebacks on sale %s add up to %s, more than the %s it captured', l.sale_id,
                  ${money(sql`l.refunded + greatest(0, l.reversed - l.canceled)`)}, ${money(sql`l.captured`)}),
           x.detected_at
      from sale_ledger l cross join lateral ${LAST_MONEY_OUT} x left join "order" o on o.id = x.order_id
     where l.captured > 0 and l.refunded + greatest(0, l.reversed - l.canceled) > l.captured
    union all
    select 'stuck_attempt', 'stuck_attempt:' || a.id, a.order_id, o.number, a.id, null, o.status, a.amount, a.currency,
           format('attempt %s for %s minutes%s', a.status, floor(extract(epoch from now() - a.updated_at) / 60)::int,
                  case when a.sale_state = 'pending' then ', its sale pending at PayPal' else '' end),
           a.updated_at
      from order_payment_attempt a join "order" o on o.id = a.order_id
     where a.status in ('created', 'approved') and a.updated_at < now() - make_interval(mins => ${stuckAfterMinutes})
    union all
    select 'unmatched_ipn', 'unmatched_ipn:' || e.id, null, null, null, e.id, null, e.amount, e.currency,
           format('%s %s for txn %s matches no attempt', case e.source when 'ipn' then 'IPN' else 'Webhook' end,
                  coalesce(e.provider_status, '(no status)'), coalesce(e.txn_id, '(none)')),
           e.created_at
      from payment_event e
     where e.processing = 'unmatched' and e.source in ('ipn', 'webhook')
    union all
    -- On the order its message named (IPN invoice), when it named one: re-sync of that attempt can find the sale.
    select 'parked_movement', 'parked_movement:' || m.id, o.id, o.number::int, e.attempt_id, m.event_id, o.status::text, m.amount, m.currency,
           format('%s of %s for sale %s, which PayPal has not confirmed to us; waiting since %s minutes', replace(m.kind, '_', ' '), ${money(sql`m.amount`)},
                  m.sale_id, floor(extract(epoch from now() - m.created_at) / 60)::int),
           m.created_at
      from money_movement m
      left join payment_event e on e.id = m.event_id
      left join "order" o on o.id = e.order_id
     where m.state = 'parked' and m.created_at < now() - make_interval(mins => ${stuckAfterMinutes})`;
}

const unresolved = sql`not exists (select 1 from reconciliation_resolution r where r.discrepancy_id = d.id)`;

/** An item as the list gives it to `role`: with the actions that role may take from it (none for a viewer). */
function toDiscrepancy(row: DiscrepancyRow, role: StaffRole): Discrepancy {
  const detail = KINDS_WITH_MONEY.has(row.kind) ? row.detail.replace(MONEY_MARK, (_, minor: string) => moneyText(Number(minor), row.currency)) : row.detail;
  return { ...row, detail, detectedAt: iso(row.detectedAt), allowedActions: allowedDiscrepancyActions(row, role) };
}

const DISCREPANCY_ID = new RegExp(`^([a-z_]+):(${UUID_SOURCE})$`);

export class ReconciliationService {
  constructor(private readonly orm: MikroORM) {}

  async summary(stuckAfterMinutes = DEFAULT_STUCK_AFTER_MINUTES): Promise<ReconciliationSummary> {
    // No parallel workers: the statement finds a handful of rows, but the planner, expecting ~115,000
    // second captures (it multiplies the selectivities of sale_id, status and sale_state, which go
    // together), planned a parallel hash join for them. Starting its two workers took ~50 ms of the
    // summary's ~120 ms at 1M orders, on a join whose own work was 3 ms (EXPLAIN ANALYZE); without
    // them the summary took ~69 ms.
    const counted = await withLocalSettings(
      this.orm.em.fork(),
      { max_parallel_workers_per_gather: '0' },
      sql<{ kind: DiscrepancyKind; n: number }>`
        select d.kind, count(*)::int as n from (${discrepancies(stuckAfterMinutes)}) d where ${unresolved} group by d.kind`,
    );
    const counts = Object.fromEntries(DISCREPANCY_KINDS.map((kind) => [kind, 0])) as Record<DiscrepancyKind, number>;
    for (const { kind, n } of counted) counts[kind] = n;
    return { counts, total: counted.reduce((sum, c) => sum + c.n, 0) };
  }

  /** Newest first, keyset-paginated on (detectedAt, id); each item with what `role` may do from it. */
  async list(
    input: { kind?: DiscrepancyKind; cursor?: string; limit: number; stuckAfterMinutes?: number },
    role: StaffRole = 'viewer',
  ): Promise<ReconciliationPage> {
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
      items: items.map((row) => toDiscrepancy(row, role)),
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
      const { allowedActions: _actions, ...discrepancy } = toDiscrepancy(found, 'viewer');
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
