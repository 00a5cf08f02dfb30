import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { serverEnv, startSimulator } from '../reliability/helpers.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/*
 * Stopping an instance behind a balancer (README, "Several instances behind a load balancer"): with
 * SHUTDOWN_DRAIN_SECONDS, SIGTERM first turns /readyz to 503 "stopping" while requests are still
 * served, so a balancer polling it stops sending traffic before the port closes. Found from outside:
 * without it the port closed ~20 ms after SIGTERM, before any balancer could see a 503.
 */

const RECEIVER = 'drain@orders.example';
let sim: PaypalSimulator;
let db: TestDatabase;
let server: ServerProcess;

beforeAll(async () => {
  sim = await startSimulator(RECEIVER);
  db = await createTestDatabase();
  server = await startServerProcess(serverEnv(sim, db.url, RECEIVER, { SHUTDOWN_DRAIN_SECONDS: '3', LOG_LEVEL: 'info' }));
});
afterAll(async () => {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await sim?.close();
  await db?.drop();
});

it('SIGTERM with SHUTDOWN_DRAIN_SECONDS: /readyz 503 "stopping" while the API still answers, then a clean exit', { timeout: 60_000 }, async () => {
  expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  const sent = Date.now();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { status: string }).status).toBe('stopping');
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const list = await fetch(`${server.url}/trpc/orders.list?input=${encodeURIComponent(JSON.stringify({ customer: { type: 'user', id: 'drain-1' } }))}`, {
    headers: { authorization: `Bearer ${(await import('../support/paypal-server.ts')).SERVICE_KEY}` },
  });
  expect(list.status).toBe(200);
  expect(await server.exited).toBe(0);
  expect(Date.now() - sent).toBeGreaterThanOrEqual(3_000);
  expect(server.output()).toMatch(/draining: \/readyz answers 503/);
  expect(server.output()).not.toMatch(/"level":(50|60)/);
});
