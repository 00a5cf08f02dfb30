import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient, type OrderChangeEvent } from '@orders/shared';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import type { TestDatabase } from '@orders/server/testing/test-database.ts';
import { openSse, type SseStream } from '../support/sse.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { approveAll, client, discrepancies, ipnLedger, ipnPosts, ipnsSettled, orderChecks, payableOrders, printSummary, replayIpnLog, serverEnv, simulatorOptions, sleep, waitUntil } from '../reliability/helpers.ts';
import { startPgBouncer, type PgBouncer } from './pgbouncer.ts';
import { killGroup, launch, waitReady, type Launched } from './support.ts';

/*
 * Production's shape: three instances behind an HTTP load balancer, request traffic through PgBouncer
 * in transaction pooling mode (DATABASE_URL), migrations, pg-boss and LISTEN on a direct session
 * (DATABASE_DIRECT_URL). PayPal and buyers reach the service through the balancer (PUBLIC_BASE_URL).
 * A burst of return URLs and IPNs (PayPal sends each twice, and every message is replayed to each
 * instance directly), and a second wave of orders and payments created through the balancer, run
 * while one instance is SIGKILLed and stays dead; the balancer sends what it can no longer reach to
 * the others. Nothing lost, nothing paid twice, and the back-office
 * streams on the two survivors saw every order created and paid, whichever instance did it.
 */

const N = Number(process.env.OPS_ORDERS ?? 24);
/** Orders of the second wave, created and paid through the balancer while an instance is killed. */
const M = 12;
const RECEIVER = 'three@orders.example';
const ADMIN = { email: 'ops-admin@orders.example', password: 'a long ops password 0123' };
let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let db: TestDatabase;
let bouncer: PgBouncer;
let pool: pg.Pool;
let balancer: http.Server;
let balancerUrl: string;
const backends: { url: string; served: number; refused: number }[] = [];
const instances: Launched[] = [];
const streams: SseStream[] = [];

/** Round robin over the instances; a backend that refuses the connection is skipped, as a balancer's health check would. */
async function startBalancer(): Promise<void> {
  let next = 0;
  balancer = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<string, string>;
    for (let tries = 0; tries < backends.length; tries++) {
      const backend = backends[next++ % backends.length]!;
      try {
        const answer = await fetch(`${backend.url}${req.url}`, { method: req.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
        const payload = Buffer.from(await answer.arrayBuffer());
        backend.served++;
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) out[name] = value;
        });
        res.writeHead(answer.status, out).end(payload);
        return;
      } catch {
        backend.refused++;
      }
    }
    res.writeHead(502).end();
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  balancerUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  bed = await openTestBed({ paypal: simulatorOptions(RECEIVER) });
  ({ sim, db, pool } = bed);
  bouncer = await startPgBouncer(db.url);
  await startBalancer();
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  for (const port of ports) backends.push({ url: `http://127.0.0.1:${port}`, served: 0, refused: 0 });
  for (const port of ports) {
    instances.push(
      launch(port, {
        ...serverEnv(sim, bouncer.url, RECEIVER),
        DATABASE_DIRECT_URL: db.url,
        PUBLIC_BASE_URL: balancerUrl,
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'warn',
      }),
    );
  }
  await Promise.all(instances.map((instance) => waitReady(instance, 90_000)));
}, 180_000);

afterAll(async () => {
  for (const stream of streams) stream.close();
  for (const instance of instances) await killGroup(instance);
  await new Promise((resolve) => balancer?.close(resolve));
  await bouncer?.stop();
  await bed?.close();
});

it(`three instances through PgBouncer (transaction pooling), ${N} + ${M} orders, one instance SIGKILLed mid-burst: nothing lost, nothing paid twice, every change streamed`, { timeout: 240_000 }, async () => {
  const started = Date.now();
  const [a, b, c] = instances as [Launched, Launched, Launched];
  const staff = createOrdersClient({ url: `${a.url}/trpc` });
  const { token } = await staff.auth.login.mutate(ADMIN);
  for (const survivor of [a, b]) {
    const stream = await openSse(`${survivor.url}/trpc/backoffice.events.onChange`, { authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    await stream.next((e) => e.event === 'connected');
    streams.push(stream);
  }
  const xactsBefore = await bouncerTransactions();

  // Orders and their PayPal payments created through each instance in turn.
  const apis = instances.map((instance) => client(instance.url));
  const orders = await payableOrders((i) => apis[i % 3]!, N, 6);
  const viaVictim = orders.filter((_, i) => i % 3 === 2).map((o) => o.orderId);
  approveAll(sim, orders);
  sim.control.setLatency(40);
  sim.control.setIpnMode({ duplicates: 1 });

  // Every IPN PayPal logs is also posted to each instance directly: duplicates on all three, racing.
  const replayer = replayIpnLog(sim, () => instances.map((instance) => instance.url), { timeoutMs: 15_000, pollMs: 25, unansweredIsExpected: true });
  const { replays } = replayer;

  // Buyers come back through the balancer, reloading while it answers 5xx; half the payments PayPal
  // completes on its own (IPN only).
  const buyerReturns = async (order: (typeof orders)[number]) => {
    for (let reload = 0; reload < 60; reload++) {
      const response = await fetch(order.redirectUrl!.replace(/^https?:\/\/[^/]+/, balancerUrl), { redirect: 'manual', signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
      await response?.arrayBuffer();
      if (response && response.status < 500) return response.status;
      await sleep(300);
    }
    throw new Error(`return URL of ${order.orderId} never answered`);
  };
  const buyers = orders.map(async (order, i) => {
    await sleep(i * 60);
    return buyerReturns(order);
  });

  // A second wave of orders and payments through the balancer, in flight when the instance dies: its
  // requests to the dead instance are sent again to the others, as a balancer does with a refused connection.
  const balancerApi = client(balancerUrl);
  let created = 0;
  const wave = (async () => {
    const more: typeof orders = [];
    for (let i = 0; i < M; i++) {
      more.push(...(await payableOrders(() => balancerApi, 1, 1)));
      created++;
      await sleep(40);
    }
    return more;
  })();

  await waitUntil(async () => (await ipnLedger(pool)).stored >= 6 && created >= 3, 60_000, 'the burst to get going');
  const createdAtKill = created;
  c.child.kill('SIGKILL');
  expect(await c.exited).toMatchObject({ signal: 'SIGKILL' });
  const second = await wave;
  expect(createdAtKill, 'the second wave was still creating orders when the instance died').toBeLessThan(M);
  approveAll(sim, second);
  orders.push(...second);
  const returnStatuses = await Promise.all([...buyers, ...second.map(buyerReturns)]);
  sim.control.setLatency(0);
  await sim.control.settleIpns();
  await replayer.stop();
  sim.control.setIpnMode({ duplicates: 0 });

  const posts = ipnPosts(sim.control.ipnLog());
  const ledger = await ipnsSettled(pool, posts, 90_000, 'every stored IPN processed by the survivors');
  const checks = await orderChecks(pool, orders.map((o) => o.orderId));
  const problems = discrepancies(checks, N + M);
  const lost = [...new Set([...posts.okByBody.keys(), ...replays.okByBody.keys()])].filter(
    (body) => (ledger.storedByBody.get(body) ?? 0) < (posts.okByBody.get(body) ?? 0) + (replays.okByBody.get(body) ?? 0),
  );

  // Both survivors' back-office streams: every order created and paid, whichever instance did it.
  const seen = (stream: SseStream, kind: OrderChangeEvent['kind'], status?: string) =>
    new Set(
      stream.events
        .filter((e) => e.event === 'message')
        .map((e) => JSON.parse(e.data) as OrderChangeEvent)
        .filter((e) => e.kind === kind && (!status || e.status === status))
        .map((e) => e.orderId),
    );
  await waitUntil(async () => streams.every((s) => orders.every((o) => seen(s, 'updated', 'paid').has(o.orderId))), 15_000, 'every paid change on both streams').catch(() => undefined);
  const missing = streams.map((s) => ({
    created: orders.filter((o) => !seen(s, 'created').has(o.orderId)).length,
    paid: orders.filter((o) => !seen(s, 'updated', 'paid').has(o.orderId)).length,
  }));
  const xacts = (await bouncerTransactions()) - xactsBefore;

  printSummary(`three instances through PgBouncer, ${N} + ${M} orders`, {
    'IPN messages PayPal sent': posts.messages,
    'posts by PayPal (duplicates: 1, resends)': `${posts.posts} (${posts.answered200} answered 200, ${posts.refused} refused, ${posts.connectionErrors} connection errors)`,
    'direct replays to the instances': `${replays.posted} (${replays.ok} answered 200)`,
    'IPN rows stored': ledger.stored,
    'processed (acted on)': ledger.processed,
    'duplicates absorbed': ledger.duplicates,
    'other outcomes': ledger.other,
    'balancer backends (served / refused)': backends.map((x) => `${x.served}/${x.refused}`).join(', '),
    'return URL answers': returnStatuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {}),
    'transactions through PgBouncer': xacts,
    'orders paid': `${checks.filter((x) => x.status === 'paid').length} of ${N + M} (${M} created and paid through the balancer, ${createdAtKill} of them before the kill)`,
    'missing on streams (created / paid)': missing.map((m) => `${m.created}/${m.paid}`).join(', '),
    discrepancies: problems.length ? problems : 'none',
    'elapsed ms': Date.now() - started,
  });

  expect(a.alive() && b.alive()).toBe(true);
  expect(backends[2]!.refused, 'the balancer met the killed instance').toBeGreaterThan(0);
  expect(posts.undelivered).toBe(0);
  expect(lost).toEqual([]);
  expect(problems).toEqual([]);
  expect(ledger.processed).toBe(N + M);
  expect(ledger.processed + ledger.duplicates).toBe(ledger.stored);
  expect(ledger.other).toEqual({});
  expect(returnStatuses.every((s) => s === 303 || s === 200)).toBe(true);
  // Orders created through the instance that was later killed reached the survivors' streams too.
  expect(viaVictim.length).toBeGreaterThan(0);
  expect(missing).toEqual([{ created: 0, paid: 0 }, { created: 0, paid: 0 }]);
  // The request traffic really went through PgBouncer.
  expect(xacts).toBeGreaterThan(N * 5);

  // Statements with settings of their own (SET LOCAL, sent with the statement as one simple query):
  // a search's count under its time budget and the reconciliation summary, through PgBouncer, and
  // nothing of them left on the pooled connections.
  const admin = createOrdersClient({ url: `${a.url}/trpc`, apiKey: token });
  const { rows: paidUsd } = await pool.query<{ n: number }>(`select count(*)::int as n from "order" where status = 'paid' and currency = 'USD'`);
  // More than the page of one: the total is counted, not read off the page.
  expect(paidUsd[0]!.n).toBeGreaterThan(1);
  for (let i = 0; i < 8; i++) {
    const found = await admin.backoffice.orders.search.query({ status: ['paid'], currency: 'USD', limit: 1 });
    expect(found.total).toEqual({ value: paidUsd[0]!.n, exact: true });
  }
  expect((await admin.backoffice.reconciliation.summary.query({})).total).toBe(0);
  const pooled = new pg.Pool({ connectionString: bouncer.url, max: 6 });
  try {
    const settings = await Promise.all(
      Array.from({ length: 6 }, async () => (await pooled.query<{ timeout: string; open: boolean }>(`select current_setting('statement_timeout') as timeout, now() <> statement_timestamp() as open`)).rows[0]),
    );
    expect(settings).toEqual(Array.from({ length: 6 }, () => ({ timeout: '0', open: false })));
  } finally {
    await pooled.end();
  }
});

async function bouncerTransactions(): Promise<number> {
  const stats = await bouncer.admin('SHOW STATS');
  return stats.filter((row) => row.database === db.name).reduce((sum, row) => sum + Number(row.total_xact_count ?? 0), 0);
}
