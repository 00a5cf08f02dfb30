import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { approveAll, client, discrepancies, ipnLedger, ipnPosts, orderChecks, payableOrders, printSummary, replayIpnLog, serverEnv, simulatorOptions, sleep, via, waitUntil } from './helpers.ts';

/*
 * Scale-out under a burst: two stateless instances on one PostgreSQL, one PayPal. Thirty buyers come
 * back through both instances at once (a double click each), PayPal sends every IPN three times
 * (duplicates: 2) to the instance that created the payment, and a replay of every message hits the
 * other instance while the originals are still arriving, and staff re-sync every third order meanwhile. Every order must end paid exactly once and
 * every message PayPal (or the replay) got a 200 for must be stored and accounted for.
 */

const N = Number(process.env.RELIABILITY_ORDERS ?? 30);
const RECEIVER = 'burst@orders.example';
let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let pool: pg.Pool;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  bed = await openTestBed({ paypal: simulatorOptions(RECEIVER) });
  ({ sim, pool } = bed);
  [a, b] = await Promise.all([bed.startServer(serverEnv(sim, bed.db.url, RECEIVER)), bed.startServer(serverEnv(sim, bed.db.url, RECEIVER))]);
});
afterAll(async () => {
  await bed?.close();
});

it(`${N} orders paid through two instances with duplicated and replayed IPNs: each paid exactly once, every message stored`, { timeout: 120_000 }, async () => {
  const started = Date.now();
  const apiA = client(a.url);
  const apiB = client(b.url);
  // Half the payments are created through each instance, so PayPal's notify URLs point at both.
  const orders = await payableOrders((i) => (i % 2 ? apiA : apiB), N);
  approveAll(sim, orders);

  const other = (notifyUrl: string) => (notifyUrl.startsWith(a.url) ? b.url : a.url);
  // Replays every message PayPal logs to the instance it was not addressed to, racing PayPal's own copies.
  const replayer = replayIpnLog(sim, (entry) => [other(entry.notifyUrl)]);
  const { replays } = replayer;

  sim.control.setIpnMode({ duplicates: 2 });
  const returnStatuses = new Map<number, number>();
  const resyncs = new Map<string, number>();
  try {
    await Promise.all(
      orders.flatMap((order, i) => {
        const first = i % 2 ? a.url : b.url;
        const second = i % 2 ? b.url : a.url;
        const clicks = [first, second].map(async (base) => {
          const response = await fetch(via(base, order.redirectUrl!), { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
          await response.arrayBuffer();
          returnStatuses.set(response.status, (returnStatuses.get(response.status) ?? 0) + 1);
        });
        // A member of staff presses "re-sync" on every third order, four times, while the buyer is coming back.
        const resync = [0, 40, 150, 400].map(async (delay) => {
          if (i % 3 !== 0) return;
          await sleep(delay);
          const r = await (i % 2 ? b : a).services.payments.resync(order.attemptId, { type: 'staff', id: null });
          resyncs.set(r.result, (resyncs.get(r.result) ?? 0) + 1);
        });
        return [...clicks, ...resync];
      }),
    );
    await sim.control.settleIpns();
  } finally {
    sim.control.setIpnMode({ duplicates: 0 });
    await replayer.stop();
  }

  const paypal = ipnPosts(sim.control.ipnLog());
  const expectedStored = paypal.answered200 + replays.ok;
  let ledger = await ipnLedger(pool);
  ledger = await waitUntil(
    async () => {
      ledger = await ipnLedger(pool);
      return ledger.stored >= expectedStored && ledger.waiting === 0 ? ledger : undefined;
    },
    60_000,
    'every IPN to be stored and processed',
  ).catch((error: Error) => {
    throw new Error(`${error.message}: stored ${ledger.stored}/${expectedStored}, waiting ${ledger.waiting}`);
  });

  const checks = await orderChecks(pool, orders.map((o) => o.orderId));
  const problems = discrepancies(checks, N);
  const lostBodies = [...new Set([...paypal.okByBody.keys(), ...replays.okByBody.keys()])].filter(
    (body) => (ledger.storedByBody.get(body) ?? 0) !== (paypal.okByBody.get(body) ?? 0) + (replays.okByBody.get(body) ?? 0),
  );
  const byInstance = await pool.query<{ n: number }>(`select count(distinct order_id)::int as n from payment_event where source = 'ipn' and processing = 'processed'`);

  printSummary(`two instances, ${N} orders`, {
    'IPN messages PayPal sent': paypal.messages,
    'copies posted by PayPal (duplicates: 2)': `${paypal.posts} (${paypal.answered200} answered 200, ${paypal.refused} refused, ${paypal.connectionErrors} connection errors)`,
    'replays to the other instance': `${replays.posted} (${replays.ok} answered 200)`,
    'IPN rows stored': `${ledger.stored} (expected ${expectedStored})`,
    'processed (acted on)': ledger.processed,
    'duplicates absorbed': ledger.duplicates,
    'other outcomes': ledger.other,
    'return URL answers (2 per order)': Object.fromEntries(returnStatuses),
    'racing staff re-syncs': Object.fromEntries(resyncs),
    'orders paid': `${checks.filter((c) => c.status === 'paid').length} of ${N}`,
    'orders with a processed IPN': byInstance.rows[0]!.n,
    'messages stored ≠ posted (by body)': lostBodies.length,
    discrepancies: problems.length ? problems : 'none',
    'elapsed ms': Date.now() - started,
  });

  expect(paypal.undelivered).toBe(0);
  expect(replays.ok).toBe(replays.posted);
  expect(lostBodies).toEqual([]);
  expect(ledger.stored).toBe(expectedStored);
  expect(problems).toEqual([]);
  // PayPal sends one Completed message per sale; exactly one stored copy of each is acted on.
  expect(paypal.messages).toBe(N);
  expect(ledger.processed).toBe(N);
  expect(ledger.duplicates).toBe(expectedStored - N);
  expect(ledger.other).toEqual({});
  // Both clicks of every buyer land on the status page (or the shop's return URL), never an error.
  expect([...returnStatuses.keys()].every((status) => status === 303 || status === 200)).toBe(true);
});
