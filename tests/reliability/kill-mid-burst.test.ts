import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { approveAll, client, discrepancies, ipnLedger, ipnPosts, ipnsSettled, orderChecks, payableOrders, paypalFromOutside, printSummary, serverEnv, simulatorOptions, sleep, waitUntil } from './helpers.ts';

/*
 * A crash in the middle of a payment burst. The server runs as a child process (as `npm start` does)
 * on a fixed port; thirty buyers are coming back through return URLs while PayPal completes other
 * payments on its own side and sends their IPNs (each twice). Once the burst is under way the server
 * is SIGKILLed, left dead for a moment (PayPal's posts and the browsers' requests fail to connect),
 * then started again on the same port. PayPal resends what failed; browsers reload.
 *
 * Nothing lost: every IPN PayPal got a 200 for is stored (and so is every resend). Nothing doubled:
 * each order ends paid exactly once, with one snapshot and one succeeded attempt.
 */

const N = Number(process.env.RELIABILITY_ORDERS ?? 30);
const RECEIVER = 'crash-burst@orders.example';
let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let pool: pg.Pool;
let port: number;
let server: ServerProcess | undefined;

beforeAll(async () => {
  bed = await openTestBed({ paypal: simulatorOptions(RECEIVER) });
  ({ sim, pool } = bed);
  port = await freePort();
});
afterAll(async () => {
  await stop(server);
  await bed?.close();
});

async function stop(proc: ServerProcess | undefined) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const stopped = await Promise.race([proc.exited, sleep(10_000).then(() => 'timeout')]);
  if (stopped === 'timeout') proc.child.kill('SIGKILL');
}

const start = () => startServerProcess({ ...serverEnv(sim, bed.db.url, RECEIVER), PORT: String(port) });

it(`SIGKILL mid-burst (${N} orders, return URLs and IPNs in flight), restart: nothing lost, nothing doubled`, { timeout: 180_000 }, async () => {
  const started = Date.now();
  server = await start();
  const first = server;
  const api = client(server.url);
  const orders = await payableOrders(() => api, N);
  approveAll(sim, orders);
  const byBrowser = orders.filter((_, i) => i % 2 === 0);
  const byPaypal = orders.filter((_, i) => i % 2 === 1);
  const paypal = paypalFromOutside(sim);

  // Every PayPal call is slowed a little so the burst is long enough to be interrupted.
  sim.control.setLatency(60);
  sim.control.setIpnMode({ duplicates: 1 });

  // Browsers: follow the return URL; on a connection error or a 5xx, reload a moment later (a buyer would).
  const browser = { requests: 0, connectionErrors: 0, errors5xx: 0, final: new Map<number, number>() };
  const buyers = byBrowser.map(async (order, i) => {
    await sleep(i * 40);
    for (let reload = 0; ; reload++) {
      browser.requests++;
      try {
        const response = await fetch(order.redirectUrl!, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
        await response.arrayBuffer();
        if (response.status < 500) {
          browser.final.set(response.status, (browser.final.get(response.status) ?? 0) + 1);
          return;
        }
        browser.errors5xx++;
      } catch {
        browser.connectionErrors++;
      }
      if (reload > 100) throw new Error(`return URL for order ${order.orderId} never answered`);
      await sleep(300);
    }
  });
  // PayPal's side: payments completed without the buyer coming back (only the IPN tells us).
  const completions = byPaypal.map(async (order, i) => {
    await sleep(i * 40);
    await paypal.executePayment({ requestId: `outside-${order.attemptId}`, paymentId: order.externalId, payerId: order.payerId! });
  });

  // Kill once the burst is visibly under way: some IPNs stored, others still to come.
  await waitUntil(async () => (await ipnLedger(pool)).stored >= 6, 30_000, 'the burst to get going');
  const atKill = await ipnLedger(pool);
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const killedAt = Date.now();
  await sleep(1_500);
  const downDuringKill = { ...ipnPosts(sim.control.ipnLog()) };

  server = await start();
  const restartedAfterMs = Date.now() - killedAt;
  await Promise.all([...buyers, ...completions]);
  sim.control.setLatency(0);
  await sim.control.settleIpns();
  sim.control.setIpnMode({ duplicates: 0 });

  const posts = ipnPosts(sim.control.ipnLog());
  const ledger = await ipnsSettled(pool, posts, 60_000, 'every delivered IPN to be processed after the restart');

  // Lost = a message PayPal got a 200 for more often than it is stored. (Stored more often is fine:
  // a server killed after storing, before answering, makes PayPal resend a message already kept.)
  const lost = [...posts.okByBody].filter(([body, ok]) => (ledger.storedByBody.get(body) ?? 0) < ok);
  const checks = await orderChecks(pool, orders.map((o) => o.orderId));
  const problems = discrepancies(checks, N);
  const processedPerSale = await pool.query<{ txn_id: string; n: number }>(
    `select txn_id, count(*)::int as n from payment_event where source = 'ipn' and processing = 'processed' group by txn_id having count(*) <> 1`,
  );
  const unpaidByIpnOnly = checks.filter((c) => byPaypal.some((o) => o.orderId === c.id) && c.status !== 'paid');

  printSummary(`SIGKILL mid-burst, ${N} orders`, {
    'IPN messages PayPal sent': posts.messages,
    'posts by PayPal (duplicates: 1, resends)': `${posts.posts} (${posts.answered200} answered 200, ${posts.refused} refused, ${posts.connectionErrors} connection errors)`,
    'IPN rows at the kill (stored / not yet processed)': `${atKill.stored} / ${atKill.waiting}`,
    'connection errors while down': downDuringKill.connectionErrors,
    'restart took ms': restartedAfterMs,
    'IPN rows stored': `${ledger.stored} (PayPal got 200 for ${posts.answered200})`,
    'processed (acted on)': ledger.processed,
    'duplicates absorbed': ledger.duplicates,
    'other outcomes': ledger.other,
    'lost (200 but not stored)': lost.length,
    'browser requests': `${browser.requests} (${browser.connectionErrors} connection errors, ${browser.errors5xx} 5xx, final ${JSON.stringify(Object.fromEntries(browser.final))})`,
    'orders paid': `${checks.filter((c) => c.status === 'paid').length} of ${N} (${byPaypal.length} by IPN only)`,
    discrepancies: problems.length ? problems : 'none',
    'elapsed ms': Date.now() - started,
  });

  expect(posts.undelivered).toBe(0);
  expect(lost).toEqual([]);
  expect(problems).toEqual([]);
  expect(unpaidByIpnOnly).toEqual([]);
  expect(processedPerSale.rows).toEqual([]);
  expect(ledger.processed).toBe(N);
  expect(ledger.other).toEqual({});
  expect(ledger.processed + ledger.duplicates).toBe(ledger.stored);
  expect([...browser.final.keys()]).toEqual([303]);
});
