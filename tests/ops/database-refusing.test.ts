import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import pg from 'pg';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { serverEnv, startSimulator, waitUntil } from '../reliability/helpers.ts';
import { LEAK } from '../security/support.ts';
import { SERVICE_KEY } from '../support/paypal-server.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/*
 * The database is up but refuses us: `ALTER DATABASE … ALLOW_CONNECTIONS false` and our connections
 * ended (SQLSTATE 55000 "not currently accepting connections" on every new one), as an operator's
 * maintenance or a failover can do. Found from outside (issue 12): every request answered 500 with
 * the driver's text, one stack trace per request in the log, and /metrics answered 503 as a whole.
 */

const RECEIVER = 'refusing@orders.example';
let sim: PaypalSimulator;
let db: TestDatabase;
let admin: pg.Client;
let server: ServerProcess;

beforeAll(async () => {
  sim = await startSimulator(RECEIVER);
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  server = await startServerProcess(serverEnv(sim, db.url, RECEIVER));
});
afterAll(async () => {
  await admin?.query(`alter database ${db.name} allow_connections true`).catch(() => {});
  server?.child.kill('SIGTERM');
  await server?.exited;
  await admin?.end();
  await sim?.close();
  await db?.drop();
});

const listOrders = () =>
  fetch(`${server.url}/trpc/orders.list?input=${encodeURIComponent(JSON.stringify({ customer: { type: 'user', id: 'refusing-1' } }))}`, {
    headers: { authorization: `Bearer ${SERVICE_KEY}` },
  });
const metrics = async () => (await fetch(`${server.url}/metrics`)).text();

it('a database refusing connections: 503 without internals, no stack trace per request, /metrics without its database figures; then back by itself', { timeout: 90_000 }, async () => {
  expect((await listOrders()).status).toBe(200);
  const before = await metrics();
  expect(before).toMatch(/^orders_database_figures_available 1$/m);
  expect(before).toMatch(/^orders_inbox_backlog 0$/m);
  expect(before).toMatch(/^orders_reconciliation_open\{/m);

  await admin.query(`alter database ${db.name} allow_connections false`);
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [db.name]);
  const logBefore = server.output().length;

  // The pool's idle connections were ended: every request now needs a new one, and gets 55000.
  await waitUntil(async () => (await listOrders()).status === 503, 20_000, 'requests answer 503');
  for (let i = 0; i < 5; i++) {
    const response = await listOrders();
    const body = await response.text();
    expect(response.status, body).toBe(503);
    expect(body).toMatch(/the database is unavailable; try again/);
    expect(body, 'the answer leaks internals').not.toMatch(LEAK);
    expect(body).not.toMatch(/accepting connections/);
  }
  // An IPN cannot be stored: PayPal must resend it, so never a 200, and never a 500.
  const ipn = await fetch(`${server.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'txn_id=REFUSING1&payment_status=Completed' });
  expect(ipn.status).toBe(503);
  // The browser build's "who am I" cannot tell who the cookie is: an error, not "nobody" (the login screen).
  const whoAmI = await fetch(`${server.url}/backoffice/api/session`, { headers: { cookie: 'orders_session=oss_anyone' } });
  expect(whoAmI.status).toBe(503);
  expect(await whoAmI.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again' } });

  // The figures read before the outage are kept for up to 5 s; then the scrape has none.
  const during = await waitUntil(async () => {
    const text = await metrics();
    return /^orders_database_figures_available 0$/m.test(text) && text;
  }, 20_000, '/metrics without its database figures');
  expect(during).toMatch(/^process_cpu_user_seconds_total /m);
  expect(during).toMatch(/^orders_http_request_duration_seconds_count\{[^}]*route="\/trpc\/orders\.list"[^}]*status_code="503"\} [1-9]/m);
  expect(during).not.toMatch(/^orders_reconciliation_open\{/m);
  // prom-client writes "Nan"; Prometheus reads NaN in any case (Go's ParseFloat).
  expect(during).toMatch(/^orders_inbox_backlog NaN$/im);

  const log = server.output().slice(logBefore);
  expect(log, log).not.toMatch(/trpc error|INTERNAL_SERVER_ERROR/);
  expect(log.split('\n').filter((line) => /\bat [\w.<>]+ \(/.test(line)), 'stack traces in the log').toEqual([]);

  await admin.query(`alter database ${db.name} allow_connections true`);
  await waitUntil(async () => (await listOrders()).status === 200, 30_000, 'requests answer again');
  await waitUntil(async () => /^orders_database_figures_available 1$/m.test(await metrics()), 30_000, 'database figures are back');
  expect(await metrics()).toMatch(/^orders_inbox_backlog 0$/m);
});
