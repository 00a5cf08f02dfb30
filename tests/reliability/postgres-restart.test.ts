import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { TRPCClientError } from '@trpc/client';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@orders/server/db/embedded-postgres.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { newCustomer, pendingOrder } from '../support/paypal-server.ts';
import { LEAK } from '../security/support.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import {
  approveAll,
  assertionPool,
  client,
  discrepancies,
  ipnLedger,
  ipnPosts,
  orderChecks,
  payableOrders,
  paypalFromOutside,
  printSummary,
  serverEnv,
  sleep,
  startSimulator,
  startVerificationGate,
  waitUntil,
  type VerificationGate,
} from './helpers.ts';

/*
 * PostgreSQL goes away under load and comes back on the same port and data directory. The server
 * (a child process, so a crash shows as an exit) must survive the dropped connections, fail the
 * requests it cannot serve cleanly (a 5xx or a tRPC error, within a bound, never a hang), reconnect
 * by itself (MikroORM's pool and pg-boss's), and process every IPN: those stored before the outage
 * (whose verification was failing, so their jobs were retrying across it) and those PayPal could
 * not deliver during it (it resends them).
 */

const RECEIVER = 'pg-restart@orders.example';
const REQUEST_BOUND_MS = 15_000;
let dataRoot: string;
let postgres: EmbeddedPostgresHandle | undefined;
let sim: PaypalSimulator;
let pool: pg.Pool;
let server: ServerProcess | undefined;
let gate: VerificationGate;

beforeAll(async () => {
  dataRoot = await mkdtemp(path.join(tmpdir(), 'orders-pg-restart-'));
  // As root, PostgreSQL runs as its own user and must be able to enter the directory.
  await chmod(dataRoot, 0o755);
  postgres = await startEmbeddedPostgres({ dataDir: path.join(dataRoot, 'pg') });
  sim = await startSimulator(RECEIVER);
  pool = assertionPool(postgres.url);
  gate = await startVerificationGate(sim.ipnVerifyUrl);
  server = await startServerProcess(serverEnv(sim, postgres.url, RECEIVER, { PAYPAL_IPN_VERIFY_URL: gate.url }));
});
afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const stopped = await Promise.race([server.exited, sleep(10_000).then(() => 'timeout')]);
    if (stopped === 'timeout') server.child.kill('SIGKILL');
  }
  await pool?.end();
  await sim?.close();
  await gate?.close();
  await postgres?.stop();
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
});

type Phase = 'before' | 'outage' | 'after';
interface Outcome {
  phase: Phase;
  what: string;
  ms: number;
  result: string;
}

it('PostgreSQL stopped and restarted under load: no crash, clean failures, reconnects by itself, every IPN processed', { timeout: 240_000 }, async () => {
  const started = Date.now();
  const proc = server!;
  const api = client(proc.url);
  const paypal = paypalFromOutside(sim);
  const orders = await payableOrders(() => api, 18);
  approveAll(sim, orders);
  const [paidBefore, ipnBefore, verifyStuck, ipnDuring, returnDuring, lockedDuring] = [0, 4, 7, 10, 13, 16].map((from, i, all) =>
    orders.slice(from, all[i + 1] ?? orders.length),
  );

  // Before: paid normally, through the browser and through PayPal's IPN.
  for (const order of paidBefore!) expect((await fetch(order.redirectUrl!, { redirect: 'manual' })).status).toBe(303);
  for (const order of ipnBefore!) await paypal.executePayment({ requestId: `outside-${order.attemptId}`, paymentId: order.externalId, payerId: order.payerId! });
  await waitUntil(async () => (await orderChecks(pool, ipnBefore!.map((o) => o.orderId))).every((c) => c.status === 'paid'), 30_000, 'the first IPNs');

  // Stored, answered 200, but not verifiable yet: their jobs are retrying with backoff when the database goes.
  // PayPal's postback endpoint refuses for now.
  gate.mode = '503';
  for (const order of verifyStuck!) await paypal.executePayment({ requestId: `outside-${order.attemptId}`, paymentId: order.externalId, payerId: order.payerId! });
  // Matched by order (custom=order id), not by a total count: under load PayPal may resend an earlier
  // IPN whose slow 200 it gave up on, and that copy then waits on the refused verification too.
  const stuckStored = async () => {
    const { rows } = await pool.query<{ body: Buffer; processing: string }>(`select raw_body as body, processing from payment_event where source = 'ipn'`);
    const waiting = rows.filter((r) => r.processing === 'received').map((r) => Buffer.from(r.body).toString('latin1'));
    const refused = gate.calls.filter((c) => c.mode === '503').map((c) => c.body);
    return verifyStuck!.every((o) => waiting.some((b) => b.includes(`custom=${o.orderId}`)) && refused.some((b) => b.includes(`custom=${o.orderId}`)));
  };
  await waitUntil(stuckStored, 60_000, 'the unverifiable IPNs to be stored and their verification refused');

  // Steady load: reads, writes and health checks, each with a bound, until told to stop.
  let phase: Phase = 'before';
  const outcomes: Outcome[] = [];
  let loadOn = true;
  const timed = async (what: string, call: () => Promise<string>) => {
    const at = phase;
    const t0 = Date.now();
    let result: string;
    try {
      result = await call();
    } catch (error) {
      if (error instanceof TRPCClientError) result = `trpc ${error.data?.code ?? 'no code'} ${error.data?.httpStatus ?? ''}`.trim();
      else if ((error as Error).name === 'TimeoutError') result = 'HUNG';
      else result = `network ${(error as Error).message}`;
    }
    outcomes.push({ phase: at, what, ms: Date.now() - t0, result });
  };
  const someone = newCustomer();
  const healthzBodies = new Set<string>();
  const readyzBodies = new Set<string>();
  const load = Array.from({ length: 4 }, async (_, worker) => {
    for (let i = 0; loadOn; i++) {
      const order = orders[(worker + i) % orders.length]!;
      const signal = AbortSignal.timeout(REQUEST_BOUND_MS);
      await Promise.all([
        timed('healthz', async () => {
          const response = await fetch(`${proc.url}/healthz`, { signal });
          const body = await response.text();
          if (response.status >= 500) healthzBodies.add(body);
          return String(response.status);
        }),
        timed('readyz', async () => {
          const response = await fetch(`${proc.url}/readyz`, { signal });
          const body = await response.text();
          if (response.status >= 500) readyzBodies.add(body);
          return String(response.status);
        }),
        timed('orders.get', async () => (await api.orders.get.query({ customer: order.customer, orderId: order.orderId }, { signal })).status),
        timed('carts.create', async () => ((await api.carts.create.mutate({ customer: someone }, { signal })).id ? 'ok' : 'no id')),
      ]);
      await sleep(50);
    }
  });

  await sleep(1_000);
  // In flight when the database goes: payment creations waiting on a slow PayPal, to be written back after.
  const slowPay = await Promise.all([0, 1].map(() => pendingOrder(api, { unitPrice: 777, quantity: 1 })));
  sim.control.setLatency(1_500);
  const inFlight = slowPay.map(async ({ customer, order }) => {
    const t0 = Date.now();
    try {
      await api.payments.attemptToPay.mutate({ customer, orderId: order.id }, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
      return { result: 'ok', ms: Date.now() - t0 };
    } catch (error) {
      const data = error instanceof TRPCClientError ? error.data : undefined;
      return { result: data ? `trpc ${data.code} ${data.httpStatus}` : (error as Error).name, ms: Date.now() - t0, message: (error as Error).message };
    }
  });
  // Inside a transaction when the database goes: return URLs whose paid transition waits on a row lock
  // the test holds, so the server's pooled connection is checked out, mid-transaction, at the stop.
  const locker = await pool.connect();
  locker.on('error', () => {});
  await locker.query('begin');
  await locker.query(`select id from "order" where id = any($1::uuid[]) for update`, [lockedDuring!.map((o) => o.orderId)]);
  const blocked = lockedDuring!.map(async (order) => {
    const t0 = Date.now();
    try {
      const response = await fetch(order.redirectUrl!, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
      await response.arrayBuffer();
      return { status: response.status, ms: Date.now() - t0 };
    } catch (error) {
      return { status: (error as Error).name, ms: Date.now() - t0 };
    }
  });
  await waitUntil(
    async () => (await pool.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`)).rows[0].n >= lockedDuring!.length,
    10_000,
    'the return URLs to wait on the row lock',
  );
  phase = 'outage';
  const stopStarted = Date.now();
  await postgres!.stop();
  const stopMs = Date.now() - stopStarted;
  // During the outage: PayPal completes payments (their IPNs cannot be stored: PayPal must resend) and
  // buyers come back (their pages must fail cleanly and work on reload).
  for (const order of ipnDuring!) await paypal.executePayment({ requestId: `outside-${order.attemptId}`, paymentId: order.externalId, payerId: order.payerId! });
  const duringReturn = await Promise.all(
    returnDuring!.map(async (order) => {
      const t0 = Date.now();
      try {
        const response = await fetch(order.redirectUrl!, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
        await response.arrayBuffer();
        return { status: response.status, ms: Date.now() - t0 };
      } catch (error) {
        return { status: (error as Error).name, ms: Date.now() - t0 };
      }
    }),
  );
  const inFlightResults = await Promise.all(inFlight);
  const blockedResults = await Promise.all(blocked);
  locker.release(true);
  sim.control.setLatency(0);
  await sleep(2_000);
  expect(proc.child.exitCode, proc.output()).toBeNull();
  expect(proc.child.signalCode).toBeNull();

  postgres = await startEmbeddedPostgres({ dataDir: path.join(dataRoot, 'pg'), port: postgres!.port });
  const restartedAt = Date.now();
  phase = 'after';
  gate.mode = 'open';
  const recoveredMs =
    (await waitUntil(async () => (await fetch(`${proc.url}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200, 30_000, 'readyz after the restart'), Date.now() - restartedAt);
  // Reloads after the outage work.
  for (const order of [...returnDuring!, ...lockedDuring!]) {
    await waitUntil(async () => (await fetch(order.redirectUrl!, { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_BOUND_MS) })).status === 303, 30_000, 'a reload of the return URL');
  }
  // The payments that failed mid-flight are simply tried again, and paid.
  for (const { customer, order } of slowPay) {
    const retry = await api.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = sim.control.approve(retry.externalId, 'approve');
    const page = await fetch(redirectUrl, { redirect: 'manual' });
    expect(await page.text()).toContain('Payment received');
  }
  await sleep(2_000);
  loadOn = false;
  await Promise.all(load);

  const all = [...orders.map((o) => o.orderId), ...slowPay.map((o) => o.order.id)];
  let checks = await orderChecks(pool, all);
  const settleStarted = Date.now();
  await waitUntil(
    async () => {
      checks = await orderChecks(pool, all);
      const ledger = await ipnLedger(pool);
      return checks.every((c) => c.status === 'paid') && ledger.waiting === 0;
    },
    150_000,
    'every order paid and every IPN processed after the restart',
  ).catch(async (error: Error) => {
    const jobs = await pool.query(`select state, retry_count, start_after, output::text from pgboss.job where name = 'ipn-process' and state <> 'completed'`);
    throw new Error(`${error.message}\nunpaid: ${checks.filter((c) => c.status !== 'paid').map((c) => c.id).join(', ')}\njobs: ${JSON.stringify(jobs.rows).slice(0, 2000)}\nserver output:\n${proc.output().slice(-3000)}`);
  });
  const settleMs = Date.now() - settleStarted;
  const ledger = await ipnLedger(pool);
  await sim.control.settleIpns();
  const posts = ipnPosts(sim.control.ipnLog());
  const problems = discrepancies(checks, all.length);

  const summarise = (p: Phase) => {
    const mine = outcomes.filter((o) => o.phase === p);
    const results: Record<string, number> = {};
    for (const o of mine) results[`${o.what}: ${o.result}`] = (results[`${o.what}: ${o.result}`] ?? 0) + 1;
    return { requests: mine.length, maxMs: Math.max(0, ...mine.map((o) => o.ms)), results };
  };
  const outage = outcomes.filter((o) => o.phase === 'outage');
  const afterRecovery = outcomes.filter((o) => o.phase === 'after' && o.ms > 0).slice(-30);
  printSummary('PostgreSQL restarted under load', {
    'postgres stop took ms': stopMs,
    'readyz back after restart ms': recoveredMs,
    'all IPNs processed after ms more': settleMs,
    'load before': summarise('before'),
    'load during outage': summarise('outage'),
    'load after restart': summarise('after'),
    'return URLs during outage': duringReturn,
    'attemptToPay in flight at the stop': inFlightResults,
    'return URLs mid-transaction at the stop': blockedResults,
    'readyz bodies during outage': [...readyzBodies].slice(0, 3),
    'IPN rows stored': ledger.stored,
    'processed (acted on)': ledger.processed,
    'duplicates absorbed': ledger.duplicates,
    'other outcomes': ledger.other,
    'IPN messages PayPal sent': posts.messages,
    'posts by PayPal (with resends)': `${posts.posts} (${posts.answered200} answered 200, ${posts.refused} refused, ${posts.connectionErrors} connection errors)`,
    'orders paid': `${checks.filter((c) => c.status === 'paid').length} of ${all.length}`,
    'server process': proc.child.exitCode === null ? 'alive' : `exited ${proc.child.exitCode}`,
    'server log lines (warn+)': proc.output().split('\n').filter(Boolean).length,
    discrepancies: problems.length ? problems : 'none',
    'elapsed ms': Date.now() - started,
  });

  if (process.env.SHOW_SERVER_LOG) console.log(proc.output());
  expect(proc.child.exitCode, proc.output()).toBeNull();
  expect(outcomes.filter((o) => o.result === 'HUNG')).toEqual([]);
  // In the outage: nothing but a clean error — an HTTP 5xx, or a tRPC error with a 5xx status.
  const unclean = outage.filter((o) => !/^(5\d\d|trpc [A-Z_]+ 5\d\d|200|ok|pending|paid)$/.test(o.result));
  expect(unclean).toEqual([]);
  expect(outage.some((o) => /^(5\d\d|trpc)/.test(o.result))).toBe(true);
  // An unreachable database is "try again" (503), never an internal error.
  expect(outage.filter((o) => /INTERNAL_SERVER_ERROR/.test(o.result))).toEqual([]);
  for (const r of duringReturn) expect(String(r.status)).toMatch(/^5\d\d$/);
  for (const r of blockedResults) expect(String(r.status)).toMatch(/^5\d\d$/);
  for (const r of inFlightResults) expect(r.result).toMatch(/^trpc [A-Z_]+ 5\d\d$/);
  // After the restart the API answers again without anyone restarting the server.
  expect(afterRecovery.every((o) => /^(200|ok|pending|paid)$/.test(o.result)), JSON.stringify(afterRecovery)).toBe(true);
  expect(problems).toEqual([]);
  expect(ledger.waiting).toBe(0);
  expect(ledger.other).toEqual({});
  // One Completed IPN per sale, each acted on once; every message PayPal got a 200 for is stored.
  expect(posts.undelivered).toBe(0);
  expect(ledger.stored).toBe(posts.answered200);
  expect(ledger.processed).toBe(all.length);
  // /healthz is liveness: the process serves, so it stays 200 (a supervisor must not restart it for
  // a database outage). /readyz says the database is gone (503) and is 200 again afterwards.
  expect(outcomes.filter((o) => o.what === 'healthz' && o.result !== '200')).toEqual([]);
  expect(outage.some((o) => o.what === 'readyz' && o.result === '503')).toBe(true);
  // Last, as it is a finding of its own: while the database is down, /readyz says so (503)
  // without handing out the driver's error text and the database's address.
  for (const body of [...healthzBodies, ...readyzBodies]) expect(body, 'health during the outage leaks internals').not.toMatch(LEAK);
  // The outage is told once (then a summary a minute), not by every component at every poll.
  const said = (text: string) => proc.output().split('\n').filter((line) => line.includes(text)).length;
  expect(said('database unreachable'), proc.output()).toBe(1);
  expect(said('job queue error'), proc.output()).toBeLessThanOrEqual(3);
});
