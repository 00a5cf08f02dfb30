import path from 'node:path';
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, type Currency, type Dashboard } from '@orders/shared';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { SERVICE_KEY, buyerChooses, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * backoffice.dashboard against data made through the public API and the PayPal simulator: two paid
 * orders (USD and EUR), one partly refunded, one declined, one cancelled at PayPal, one never paid.
 * The database is this file's own, so every figure is exactly what these orders make.
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;
const day = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const orderIds: Record<'usdPaid' | 'eurPaid' | 'declined' | 'cancelled' | 'unpaid', string> = {} as never;

async function saleOf(orderId: string): Promise<string> {
  return waitFor(async () => {
    const { rows } = await env.pool.query('select payment_transaction_id from "order" where id = $1', [orderId]);
    return rows[0]?.payment_transaction_id as string | undefined;
  }, 15_000, `the sale of ${orderId}`);
}

/** Every IPN the simulator sent has been processed (none left in the inbox). */
async function ipnsSettled(expectedAtLeast: number) {
  await env.sim.control.settleIpns();
  return waitFor(async () => {
    const events = await ipnEvents(env.pool);
    return events.length >= expectedAtLeast && events.every((e) => e.processing !== 'received') ? events : undefined;
  }, 20_000, 'the IPNs processed');
}

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');

  const pay = async (currency: 'USD' | 'EUR', unitPrice: number, choice: 'approve' | 'decline' | 'cancel') => {
    const { customer, order } = await pendingOrder(env.client, { currency, unitPrice, quantity: 2 });
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, choice);
    return order.id;
  };
  orderIds.usdPaid = await pay('USD', 1250, 'approve');
  orderIds.eurPaid = await pay('EUR', 900, 'approve');
  orderIds.declined = await pay('USD', 700, 'decline');
  orderIds.cancelled = await pay('USD', 300, 'cancel');
  orderIds.unpaid = (await pendingOrder(env.client, { currency: 'USD', unitPrice: 100 })).order.id;
  await saleOf(orderIds.usdPaid);
  await saleOf(orderIds.eurPaid);
  await env.admin.client.backoffice.payments.refund.mutate({ orderId: orderIds.usdPaid, amount: 1000, reason: 'one item arrived broken' });
  // Two sale IPNs and the refund's.
  await ipnsSettled(3);
}, 120_000);
afterAll(() => env?.close());

async function statuses(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const orderId of Object.values(orderIds)) {
    const { order } = await viewer.client.backoffice.orders.get.query({ orderId });
    counts[order.status] = (counts[order.status] ?? 0) + 1;
  }
  return counts;
}

describe('backoffice.dashboard', () => {
  let today: Dashboard;
  beforeAll(async () => {
    today = await viewer.client.backoffice.dashboard.query({ from: day(-1), to: day() });
  });

  it('names its days in UTC, every day of the range', () => {
    expect(today).toMatchObject({ from: day(-1), to: day(), timeZone: 'UTC', currency: null, days: [day(-1), day()] });
  });

  it('revenue per day and currency: captured minus refunded, from the ledger', () => {
    expect(today.revenue).toEqual([
      { day: day(), currency: 'EUR', captured: 1800, refunded: 0, reversed: 0, net: 1800 },
      { day: day(), currency: 'USD', captured: 2500, refunded: 1000, reversed: 0, net: 1500 },
    ]);
    expect(today.revenueTotals).toEqual([
      { currency: 'EUR', captured: 1800, refunded: 0, reversed: 0, net: 1800 },
      { currency: 'USD', captured: 2500, refunded: 1000, reversed: 0, net: 1500 },
    ]);
    expect(today.refunds).toEqual([{ day: day(), currency: 'USD', count: 1, amount: 1000 }]);
  });

  it('orders per day by status, as the orders themselves say', async () => {
    const expected = await statuses();
    expect(expected).toMatchObject({ paid: 1, partially_refunded: 1, pending: expect.any(Number) });
    const shown = Object.fromEntries(today.orders.map((row) => [row.status, row.count]));
    expect(shown).toEqual(expected);
    expect(today.orders.every((row) => row.day === day())).toBe(true);
    expect(today.ordersTotal).toBe(5);
  });

  it('conversion: four orders started paying, two paid; outcomes by attempt status', () => {
    expect(today.conversion).toEqual([{ day: day(), attempts: 4, orders: 4, paid: 2 }]);
    expect(today.conversionTotals).toEqual({ attempts: 4, orders: 4, paid: 2, rate: 0.5 });
    expect(Object.fromEntries(today.attemptOutcomes.map((o) => [o.status, o.count]))).toEqual({
      created: 0,
      approved: 0,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
      expired: 0,
    });
  });

  it('IPN lag from the stored events; nothing left in the inbox; reconciliation is the summary', async () => {
    const { rows } = await env.pool.query<{ n: number; p50: number; p95: number; max: number }>(
      `select count(*)::int as n,
              percentile_cont(0.5) within group (order by extract(epoch from processed_at - created_at)) as p50,
              percentile_cont(0.95) within group (order by extract(epoch from processed_at - created_at)) as p95,
              max(extract(epoch from processed_at - created_at))::float8 as max
         from payment_event where source = 'ipn' and processed_at is not null`,
    );
    const ipn = today.lag.find((l) => l.source === 'ipn')!;
    expect(ipn.processed).toBe(rows[0]!.n);
    expect(ipn.processed).toBeGreaterThanOrEqual(3);
    expect(ipn.p50Seconds).toBeCloseTo(rows[0]!.p50, 2);
    expect(ipn.p95Seconds).toBeCloseTo(rows[0]!.p95, 2);
    expect(ipn.maxSeconds).toBeCloseTo(rows[0]!.max, 2);
    expect(ipn.p95Seconds!).toBeGreaterThanOrEqual(ipn.p50Seconds!);
    expect(today.lag.find((l) => l.source === 'webhook')).toEqual({ source: 'webhook', processed: 0, p50Seconds: null, p95Seconds: null, maxSeconds: null });
    expect(today.inbox).toEqual({ backlog: 0, oldestSeconds: 0 });
    expect(today.reconciliation).toEqual(await viewer.client.backoffice.reconciliation.summary.query());
  });

  it('one currency: only its orders, attempts and money', async () => {
    const eur = await viewer.client.backoffice.dashboard.query({ from: day(), to: day(), currency: 'EUR' });
    expect(eur.currency).toBe('EUR');
    expect(eur.revenue).toEqual([{ day: day(), currency: 'EUR', captured: 1800, refunded: 0, reversed: 0, net: 1800 }]);
    expect(eur.refunds).toEqual([]);
    expect(eur.orders).toEqual([{ day: day(), status: 'paid', count: 1 }]);
    expect(eur.conversionTotals).toEqual({ attempts: 1, orders: 1, paid: 1, rate: 1 });
  });

  it('a range before the data: every day listed, every figure zero', async () => {
    const before = await viewer.client.backoffice.dashboard.query({ from: day(-9), to: day(-3) });
    expect(before.days).toHaveLength(7);
    expect(before.days[0]).toBe(day(-9));
    expect(before).toMatchObject({ revenue: [], revenueTotals: [], refunds: [], orders: [], ordersTotal: 0, conversion: [] });
    expect(before.conversionTotals).toEqual({ attempts: 0, orders: 0, paid: 0, rate: 0 });
    expect(before.lag.every((l) => l.processed === 0)).toBe(true);
  });

  it('/metrics publishes the backlog and the IPN lag from the same statements', async () => {
    const text = await (await fetch(`${env.server.url}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('orders_inbox_backlog')).toBe(today.inbox.backlog);
    const ipn = today.lag.find((l) => l.source === 'ipn')!;
    expect(value('orders_notification_lag_seconds{source="ipn",quantile="0.95"}')).toBeCloseTo(ipn.p95Seconds!, 2);
    expect(value('orders_notification_lag_seconds{source="ipn",quantile="0.5"}')).toBeCloseTo(ipn.p50Seconds!, 2);
    for (const [kind, n] of Object.entries(today.reconciliation.counts)) expect(value(`orders_reconciliation_open{kind="${kind}"}`)).toBe(n);
  });

  it('bad input is BAD_REQUEST naming the field', async () => {
    const refused = (field: string) => ({ data: { code: 'BAD_REQUEST', field } });
    await expect(viewer.client.backoffice.dashboard.query({ from: day(), to: day(-1) })).rejects.toMatchObject(refused('to'));
    await expect(viewer.client.backoffice.dashboard.query({ from: '2026-02-30', to: day() })).rejects.toMatchObject(refused('from'));
    await expect(viewer.client.backoffice.dashboard.query({ from: 'yesterday', to: day() })).rejects.toMatchObject(refused('from'));
    await expect(viewer.client.backoffice.dashboard.query({ from: day(-400), to: day() })).rejects.toMatchObject(refused('to'));
    await expect(viewer.client.backoffice.dashboard.query({ from: day(), to: day(), currency: 'XXX' as never })).rejects.toMatchObject(refused('currency'));
  });

  it('staff only: no token is UNAUTHORIZED, a service key FORBIDDEN', async () => {
    await expect(env.clientFor().backoffice.dashboard.query({ from: day(), to: day() })).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await expect(env.clientFor(SERVICE_KEY).backoffice.dashboard.query({ from: day(), to: day() })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  });
});

describe('the desktop figure cards, rendered from the procedure’s answer', () => {
  /*
   * The renderer's own component, run by Vite here as in the app. Imported by a computed path so the
   * tests' type-check (no DOM library, no JSX) does not take in the renderer; desktop's tsc checks it.
   */
  const FIGURES = path.resolve(import.meta.dirname, '../../desktop/src/renderer/src/screens/dashboard/DashboardFigures.tsx');

  /** Each card's value as the component renders it, by data-figure key. */
  async function renderedFigures(data: Dashboard): Promise<Record<string, string>> {
    const { DashboardFigures } = (await import(/* @vite-ignore */ FIGURES)) as { DashboardFigures: FunctionComponent<{ data: Dashboard }> };
    const html = renderToStaticMarkup(createElement(DashboardFigures, { data }));
    const values: Record<string, string> = {};
    for (const match of html.matchAll(/data-figure="(\w+)"[^>]*>.*?data-value="[^"]*"[^>]*>([^<]*)</g)) values[match[1]!] = match[2]!.replace(/&#x27;/g, "'");
    return values;
  }

  it('show the same numbers the database holds', async () => {
    const data = await viewer.client.backoffice.dashboard.query({ from: day(-1), to: day() });
    const shown = await renderedFigures(data);

    const { rows: net } = await env.pool.query<{ currency: Currency; net: number }>(
      `select currency, sum(case kind when 'capture' then amount when 'reversal_canceled' then amount else -amount end)::int as net
         from money_movement where state = 'applied' group by currency order by net desc`,
    );
    expect(shown.revenue).toBe(formatMoney(net[0]!.net, net[0]!.currency));
    const { rows: [orders] } = await env.pool.query<{ n: number }>(`select count(*)::int as n from "order"`);
    expect(shown.orders).toBe(String(orders!.n));
    const { rows: [conversion] } = await env.pool.query<{ attempted: number; paid: number }>(
      `select count(distinct order_id)::int as attempted, (count(*) filter (where status = 'succeeded'))::int as paid from order_payment_attempt`,
    );
    expect(shown.conversion).toBe(`${((conversion!.paid / conversion!.attempted) * 100).toFixed(1)} %`);
    const { rows: [refunds] } = await env.pool.query<{ n: number }>(`select count(*)::int as n from money_movement where kind = 'refund' and state = 'applied'`);
    expect(shown.refunds).toBe(String(refunds!.n));
    const { rows: [lag] } = await env.pool.query<{ p95: number }>(
      `select percentile_cont(0.95) within group (order by extract(epoch from processed_at - created_at)) as p95
         from payment_event where source = 'ipn' and processed_at is not null`,
    );
    const p95 = lag!.p95;
    expect(shown.ipnLag).toBe(p95 < 1 ? `${Math.round(p95 * 1000)} ms` : `${p95.toFixed(1)} s`);
    const { rows: [backlog] } = await env.pool.query<{ n: number }>(`select count(*)::int as n from payment_event where processing = 'received' and source in ('ipn', 'webhook')`);
    expect(shown.backlog).toBe(String(backlog!.n));
    expect(shown.reconciliation).toBe(String((await viewer.client.backoffice.reconciliation.summary.query()).total));
  });
});
