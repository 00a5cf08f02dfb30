import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { SERVICE_KEY } from '../support/paypal-server.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/*
 * Every request connection busy is not a database outage. The database watch and /readyz probed
 * through the request pool: with both connections of DATABASE_POOL_MAX=2 waiting on a lock for a few
 * seconds, the watch logged "database unreachable" and /readyz answered 503, so a balancer would
 * have taken a busy instance out. They now probe on a connection of their own.
 */

let db: TestDatabase;
let server: ServerProcess;
let holder: pg.Client;
let checks: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServerProcess({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'info', DATABASE_POOL_MAX: '2', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY });
  holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  checks = new pg.Client({ connectionString: db.url });
  await checks.connect();
});
afterAll(async () => {
  await holder?.end().catch(() => {});
  await checks?.end().catch(() => {});
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await db?.drop();
});

it('both request connections waiting on a lock for 5 s: /readyz stays 200, nothing says the database is unreachable, and the calls complete', { timeout: 60_000 }, async () => {
  const list = () =>
    fetch(`${server.url}/trpc/orders.list?input=${encodeURIComponent(JSON.stringify({ customer: { type: 'user', id: 'busy-1' } }))}`, {
      headers: { authorization: `Bearer ${SERVICE_KEY}` },
    }).then((r) => r.status);
  expect(await list()).toBe(200);
  await holder.query('begin');
  await holder.query('lock table "order" in access exclusive mode');
  const calls = Array.from({ length: 4 }, list);
  // The two request connections are taken, waiting on the lock (the other two calls wait for them).
  await expect
    .poll(async () => (await checks.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0].n, { timeout: 10_000 })
    .toBe(2);
  const readiness: number[] = [];
  for (const until = Date.now() + 5_000; Date.now() < until; ) {
    readiness.push((await fetch(`${server.url}/readyz`)).status);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await holder.query('rollback');
  expect(await Promise.all(calls)).toEqual([200, 200, 200, 200]);
  expect(readiness.length).toBeGreaterThan(10);
  expect(new Set(readiness)).toEqual(new Set([200]));
  expect(server.output()).not.toMatch(/database unreachable/);
});
