import type { MikroORM } from '@mikro-orm/postgresql';
import {
  ATTEMPT_STATUSES,
  NOTIFICATION_SOURCES,
  ORDER_STATUSES,
  dashboardDayCount,
  type AttemptStatus,
  type ConversionDay,
  type Currency,
  type Dashboard,
  type NotificationLag,
  type OrderStatus,
  type RefundDay,
  type RevenueDay,
} from '@orders/shared';
import type { RawBuilder } from 'kysely';
import { db, sql, withLocalSettings, type EntityManager } from '../../db/sql.js';
import type { ReconciliationService } from '../reconciliation/reconciliation.service.js';

/*
 * The back office's dashboard: one statement per figure, each bounded by the date range and read
 * through an index that covers it (measured in tests/backoffice/dashboard-plan.test.ts):
 *  - money:     money_movement_created_idx (created_at) include (kind, amount, currency), applied rows
 *  - orders:    order_status_idx (status, created_at, id), or order_currency_status_idx with a currency
 *  - attempts:  attempt_created_idx (created_at) include (status, currency, order_id)
 *  - lag:       payment_event_notification_idx (created_at) include (source, processed_at), IPNs and webhooks
 *  - backlog:   payment_event_processing_idx (processing, created_at)
 * /metrics publishes the backlog and the lag from these same functions (http/metrics.ts), and the
 * reconciliation counts from the summary the queue's badge shows, so staff and alerts never disagree.
 * Days are UTC calendar days, whatever the server's or the viewer's time zone.
 */

export interface DayRange {
  /** Inclusive. */
  start: Date;
  /** Exclusive. */
  end: Date;
}

/** [from 00:00 UTC, the day after `to` 00:00 UTC). */
export function utcDayRange(from: string, to: string): DayRange {
  return { start: new Date(`${from}T00:00:00Z`), end: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000) };
}

/**
 * The UTC day a timestamptz column falls in, as the timestamptz of its midnight: plain arithmetic
 * per row (to_char per row, then grouping and sorting text, cost 2–3× as much at 1M orders). The
 * statements group by this and format only the groups (utcDayLabel): PostgreSQL matches the
 * grouped expression inside the label, the text of both being the same.
 */
const utcDayOf = (column: string) => sql<Date>`date_bin('1 day', ${sql.ref(column)}, timestamptz '2000-01-01 00:00:00+00')`;
/** A utcDayOf value as YYYY-MM-DD. */
const utcDayLabel = (day: RawBuilder<unknown>) => sql<string>`to_char(${day} at time zone 'UTC', 'YYYY-MM-DD')`;

const countAll = sql<number>`count(*)::int`;

/**
 * Room to sort in memory: the attempts' count(distinct order_id) and the lag percentiles sort every
 * row of the range, ~30 MB for 90 days at 1M orders, which spilled to disk under the default 4 MB
 * work_mem (external merge; the 90-day procedure took 8.9 s). Local to the statement's transaction.
 */
const SORT_MEMORY = { work_mem: '64MB' } as const;

/** Applied ledger rows per UTC day, currency and kind. */
export function moneyByDayQuery(em: EntityManager, range: DayRange, currency: Currency | undefined) {
  const day = utcDayOf('created_at');
  let query = db(em)
    .selectFrom('money_movement')
    .select([utcDayLabel(day).as('day'), 'currency', 'kind', countAll.as('count'), sql<number>`sum(amount)::float8`.as('amount')])
    // A literal, so the planner matches money_movement_created_idx's predicate.
    .where(sql<boolean>`state = 'applied'`)
    .where('created_at', '>=', range.start)
    .where('created_at', '<', range.end);
  if (currency) query = query.where('currency', '=', currency);
  return query.groupBy([day, 'currency', 'kind']);
}

/** Orders created per UTC day, by their status now. */
export function ordersByDayQuery(em: EntityManager, range: DayRange, currency: Currency | undefined) {
  const day = utcDayOf('created_at');
  let query = db(em)
    .selectFrom('order')
    .select([utcDayLabel(day).as('day'), 'status', countAll.as('count')])
    // Every status named: the (status, created_at) indexes answer it index-only, one range per status.
    .where('status', 'in', [...ORDER_STATUSES])
    .where('created_at', '>=', range.start)
    .where('created_at', '<', range.end);
  if (currency) query = query.where('currency', '=', currency);
  return query.groupBy([day, 'status']).$narrowType<{ status: OrderStatus }>();
}

/**
 * Attempts started per UTC day by status now, plus distinct orders; the grouping set `()` adds the
 * whole range's row (day null), whose distinct count is not the sum of the days'.
 */
export function attemptsByDayQuery(em: EntityManager, range: DayRange, currency: Currency | undefined) {
  const day = utcDayOf('created_at');
  let query = db(em)
    .selectFrom('order_payment_attempt')
    .select([
      utcDayLabel(day).as('day'),
      countAll.as('attempts'),
      sql<number>`count(distinct order_id)::int`.as('orders'),
      ...ATTEMPT_STATUSES.map((status) => sql<number>`(count(*) filter (where status = ${status}))::int`.as(status)),
    ])
    .where('created_at', '>=', range.start)
    .where('created_at', '<', range.end);
  if (currency) query = query.where('currency', '=', currency);
  return query.groupBy(sql`grouping sets ((${day}), ())`);
}

async function attemptsByDay(em: EntityManager, range: DayRange, currency: Currency | undefined) {
  const result = await withLocalSettings(em, SORT_MEMORY, attemptsByDayQuery(em, range, currency));
  return result as unknown as ({ day: string | null; attempts: number; orders: number } & Record<AttemptStatus, number>)[];
}


/**
 * IPN and webhook delay from stored to processed, over the arrivals in `range` that are processed:
 * one row, each source's figures by FILTER. Grouping by source would sort every row by source
 * before each percentile sorts its own rows again (an ordered-set aggregate cannot be hashed).
 */
export function notificationLagQuery(em: EntityManager, range: DayRange) {
  // date_part is float8 already, what percentile_cont sorts; extract() makes a numeric per row first.
  const seconds = sql<number>`date_part('epoch', processed_at - created_at)`;
  return (
    db(em)
      .selectFrom('payment_event')
      .select(
        NOTIFICATION_SOURCES.flatMap((source) => {
          const only = sql`filter (where source = ${sql.lit(source)})`;
          return [
            sql<number>`(count(*) ${only})::int`.as(`${source}Processed`),
            sql<number | null>`percentile_cont(0.5) within group (order by ${seconds}) ${only}`.as(`${source}P50`),
            sql<number | null>`percentile_cont(0.95) within group (order by ${seconds}) ${only}`.as(`${source}P95`),
            sql<number | null>`max(${seconds}) ${only}`.as(`${source}Max`),
          ];
        }),
      )
      // A literal, so the planner matches payment_event_notification_idx's predicate.
      .where(sql<boolean>`source in ('ipn', 'webhook')`)
      .where('created_at', '>=', range.start)
      .where('created_at', '<', range.end)
      .where('processed_at', 'is not', null)
  );
}

export async function notificationLag(em: EntityManager, range: DayRange): Promise<NotificationLag[]> {
  const [found] = (await withLocalSettings(em, SORT_MEMORY, notificationLagQuery(em, range))) as Record<string, number | null>[];
  const round = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(Number(value) * 1000) / 1000);
  return NOTIFICATION_SOURCES.map((source) => ({
    source,
    processed: found?.[`${source}Processed`] ?? 0,
    p50Seconds: round(found?.[`${source}P50`]),
    p95Seconds: round(found?.[`${source}P95`]),
    maxSeconds: round(found?.[`${source}Max`]),
  }));
}

/** IPNs and webhooks stored but not processed yet, and the oldest one's age (payment_event_processing_idx, no scan). */
export function inboxBacklogQuery(em: EntityManager) {
  return db(em)
    .selectFrom('payment_event')
    .select([countAll.as('backlog'), sql<number | null>`extract(epoch from now() - min(created_at))::float8`.as('oldestSeconds')])
    .where('processing', '=', 'received')
    .where('source', 'in', ['ipn', 'webhook']);
}

export async function inboxBacklog(em: EntityManager): Promise<{ backlog: number; oldestSeconds: number }> {
  const row = await inboxBacklogQuery(em).executeTakeFirst();
  return { backlog: row?.backlog ?? 0, oldestSeconds: Math.max(0, row?.oldestSeconds ?? 0) };
}

function daysOf(from: string, count: number): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

export class DashboardService {
  constructor(
    private readonly orm: MikroORM,
    private readonly reconciliation: ReconciliationService,
  ) {}

  async dashboard(input: { from: string; to: string; currency?: Currency | undefined }): Promise<Dashboard> {
    const em = this.orm.em.fork();
    const range = utcDayRange(input.from, input.to);
    const [money, orders, attempts, lag, inbox, reconciliation] = await Promise.all([
      moneyByDayQuery(em, range, input.currency).execute(),
      ordersByDayQuery(em, range, input.currency).execute(),
      attemptsByDay(em, range, input.currency),
      notificationLag(em, range),
      inboxBacklog(em),
      this.reconciliation.summary(),
    ]);

    const revenue = new Map<string, RevenueDay>();
    const refunds: RefundDay[] = [];
    for (const row of money) {
      const currency = row.currency as Currency;
      const key = `${row.day} ${currency}`;
      const entry = revenue.get(key) ?? { day: row.day, currency, captured: 0, refunded: 0, reversed: 0, net: 0 };
      const amount = Number(row.amount);
      if (row.kind === 'capture') entry.captured += amount;
      else if (row.kind === 'refund') {
        entry.refunded += amount;
        refunds.push({ day: row.day, currency, count: row.count, amount });
      } else if (row.kind === 'reversal') entry.reversed += amount;
      else if (row.kind === 'reversal_canceled') entry.reversed -= amount;
      entry.net = entry.captured - entry.refunded - entry.reversed;
      revenue.set(key, entry);
    }
    const byDayThenCurrency = <T extends { day: string; currency: string }>(a: T, b: T) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency);
    const revenueDays = [...revenue.values()].sort(byDayThenCurrency);
    const totals = new Map<Currency, Omit<RevenueDay, 'day'>>();
    for (const day of revenueDays) {
      const total = totals.get(day.currency) ?? { currency: day.currency, captured: 0, refunded: 0, reversed: 0, net: 0 };
      total.captured += day.captured;
      total.refunded += day.refunded;
      total.reversed += day.reversed;
      total.net += day.net;
      totals.set(day.currency, total);
    }

    const whole = attempts.find((row) => row.day === null);
    const conversion: ConversionDay[] = attempts
      .filter((row): row is typeof row & { day: string } => row.day !== null)
      .map((row) => ({ day: row.day, attempts: row.attempts, orders: row.orders, paid: row.succeeded }))
      .sort((a, b) => a.day.localeCompare(b.day));
    const paid = whole?.succeeded ?? 0;
    const attemptedOrders = whole?.orders ?? 0;

    return {
      from: input.from,
      to: input.to,
      currency: input.currency ?? null,
      timeZone: 'UTC',
      days: daysOf(input.from, dashboardDayCount(input.from, input.to)),
      generatedAt: new Date().toISOString(),
      revenue: revenueDays,
      revenueTotals: [...totals.values()].sort((a, b) => b.net - a.net || a.currency.localeCompare(b.currency)),
      refunds: refunds.sort(byDayThenCurrency),
      orders: orders.sort((a, b) => a.day.localeCompare(b.day) || ORDER_STATUSES.indexOf(a.status) - ORDER_STATUSES.indexOf(b.status)),
      ordersTotal: orders.reduce((sum, row) => sum + row.count, 0),
      conversion,
      conversionTotals: { attempts: whole?.attempts ?? 0, orders: attemptedOrders, paid, rate: attemptedOrders ? paid / attemptedOrders : 0 },
      attemptOutcomes: ATTEMPT_STATUSES.map((status) => ({ status, count: whole?.[status] ?? 0 })),
      lag,
      inbox,
      reconciliation,
    };
  }
}
