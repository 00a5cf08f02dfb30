import { afterAll, beforeAll, expect, it } from 'vitest';
import { SLOW_SHUTDOWN_STEP_MS } from '@orders/server/server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';

/*
 * A stop that waits on something says what: each step of the server's close() that runs longer than
 * SLOW_SHUTDOWN_STEP_MS is told (a warning in the log by default), so a stop that hangs in production
 * or in a test's afterAll names its step instead of hanging silently.
 */

let bed: TestBed;
beforeAll(async () => {
  bed = await openTestBed();
});
afterAll(() => bed.close());

it('a statement still running when the stop begins: the database pool step is told while it waits, and the stop ends after it', { timeout: 60_000 }, async () => {
  const told: { step: string; waitedMs: number }[] = [];
  const server = await bed.startServer({}, { onSlowShutdownStep: (step, waitedMs) => told.push({ step, waitedMs }) });
  const seconds = SLOW_SHUTDOWN_STEP_MS / 1000 + 2;
  const slow = server.orm.em.fork().getConnection().execute(`select pg_sleep(${seconds})`);
  // Running (not just queued) before the stop begins.
  await expect.poll(async () => (await bed.pool.query(`select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep%'`)).rows[0].n, { timeout: 5_000 }).toBe(1);
  const started = Date.now();
  await server.close();
  expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_SHUTDOWN_STEP_MS);
  await slow;
  expect(told).toHaveLength(1);
  expect(told[0]!.step).toBe('database pool');
  expect(told[0]!.waitedMs).toBeGreaterThanOrEqual(SLOW_SHUTDOWN_STEP_MS);
});
