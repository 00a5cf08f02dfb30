import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptsByDayQuery,
  inboxBacklogQuery,
  moneyByDayQuery,
  notificationLagQuery,
  ordersByDayQuery,
  utcDayRange,
} from '@orders/server/modules/backoffice/dashboard.ts';
import { seedDashboardActivity } from '../bench/lib/dashboard.ts';
import { seedSearchOrders } from '../bench/lib/seed.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';

/*
 * The dashboard's statements over a year of orders: each reads its table through its index (no
 * sequential scan of a big table), bounded by the date range. 20,000 orders by default;
 * DASHBOARD_PLAN_ORDERS=1000000 measures the real thing (the timings are printed).
 * Measured at 1M on 2026-11-30 (machine shared and busy): 7 days, every statement 0.1–46 ms; 30 and
 * 90 days failed here: the attempts statement's count(distinct order_id) sorts on disk (work_mem 4 MB),
 * and the whole 90-day procedure took 8.9 s. Since then the sorting statements run with 64 MB
 * (withSortMemory, so the plans below are read with that setting too), days are grouped by
 * date_bin and labelled per group, the lag sorts float8. The figures must not move: the last test
 * compares every one with the plain statements they replace.
 */
const ORDERS = Number(process.env.DASHBOARD_PLAN_ORDERS ?? 20_000);

let env: BackofficeTestEnv;
let viewer: StaffSession;
const day = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  const seeded = await seedSearchOrders(env.db.url, ORDERS, () => undefined);
  // The ledger, the IPN/webhook inbox and retried attempts the seeded orders imply (the bench's own seed).
  await seedDashboardActivity(env.db.url, () => undefined);
  console.log(`dashboard plan: ${ORDERS.toLocaleString('en-US')} orders, ${seeded.attempts.toLocaleString('en-US')} attempts seeded in ${seeded.seconds.toFixed(1)} s`);
}, 1_800_000);
afterAll(() => env?.close());

/** The plan PostgreSQL picks for the exact statement the service runs; with `analyze`, its run time too. */
async function plan(statement: { compile(): { sql: string; parameters: readonly unknown[] } }, analyze = false, workMem = '4MB'): Promise<string> {
  const compiled = statement.compile();
  const client = await env.pool.connect();
  try {
    await client.query(`set work_mem = '${workMem}'`);
    const { rows } = await client.query(`explain ${analyze ? '(analyze, buffers) ' : ''}${compiled.sql}`, [...compiled.parameters]);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('reset work_mem');
    client.release();
  }
}

describe(`dashboard plans over ${ORDERS.toLocaleString('en-US')} orders`, () => {
  const em = () => env.server.orm.em.fork();

  // At 20,000 orders a 30- or 90-day range is a large share of every table, and whether the planner
  // then prefers the index depends on how much of the heap vacuum could mark all-visible while this
  // server's workers hold snapshots: in a loaded CI run it chose sequential scans for those two. That
  // is a cost decision at toy size, not what this checks; with DASHBOARD_PLAN_ORDERS >= 100,000 all
  // three ranges are checked (and timed). The figure tests below run every range at any size.
  it.each(ORDERS >= 100_000 ? [7, 30, 90] : [7])('the last %i days: every statement reads through an index, none scans a table', async (days) => {
    const range = utcDayRange(day(-(days - 1)), day());
    const statements = {
      money: moneyByDayQuery(em(), range, undefined),
      moneyUsd: moneyByDayQuery(em(), range, 'USD'),
      orders: ordersByDayQuery(em(), range, undefined),
      ordersUsd: ordersByDayQuery(em(), range, 'USD'),
      attempts: attemptsByDayQuery(em(), range, undefined),
      lag: notificationLagQuery(em(), range),
      backlog: inboxBacklogQuery(em()),
    };
    const expected: Record<keyof typeof statements, RegExp> = {
      money: /money_movement_created_idx/,
      moneyUsd: /money_movement_created_idx/,
      orders: /order_status_idx|order_created_idx/,
      ordersUsd: /order_currency_status_idx|order_currency_idx/,
      attempts: /attempt_created_idx/,
      // At 20,000 orders the planner may also take payment_event_processing_idx (processing, created_at),
      // skipping over its few processing values to the same date range (it did in a loaded CI run): bounded
      // by the range as well. At 100,000 orders and more the covering index is required.
      lag: ORDERS >= 100_000 ? /payment_event_notification_idx/ : /payment_event_notification_idx|payment_event_processing_idx[\s\S]*Index Cond: .*created_at >=/,
      backlog: /payment_event_processing_idx/,
    };
    const timings: string[] = [];
    for (const [name, statement] of Object.entries(statements) as [keyof typeof statements, (typeof statements)[keyof typeof statements]][]) {
      // The service runs these two with 64 MB to sort in (withSortMemory).
      const text = await plan(statement, ORDERS >= 100_000, name === 'attempts' || name === 'lag' ? '64MB' : '4MB');
      expect(text, name).toMatch(expected[name]);
      expect(text, name).not.toMatch(/Seq Scan on "?(order|order_payment_attempt|money_movement|payment_event)"?\b/);
      expect(text, name).not.toMatch(/Sort Method: external/);
      const time = /Execution Time: ([\d.]+) ms/.exec(text)?.[1];
      if (time) timings.push(`${name} ${time} ms`);
    }
    if (timings.length) console.log(`dashboard, last ${days} days: ${timings.join(', ')}`);
  });

  it('the whole procedure answers within a second for 90 days', async () => {
    const started = performance.now();
    const answer = await viewer.client.backoffice.dashboard.query({ from: day(-89), to: day() });
    const ms = performance.now() - started;
    console.log(`backoffice.dashboard, 90 days over ${ORDERS.toLocaleString('en-US')} orders: ${ms.toFixed(0)} ms`);
    expect(answer.ordersTotal).toBeGreaterThan(0);
    expect(answer.revenueTotals.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(ORDERS >= 100_000 ? 5000 : 1000);
  });

  /*
   * Every figure against the plain statements the dashboard used before it was made fast (to_char per
   * row, count(distinct), extract(epoch) — written out here, not shared with the service), over the
   * seeded data: retried attempts make distinct orders differ from attempts, refunds and reversals
   * make net differ from captured.
   */
  it.each([
    ['today', 1, undefined],
    ['7 days', 7, undefined],
    ['30 days', 30, undefined],
    ['90 days', 90, undefined],
    ['90 days, USD', 90, 'USD'],
  ] as const)('%s: every figure equals the plain statements’', async (_name, days, currency) => {
    const from = day(-(days - 1));
    const answer = await viewer.client.backoffice.dashboard.query({ from, to: day(), ...(currency ? { currency } : {}) });
    const range = utcDayRange(from, day());
    const params = [range.start, range.end, currency ?? null];
    const inRange = `created_at >= $1 and created_at < $2`;
    const ofCurrency = `($3::text is null or currency = $3)`;
    const dayOf = `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;

    const { rows: orders } = await env.pool.query(
      `select ${dayOf} as day, status, count(*)::int as count from "order" where ${inRange} and ${ofCurrency} group by 1, 2`,
      params,
    );
    const byDayStatus = (a: { day: string; status: string }, b: { day: string; status: string }) => a.day.localeCompare(b.day) || a.status.localeCompare(b.status);
    expect([...answer.orders].sort(byDayStatus)).toEqual(orders.sort(byDayStatus));

    const { rows: attempts } = await env.pool.query(
      `select ${dayOf} as day, count(*)::int as attempts, count(distinct order_id)::int as orders, (count(*) filter (where status = 'succeeded'))::int as paid
         from order_payment_attempt where ${inRange} and ${ofCurrency} group by 1 order by 1`,
      params,
    );
    expect(answer.conversion).toEqual(attempts);
    const { rows: [whole] } = await env.pool.query(
      `select count(*)::int as attempts, count(distinct order_id)::int as orders, (count(*) filter (where status = 'succeeded'))::int as paid
         from order_payment_attempt where ${inRange} and ${ofCurrency}`,
      params,
    );
    expect(answer.conversionTotals).toEqual({ attempts: whole.attempts, orders: whole.orders, paid: whole.paid, rate: whole.orders ? whole.paid / whole.orders : 0 });
    if (days >= 7) expect(whole.orders).toBeLessThan(whole.attempts);
    const { rows: outcomes } = await env.pool.query(`select status, count(*)::int as n from order_payment_attempt where ${inRange} and ${ofCurrency} group by 1`, params);
    for (const { status, count } of answer.attemptOutcomes) expect(count, status).toBe(outcomes.find((o) => o.status === status)?.n ?? 0);

    const { rows: money } = await env.pool.query(
      `select ${dayOf} as day, currency, kind, count(*)::int as count, sum(amount)::float8 as amount
         from money_movement where state = 'applied' and ${inRange} and ${ofCurrency} group by 1, 2, 3`,
      params,
    );
    const refunds = money.filter((m) => m.kind === 'refund').map(({ day: d, currency: c, count, amount }) => ({ day: d, currency: c, count, amount }));
    const byDayCurrency = (a: { day: string; currency: string }, b: { day: string; currency: string }) => a.day.localeCompare(b.day) || a.currency.localeCompare(b.currency);
    expect(answer.refunds).toEqual(refunds.sort(byDayCurrency));
    const net = new Map<string, number>();
    for (const m of money) {
      const sign = m.kind === 'capture' || m.kind === 'reversal_canceled' ? 1 : -1;
      net.set(`${m.day} ${m.currency}`, (net.get(`${m.day} ${m.currency}`) ?? 0) + sign * m.amount);
    }
    expect(Object.fromEntries(answer.revenue.map((r) => [`${r.day} ${r.currency}`, r.net]))).toEqual(Object.fromEntries(net));
    if (days >= 30 && !currency) expect(answer.revenue.some((r) => r.refunded > 0)).toBe(true);

    const { rows: lag } = await env.pool.query(
      `select source, count(*)::int as processed,
              percentile_cont(0.5) within group (order by extract(epoch from processed_at - created_at)) as p50,
              percentile_cont(0.95) within group (order by extract(epoch from processed_at - created_at)) as p95,
              max(extract(epoch from processed_at - created_at))::float8 as max
         from payment_event where source in ('ipn', 'webhook') and ${inRange} and processed_at is not null group by 1`,
      params.slice(0, 2),
    );
    const ms = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(Number(value) * 1000) / 1000);
    for (const shown of answer.lag) {
      const row = lag.find((l) => l.source === shown.source);
      expect(shown, shown.source).toEqual({ source: shown.source, processed: row?.processed ?? 0, p50Seconds: ms(row?.p50), p95Seconds: ms(row?.p95), maxSeconds: ms(row?.max) });
    }
    if (days >= 7) expect(answer.lag.every((l) => l.processed > 0)).toBe(true);
  });
});
