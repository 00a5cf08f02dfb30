import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { approveAll, assertionPool, client, ipnLedger, payableOrders, serverEnv, startSimulator, waitUntil } from '../reliability/helpers.ts';

/* /healthz, /readyz and /metrics of a running server, checked against the tables they describe. */

const RECEIVER = 'metrics@orders.example';
let sim: PaypalSimulator;
let db: TestDatabase;
let pool: pg.Pool;
let server: RunningServer;

beforeAll(async () => {
  sim = await startSimulator(RECEIVER);
  db = await createTestDatabase();
  pool = assertionPool(db.url);
  server = await startServer(loadConfig({ ...serverEnv(sim, db.url, RECEIVER), PORT: '0', LOG_LEVEL: 'silent' }));
});
afterAll(async () => {
  await server?.close();
  await pool?.end();
  await sim?.close();
  await db?.drop();
});

/** `name{labels} value` lines of the exposition, as a lookup by the exact series. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) out.set(match[1]!, Number(match[2]));
  }
  return out;
}

it('/healthz and /readyz answer JSON a load balancer and a person can read', async () => {
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', uptimeSeconds: expect.any(Number) });
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(ready.headers.get('cache-control')).toBe('no-store');
  expect(await ready.json()).toEqual({
    status: 'ready',
    checks: { database: { status: 'ok' }, jobQueue: { status: 'ok' }, liveFeed: { status: 'ok' }, paypal: { status: 'ok', mode: 'simulator' } },
    uptimeSeconds: expect.any(Number),
  });
});

it('/metrics: orders, attempts, notifications (duplicates included), backlog, jobs, reconciliation, HTTP latency and pools match the database', async () => {
  const api = client(server.url);
  const orders = await payableOrders(() => api, 3);
  approveAll(sim, orders.slice(0, 2));
  sim.control.setIpnMode({ duplicates: 1 });
  for (const order of orders.slice(0, 2)) expect((await fetch(order.redirectUrl!, { redirect: 'manual' })).status).toBe(303);
  await sim.control.settleIpns();
  sim.control.setIpnMode({ duplicates: 0 });
  await waitUntil(async () => {
    const ledger = await ipnLedger(pool);
    return ledger.stored >= 4 && ledger.waiting === 0;
  }, 30_000, 'both IPNs and their duplicates processed');

  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const m = series(text);

  const byStatus = await pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from "order" group by status`);
  for (const row of byStatus.rows) expect(m.get(`orders_orders{status="${row.status}"}`), row.status).toBe(row.n);
  expect(m.get('orders_orders{status="paid"}')).toBe(2);
  expect(m.get('orders_payment_attempts{status="succeeded"}')).toBe(2);
  const events = await pool.query<{ verification: string; processing: string; n: number }>(
    `select verification, processing, count(*)::int as n from payment_event where source = 'ipn' group by 1, 2`,
  );
  for (const row of events.rows) {
    expect(m.get(`orders_payment_notifications{source="ipn",verification="${row.verification}",processing="${row.processing}"}`)).toBe(row.n);
  }
  expect(m.get('orders_payment_notifications{source="ipn",verification="verified",processing="processed"}')).toBe(2);
  expect(events.rows.some((r) => r.processing === 'duplicate')).toBe(true);
  expect(m.get('orders_inbox_backlog')).toBe(0);
  expect(m.get('orders_inbox_oldest_unprocessed_seconds')).toBe(0);
  // Staff's reconciliation summary and the metric are one query.
  const summary = await server.services.reconciliation.summary();
  for (const [kind, n] of Object.entries(summary.counts)) expect(m.get(`orders_reconciliation_open{kind="${kind}"}`), kind).toBe(n);
  expect(m.get('orders_http_request_duration_seconds_count{method="POST",route="/trpc/orders.create",status_code="200"}')).toBe(3);
  expect(m.get('orders_http_request_duration_seconds_count{method="GET",route="/paypal/return",status_code="303"}')).toBe(2);
  expect(m.get('orders_db_pool_connections{pool="requests",state="max"}')).toBe(10);
  expect(m.get('orders_db_pool_connections{pool="jobs",state="max"}')).toBe(5);
  expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  // Unknown paths never become label values.
  await fetch(`${server.url}/trpc/not.a.procedure${'x'.repeat(50)}`);
  await fetch(`${server.url}/no-such-page-${Date.now()}`);
  const again = await (await fetch(`${server.url}/metrics`)).text();
  expect(again).not.toMatch(/not\.a\.procedure|no-such-page/);
  expect(again).toMatch(/route="\/trpc\/\(unknown\)"/);
});

it('the request pool keeps three connections open through a pause, closing the rest', async () => {
  // Five statements at once open five request connections; pg closes idle ones after 10 s.
  await Promise.all(Array.from({ length: 5 }, () => server.orm.em.fork().getConnection().execute('select pg_sleep(0.2)')));
  const open = async () => series(await (await fetch(`${server.url}/metrics`)).text()).get('orders_db_pool_connections{pool="requests",state="open"}') ?? 0;
  expect(await open()).toBeGreaterThanOrEqual(5);
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  // Three stay (a search's page, count and estimate side by side), the others are closed. The scrape
  // reads the figures from the database again (its cache is older than 5 s), and the pools are read
  // before that: its own statements are neither in use nor waiting (they read 6 waiting before).
  const after = series(await (await fetch(`${server.url}/metrics`)).text());
  expect(after.get('orders_db_pool_connections{pool="requests",state="open"}')).toBe(3);
  expect(after.get('orders_db_pool_connections{pool="requests",state="in_use"}')).toBe(0);
  expect(after.get('orders_db_pool_connections{pool="requests",state="waiting_clients"}')).toBe(0);
  expect(after.get('orders_database_figures_available')).toBe(1);
}, 30_000);
