/**
 * `npm run bench`: Orders against a hand-written raw-pg baseline, in the same run, on the same
 * embedded PostgreSQL. Writes bench/results.json at the repository root and prints a table.
 * See tests/bench/README.md for what is measured and how to read it.
 */
import { cpus, totalmem, release, loadavg } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createOrdersClient, type OrdersClient } from '@orders/shared';
import { REPO_ROOT, memoryOf } from './lib/children.ts';
import { boundedEach, compareClosedLoops, type LoadResult, type Operation } from './lib/load.ts';
import { cpuSince, cpuSnapshot, processCpuMs, treeCpuMs, type CpuShare } from './lib/cpu.ts';
import { ActivitySampler, type ConnectionUse } from './lib/activity.ts';
import { startBenchPostgres, ORDERS_DB, BASELINE_DB } from './lib/postgres.ts';
import { seedCatalog, seedPendingOrders, seedSearchOrders, CATALOG_SIZE, skuOf } from './lib/seed.ts';
import { countStatements, type StatementCount } from './lib/statements.ts';
import { ratio, round, summarize, table, fmt, type LatencySummary } from './lib/stats.ts';
import { startBaseline, startOrders, ADMIN_EMAIL, ADMIN_PASSWORD, SERVICE_KEY, PROFILE_DIR, type Target } from './lib/targets.ts';
import { completedIpn, txnIdFor } from './lib/ipn.ts';
import { runSearch, exportCsv, type SearchQuery } from './lib/search-sql.ts';

// ---- configuration ----

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
};
const SECONDS = num('BENCH_SECONDS', 20);
const config = {
  seconds: SECONDS,
  warmupSeconds: num('BENCH_WARMUP_SECONDS', Math.min(3, Math.max(1, SECONDS / 5))),
  concurrency: num('BENCH_CONCURRENCY', 32),
  /** The measured time of each load comparison is cut into this many slices, alternating Orders and baseline. */
  slices: num('BENCH_SLICES', 4),
  ipns: num('BENCH_IPNS', SECONDS >= 20 ? 10_000 : 2_000),
  ipnConcurrency: num('BENCH_IPN_CONCURRENCY', 64),
  /** Longest wait for one side's IPN backlog to drain; beyond it the figure is reported as capped, never extrapolated as measured. */
  ipnDrainCapSeconds: num('BENCH_IPN_DRAIN_CAP_SECONDS', SECONDS >= 20 ? 150 : 60),
  searchOrders: num('BENCH_SEARCH_ORDERS', 1_000_000),
  searchSamples: num('BENCH_SEARCH_SAMPLES', SECONDS >= 20 ? 60 : 25),
  searchDeepPage: num('BENCH_SEARCH_DEEP_PAGE', 50),
  statementOps: num('BENCH_STATEMENT_OPS', 20),
  profile: process.env.BENCH_PROFILE === '1',
  phases: new Set((process.env.BENCH_PHASES ?? 'intake,payments,statements,ipn,search').split(',').map((p) => p.trim())),
};

const RESULTS_FILE = path.join(REPO_ROOT, 'bench/results.json');
const started = performance.now();
const log = (line: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

// ---- helpers ----

const clientFor = (target: Target, apiKey = SERVICE_KEY): OrdersClient => createOrdersClient({ url: target.trpcUrl, apiKey });
const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
const skus = Array.from({ length: CATALOG_SIZE }, (_, i) => skuOf(i + 1));

interface Compared<T> {
  orders: T;
  baseline: T;
}

function throughputRatio(result: Compared<{ perSecond: number }>) {
  return ratio(result.orders.perSecond, result.baseline.perSecond);
}

// ---- 1. order intake ----

function intakeOp(target: Target): Operation {
  const clients = Array.from({ length: config.concurrency }, () => clientFor(target));
  const counters = new Array<number>(config.concurrency).fill(0);
  return async (worker, step) => {
    const client = clients[worker]!;
    // Returning customers: each worker cycles through 50 of its own.
    const customer = { type: 'user' as const, id: `intake-${target.name}-${worker}-${counters[worker]!++ % 50}` };
    const cart = await step('carts.create', () => client.carts.create.mutate({ customer }));
    await step('carts.setItem', () => client.carts.setItem.mutate({ customer, cartId: cart.id, sku: pick(skus), quantity: 1 + Math.floor(Math.random() * 3) }));
    await step('orders.create', () => client.orders.create.mutate({ customer, cartId: cart.id }));
  };
}

// ---- 2. payment attempts ----

async function paymentsOp(target: Target, pool: pg.Pool): Promise<Operation> {
  // Enough pending orders that (almost) every attempt is an order's first; a worker that runs out starts over (a retry supersedes).
  const perWorker = Math.ceil(((config.seconds + config.warmupSeconds) * 900) / config.concurrency);
  const orders = await seedPendingOrders(pool, { count: perWorker * config.concurrency, customerPrefix: `pay-${target.name}` });
  const clients = Array.from({ length: config.concurrency }, () => clientFor(target));
  const next = new Array<number>(config.concurrency).fill(0);
  return async (worker, step) => {
    const order = orders[worker * perWorker + (next[worker]!++ % perWorker)]!;
    await step('payments.attemptToPay', () =>
      clients[worker]!.payments.attemptToPay.mutate({
        customer: order.customer,
        orderId: order.orderId,
        returnUrl: 'https://shop.example/paypal/done',
        cancelUrl: 'https://shop.example/paypal/cancelled',
      }),
    );
  };
}

/** The phase's load comparison; connection use is sampled per side under `${phase}:${side}`. */
const compare = (phase: string, targets: Compared<Target>, ops: Compared<Operation>, activity: ActivitySampler, postmasterPid: number) =>
  compareClosedLoops({
    concurrency: config.concurrency,
    durationMs: config.seconds * 1000,
    warmupMs: config.warmupSeconds * 1000,
    slices: config.slices,
    ops,
    cpuMeters: {
      server: (side) => processCpuMs(targets[side].process.pid),
      postgres: () => treeCpuMs(postmasterPid),
      client: () => processCpuMs(process.pid),
    },
    onSlice: (side) => activity.set(side && `${phase}:${side}`, side && targets[side].database),
  });

// ---- 3. IPN processing ----

interface IpnResult {
  ipns: number;
  /** Machine CPU while this side ran (the two sides run one after the other). */
  cpu: CpuShare;
  /** The server's connections while the IPNs were posted, and while the backlog drained. */
  connections: { posting: ConnectionUse | undefined; draining: ConnectionUse | undefined };
  concurrency: number;
  listener: { perSecond: number; latencyMs: LatencySummary; non200: number; seconds: number };
  processing: {
    processed: number;
    /** From the first IPN stored to the last one processed (database clock); up to the cap if capped. */
    seconds: number;
    perSecond: number;
    capped: boolean;
    /** Capped before the cap itself: the measured rate projected more than twice the cap. */
    stoppedEarly: boolean;
    /** Only when capped: how long the rest would take at the measured rate — a projection, not a measurement. */
    projectedTotalSeconds: number | null;
    outcomes: Record<string, number>;
  };
}

/** Registers each IPN as genuine at the side's simulator with its IPN dispatch paused, so the simulator does not post them; the bench does. */
async function registerIpns(target: Target, fieldsList: Record<string, string>[]): Promise<string[]> {
  const notifyUrl = `${target.url}/paypal/ipn`;
  const post = async (url: string, body: unknown) => {
    const headers = { 'content-type': 'application/json', ...(target.simulatorToken ? { authorization: `Bearer ${target.simulatorToken}` } : {}) };
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  if (target.name === 'orders') {
    await post(`${target.simulatorUrl}/_sim/ipn/mode`, { paused: true });
    const bodies = new Array<string>(fieldsList.length);
    await boundedEach(fieldsList, 32, async (fields, i) => {
      bodies[i] = ((await post(`${target.simulatorUrl}/_sim/ipn/send`, { fields, notifyUrl })) as { body: string }).body;
    });
    return bodies;
  }
  const bodies: string[] = [];
  for (let i = 0; i < fieldsList.length; i += 500) {
    bodies.push(...((await post(`${target.url}/_bench/ipn/register`, { fields: fieldsList.slice(i, i + 500), notifyUrl })) as { bodies: string[] }).bodies);
  }
  return bodies;
}

async function postIpn(target: Target, body: string): Promise<number> {
  const response = await fetch(`${target.url}/paypal/ipn`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'PayPal IPN ( https://www.paypal.com/ipn )' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

async function ipnPhase(target: Target, pool: pg.Pool, count: number, txnPrefix: string, activity: ActivitySampler): Promise<IpnResult> {
  const cpuStart = cpuSnapshot();
  const targets = await seedPendingOrders(pool, { count, customerPrefix: `ipn-${txnPrefix}-${target.name}`, attempts: true });
  const fields = targets.map((t, i) => completedIpn({ orderId: t.orderId, attemptId: t.attemptId!, amount: t.amount, currency: t.currency }, txnIdFor(txnPrefix, i)));
  log(`${target.name}: registering ${count} IPNs as genuine at its simulator`);
  const bodies = await registerIpns(target, fields);
  log(`${target.name}: posting ${count} IPNs to /paypal/ipn, ${config.ipnConcurrency} at a time`);
  activity.set(`ipn-post:${target.name}`, target.database);
  let non200 = 0;
  const postStarted = performance.now();
  const latencies = await boundedEach(bodies, config.ipnConcurrency, async (body) => {
    const status = await postIpn(target, body);
    if (status !== 200) non200++;
  });
  const postSeconds = (performance.now() - postStarted) / 1000;
  activity.set(`ipn-drain:${target.name}`, target.database);
  const progress = async () =>
    (
      await pool.query<{ done: number; total: number; seconds: number | null; first: Date }>(
        `select count(*) filter (where processing <> 'received')::int as done, count(*)::int as total,
                extract(epoch from max(processed_at) - min(created_at))::float8 as seconds
           from payment_event where source = 'ipn' and txn_id like $1`,
        [`${txnPrefix}%`],
      )
    ).rows[0]!;
  const capAt = postStarted + config.ipnDrainCapSeconds * 1000;
  const postEnded = performance.now();
  let state = await progress();
  let lastLog = performance.now();
  let stoppedEarly = false;
  while (state.done < count && performance.now() < capAt) {
    await sleep(250);
    state = await progress();
    const elapsed = (performance.now() - postStarted) / 1000;
    if (performance.now() - lastLog > 10_000) {
      log(`${target.name}: ${state.done}/${count} IPNs processed after ${elapsed.toFixed(0)} s`);
      lastLog = performance.now();
    }
    // Waiting out the cap would not change the finding when the measured rate needs far longer: stop early, say so.
    if (performance.now() - postEnded > 15_000 && state.done > 0 && count / (state.done / elapsed) > 2 * config.ipnDrainCapSeconds) {
      stoppedEarly = true;
      break;
    }
  }
  const capped = state.done < count;
  const outcomes = Object.fromEntries(
    (
      await pool.query<{ processing: string; n: number }>(
        `select processing, count(*)::int as n from payment_event where source = 'ipn' and txn_id like $1 group by 1 order by 1`,
        [`${txnPrefix}%`],
      )
    ).rows.map((r) => [r.processing, r.n]),
  );
  let seconds = state.seconds ?? 0;
  if (capped) {
    seconds = (performance.now() - postStarted) / 1000;
    // The rest would keep the server busy during later phases: take it out of the queue (bench data only).
    await pool.query(
      `update payment_event set processing = 'ignored', outcome = 'bench: drain cap reached', processed_at = clock_timestamp()
        where source = 'ipn' and txn_id like $1 and processing = 'received'`,
      [`${txnPrefix}%`],
    );
    const leftover = target.name === 'orders' ? `delete from pgboss.job where name = 'ipn-process' and state in ('created', 'retry')` : `delete from bench_ipn_job`;
    const removed = await pool.query(leftover).then((r) => r.rowCount, (error: Error) => log(`could not clear the leftover queue: ${error.message}`));
    log(`${target.name}: capped; ${count - state.done} unprocessed IPNs marked ignored, ${removed ?? 0} queued jobs removed`);
  }
  const perSecond = seconds > 0 ? state.done / seconds : 0;
  activity.set(undefined);
  return {
    ipns: count,
    cpu: cpuSince(cpuStart),
    connections: { posting: activity.result(`ipn-post:${target.name}`), draining: activity.result(`ipn-drain:${target.name}`) },
    concurrency: config.ipnConcurrency,
    listener: { perSecond: round(count / postSeconds), latencyMs: summarize(latencies), non200, seconds: round(postSeconds) },
    processing: {
      processed: state.done,
      seconds: round(seconds),
      perSecond: round(perSecond),
      capped,
      stoppedEarly,
      projectedTotalSeconds: capped && perSecond > 0 ? round(count / perSecond) : null,
      outcomes,
    },
  };
}

// ---- 5. statements per operation ----

async function statementPhase(target: Target, pool: pg.Pool, statsPool: pg.Pool): Promise<StatementCount[]> {
  const n = config.statementOps;
  const client = clientFor(target);
  const customer = (i: number) => ({ type: 'user' as const, id: `stmt-${target.name}-${i}` });
  const carts: string[] = [];
  const orders: string[] = [];
  const count = (operation: string, run: () => Promise<void>, operations = n) =>
    countStatements({ statsPool, database: target.database, operation, operations, run });
  const results: StatementCount[] = [];
  results.push(await count('carts.create', async () => {
    for (let i = 0; i < n; i++) carts.push((await client.carts.create.mutate({ customer: customer(i) })).id);
  }));
  results.push(await count('carts.setItem', async () => {
    for (let i = 0; i < n; i++) await client.carts.setItem.mutate({ customer: customer(i), cartId: carts[i]!, sku: skus[i]!, quantity: 1 });
  }));
  results.push(await count('orders.create', async () => {
    for (let i = 0; i < n; i++) orders.push((await client.orders.create.mutate({ customer: customer(i), cartId: carts[i]! })).id);
  }));
  results.push(await count('payments.attemptToPay', async () => {
    for (let i = 0; i < n; i++) await client.payments.attemptToPay.mutate({ customer: customer(i), orderId: orders[i]! });
  }));
  // IPNs: listener and worker together, until every one is processed (pg-boss's idle polling in the window is included).
  const targets = await seedPendingOrders(pool, { count: n, customerPrefix: `stmt-ipn-${target.name}`, attempts: true });
  const fields = targets.map((t, i) => completedIpn({ orderId: t.orderId, attemptId: t.attemptId!, amount: t.amount, currency: t.currency }, txnIdFor('SIPN', i)));
  const bodies = await registerIpns(target, fields);
  results.push(await count('IPN (listener + worker)', async () => {
    for (const body of bodies) await postIpn(target, body);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const { rows } = await pool.query<{ left: number }>(`select count(*)::int as left from payment_event where source = 'ipn' and txn_id like 'SIPN%' and processing = 'received'`);
      if (rows[0]!.left === 0) break;
      await sleep(100);
    }
  }));
  return results;
}

// ---- 4. back-office search ----

interface SearchCase {
  name: string;
  query: Omit<SearchQuery, 'after'>;
}

interface SearchFigures {
  firstPage: LatencySummary;
  deepPage: LatencySummary & { depthRows: number };
  total: { value: number; exact: boolean };
}

/**
 * Latency of `a` and `b` (the raw SQL and Orders' procedure for one case), sampled alternately
 * (a b b a a b …) so load from anything else on the machine hits both alike. One untimed run of
 * each first: plans cached, pages in shared buffers, code warm.
 */
async function timedPair(samples: number, a: () => Promise<unknown>, b?: () => Promise<unknown>): Promise<[LatencySummary, LatencySummary | undefined]> {
  const la: number[] = [];
  const lb: number[] = [];
  const time = async (fn: () => Promise<unknown>, into: number[]) => {
    const t0 = performance.now();
    await fn();
    into.push(performance.now() - t0);
  };
  await a();
  if (b) await b();
  for (let i = 0; i < samples; i++) {
    const pair: [() => Promise<unknown>, number[]][] = [[a, la]];
    if (b) pair[i % 2 === 0 ? 'push' : 'unshift']([b, lb]);
    for (const [fn, into] of pair) await time(fn, into);
  }
  return [summarize(la), b ? summarize(lb) : undefined];
}

async function searchCases(pool: pg.Pool): Promise<SearchCase[]> {
  const now = Date.now();
  const daysAgo = (d: number) => new Date(now - d * 86_400_000).toISOString();
  const counts = await pool.query<{ customer_id: string; n: number }>(
    `select customer_id, count(*)::int as n from "order" where customer_type = 'user' and customer_id = any($1) group by 1`,
    [Array.from({ length: 40 }, (_, i) => `user-${i + 2}`).concat(Array.from({ length: 40 }, (_, i) => `user-${280 + i}`))],
  );
  const closest = (target: number) => counts.rows.reduce((best, r) => (Math.abs(r.n - target) < Math.abs(best.n - target) ? r : best), counts.rows[0]!);
  const heavy = closest(300);
  const buyer = closest(40);
  const base = { limit: 100 };
  return [
    { name: 'all orders, newest first', query: { ...base, filter: {}, sort: 'created', direction: 'desc' } },
    { name: 'status pending, newest first', query: { ...base, filter: { status: ['pending'] }, sort: 'created', direction: 'desc' } },
    { name: 'paid in last 30 days, newest first', query: { ...base, filter: { status: ['paid'], createdFrom: daysAgo(30) }, sort: 'created', direction: 'desc' } },
    { name: 'currency EUR, largest total first', query: { ...base, filter: { currency: 'EUR' }, sort: 'total', direction: 'desc' } },
    { name: 'amount 100.00–500.00, smallest first', query: { ...base, filter: { amountMin: 10_000, amountMax: 50_000 }, sort: 'total', direction: 'asc' } },
    { name: `customer ${heavy.customer_id} (${heavy.n} orders), newest`, query: { ...base, filter: { customerType: 'user', customerId: heavy.customer_id }, sort: 'created', direction: 'desc' } },
    { name: `q = payer email (${buyer.customer_id}), newest`, query: { ...base, filter: { q: `${buyer.customer_id}@example.com` }, sort: 'created', direction: 'desc' } },
    { name: 'failed+cancelled USD last 90 d, oldest first', query: { ...base, filter: { status: ['failed', 'cancelled'], currency: 'USD', createdFrom: daysAgo(90) }, sort: 'created', direction: 'asc' } },
  ];
}

/** Walks pages by keyset until `pages` deep (or the last full page); returns the cursor before that page. */
async function deepCursor(pool: pg.Pool, query: Omit<SearchQuery, 'after'>, pages: number): Promise<{ after: SearchQuery['after']; depthRows: number }> {
  let after: SearchQuery['after'];
  let depth = 0;
  for (let page = 1; page < pages; page++) {
    const { rows } = await runSearch(pool, { ...query, ...(after ? { after } : {}) });
    if (rows.length < query.limit) break;
    const last = rows[rows.length - 1]!;
    after = { key: last.sortKey, id: last.id };
    depth += rows.length;
  }
  return { after, depthRows: depth };
}

type ProcedureProbe = { available: true } | { available: false; reason: string };

/** Is `path` served by Orders? Answered by Orders itself: tRPC says NOT_FOUND "No procedure found" when it is not. */
async function probeProcedure(target: Target, token: string, procedurePath: string, input: unknown): Promise<ProcedureProbe> {
  const response = await fetch(`${target.trpcUrl}/${procedurePath}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  if (response.status === 404 && /No procedure found|No "query"-procedure/.test(body.error?.message ?? '')) {
    return { available: false, reason: `pending: ${procedurePath} not yet implemented` };
  }
  if (!response.ok) return { available: false, reason: `${procedurePath} answered HTTP ${response.status}: ${body.error?.message ?? ''}`.trim() };
  return { available: true };
}

async function callProcedure<T>(target: Target, token: string, procedurePath: string, input: unknown): Promise<T> {
  const response = await fetch(`${target.trpcUrl}/${procedurePath}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { result?: { data: T }; error?: { message?: string } };
  if (!response.ok || !body.result) throw new Error(`${procedurePath}: HTTP ${response.status} ${body.error?.message ?? ''}`);
  return body.result.data;
}

/**
 * Orders' CSV export through GET /backoffice/api/orders.csv — the HTTP face of the same generator as
 * backoffice.orders.exportCsv (which streams only through httpBatchStreamLink) — read as it streams.
 */
async function ordersCsvExport(target: Target, token: string, query: { filter: SearchQuery['filter']; sort: string; direction: string }) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query.filter)) params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  params.set('sort', query.sort);
  params.set('direction', query.direction);
  const t0 = performance.now();
  const response = await fetch(`${target.url}/backoffice/api/orders.csv?${params}`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status === 404) return { pending: 'pending: GET /backoffice/api/orders.csv not yet implemented' };
  if (!response.ok || !response.body) return { pending: `GET /backoffice/api/orders.csv answered HTTP ${response.status}; not measured` };
  let lines = 0;
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    for (const byte of chunk) if (byte === 10) lines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rows: lines - 1, bytes, seconds: round(seconds), rowsPerSecond: round((lines - 1) / seconds) };
}

async function searchPhase(orders: Target, benchUrl: string, statsPool: pg.Pool) {
  const seed = await seedSearchOrders(benchUrl, config.searchOrders, log);
  const raw = new pg.Pool({ connectionString: benchUrl, max: 4 });
  try {
    const cases = await searchCases(raw);
    const token = (await createOrdersClient({ url: orders.trpcUrl }).auth.login.mutate({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
    const probe = await probeProcedure(orders, token, 'backoffice.orders.search', { limit: 1 });
    log(`backoffice.orders.search: ${probe.available ? 'available — measuring it beside the raw SQL' : probe.reason}`);
    const rows: {
      name: string;
      filter: SearchQuery['filter'];
      sort: string;
      direction: string;
      raw: SearchFigures;
      orders: SearchFigures | { pending: string };
    }[] = [];
    let rawStatements = 0;
    for (const c of cases) {
      const first = await runSearch(raw, c.query);
      rawStatements += first.statements;
      const deep = await deepCursor(raw, c.query, config.searchDeepPage);
      const rawDeep = { ...c.query, ...(deep.after ? { after: deep.after } : {}) };
      type Page = { items: unknown[]; nextCursor: string | null; total: { value: number; exact: boolean } };
      const input = { ...c.query.filter, sort: c.query.sort, direction: c.query.direction, limit: c.query.limit };
      let procedure: { first: () => Promise<unknown>; deep: () => Promise<unknown>; depth: number; total: Page['total'] } | undefined;
      if (probe.available) {
        const firstPage = await callProcedure<Page>(orders, token, 'backoffice.orders.search', input);
        // Orders' own cursors, walked page by page to the same depth.
        let cursor: string | null = null;
        let depth = 0;
        for (let page = 1; page < config.searchDeepPage; page++) {
          const result: Page = await callProcedure<Page>(orders, token, 'backoffice.orders.search', cursor ? { ...input, cursor } : input);
          if (!result.nextCursor || result.items.length < c.query.limit) break;
          cursor = result.nextCursor;
          depth += result.items.length;
        }
        const deepInput = cursor ? { ...input, cursor } : input;
        procedure = {
          first: () => callProcedure(orders, token, 'backoffice.orders.search', input),
          deep: () => callProcedure(orders, token, 'backoffice.orders.search', deepInput),
          depth,
          total: firstPage.total,
        };
      }
      const [rawFirst, ordersFirst] = await timedPair(config.searchSamples, () => runSearch(raw, c.query), procedure?.first);
      const [rawDeepPage, ordersDeep] = await timedPair(config.searchSamples, () => runSearch(raw, rawDeep), procedure?.deep);
      const rawFigures: SearchFigures = { firstPage: rawFirst, deepPage: { ...rawDeepPage, depthRows: deep.depthRows }, total: first.total };
      const ordersFigures: SearchFigures | { pending: string } = procedure
        ? { firstPage: ordersFirst!, deepPage: { ...ordersDeep!, depthRows: procedure.depth }, total: procedure.total }
        : { pending: probe.available ? 'unavailable' : probe.reason };
      rows.push({ name: c.name, filter: c.query.filter, sort: c.query.sort, direction: c.query.direction, raw: rawFigures, orders: ordersFigures });
      const o = 'pending' in ordersFigures ? undefined : ordersFigures;
      log(`search "${c.name}": p95 first/deep raw ${fmt(rawFigures.firstPage.p95)}/${fmt(rawFigures.deepPage.p95)} ms, Orders ${o ? `${fmt(o.firstPage.p95)}/${fmt(o.deepPage.p95)} ms` : 'pending'}; total ${rawFigures.total.value}${rawFigures.total.exact ? '' : ' (estimate)'}`);
    }
    // CSV export of a wide filter.
    const exportQuery = { filter: { status: ['paid' as const], createdFrom: new Date(Date.now() - 90 * 86_400_000).toISOString() }, sort: 'created' as const, direction: 'desc' as const };
    const exportStarted = performance.now();
    const exported = await exportCsv(raw, exportQuery);
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    const ordersExport = await ordersCsvExport(orders, token, exportQuery);
    // Statements per search: the raw baseline's are counted as it issues them; Orders' with pg_stat_statements.
    let ordersSearchStatements: StatementCount | { pending: string };
    if (probe.available) {
      ordersSearchStatements = await countStatements({
        statsPool,
        database: ORDERS_DB,
        operation: 'backoffice.orders.search (first page, each of the 8 cases once)',
        operations: cases.length,
        run: async () => {
          for (const c of cases) await callProcedure(orders, token, 'backoffice.orders.search', { ...c.query.filter, sort: c.query.sort, direction: c.query.direction, limit: c.query.limit });
        },
      });
    } else {
      ordersSearchStatements = { pending: probe.reason };
    }
    return {
      seed,
      pending: probe.available ? null : probe.reason,
      cases: rows,
      export: {
        filter: exportQuery.filter,
        raw: { rows: exported.rows, bytes: exported.bytes, seconds: round(exportSeconds), rowsPerSecond: round(exported.rows / exportSeconds), statements: exported.statements },
        orders: ordersExport,
      },
      statements: {
        raw: { perSearch: round(rawStatements / cases.length), note: 'page query + capped count (+ EXPLAIN estimate when above 10,000 matches); auth not included' },
        orders: ordersSearchStatements,
      },
    };
  } finally {
    await raw.end();
  }
}

// ---- main ----

async function main() {
  if (!process.version.startsWith('v24.')) log(`warning: running on Node ${process.version}; the repository pins Node 24 (use npm run bench)`);
  log(`config ${JSON.stringify({ ...config, phases: [...config.phases] })}`);
  const startCpu = cpuSnapshot();
  const db = await startBenchPostgres(log);
  const pools: pg.Pool[] = [];
  let stopping = false;
  const pool = (url: string, max = 4) => {
    const p = new pg.Pool({ connectionString: url, max });
    // An idle connection dropped (PostgreSQL stopping) must not crash the bench.
    p.on('error', (error) => stopping || log(`idle pool connection error: ${error.message}`));
    pools.push(p);
    return p;
  };
  const targets: Target[] = [];
  const activities: ActivitySampler[] = [];
  const results: Record<string, unknown> = {};
  try {
    const ordersPool = pool(db.benchUrl(ORDERS_DB));
    const baselinePool = pool(db.benchUrl(BASELINE_DB));
    const statsPool = pool(db.benchUrl('postgres'), 1);
    const activity = new ActivitySampler(pool(db.benchUrl('postgres'), 1));
    activities.push(activity);
    await Promise.all([seedCatalog(ordersPool), seedCatalog(baselinePool)]);
    const orders = await startOrders({ databaseUrl: db.serverUrl(ORDERS_DB), database: ORDERS_DB, profile: config.profile });
    targets.push(orders);
    const baseline = await startBaseline({ databaseUrl: db.serverUrl(BASELINE_DB), database: BASELINE_DB, profile: config.profile });
    targets.push(baseline);
    log(`Orders at ${orders.url} (pid ${orders.process.pid}), baseline at ${baseline.url} (pid ${baseline.process.pid})`);
    const side = { orders: { target: orders, pool: ordersPool }, baseline: { target: baseline, pool: baselinePool } };
    const rss: Record<string, Compared<number>> = {};
    const cpu: Record<string, CpuShare & { loadAverage: number }> = {};
    let phaseCpu = startCpu;
    const takeRss = (phase: string) => {
      rss[phase] = { orders: round(orders.rss.take(), 1), baseline: round(baseline.rss.take(), 1) };
      cpu[phase] = { ...cpuSince(phaseCpu), loadAverage: round(loadavg()[0]!, 2) };
      phaseCpu = cpuSnapshot();
    };
    takeRss('startup');

    if (config.phases.has('intake')) {
      log(`intake: ${config.concurrency} clients, ${config.seconds} s (+${config.warmupSeconds} s warm-up) each side`);
      const r: Compared<LoadResult> = await compare('intake', { orders, baseline }, { orders: intakeOp(orders), baseline: intakeOp(baseline) }, activity, db.postmasterPid());
      results.intake = { ...r, ratio: throughputRatio(r), connections: { orders: activity.result('intake:orders'), baseline: activity.result('intake:baseline') } };
      takeRss('intake');
      log(`intake: Orders ${r.orders.perSecond}/s vs baseline ${r.baseline.perSecond}/s`);
    }
    if (config.phases.has('payments')) {
      log(`payments: ${config.concurrency} clients, ${config.seconds} s each side`);
      const r: Compared<LoadResult> = await compare('payments', { orders, baseline }, { orders: await paymentsOp(orders, ordersPool), baseline: await paymentsOp(baseline, baselinePool) }, activity, db.postmasterPid());
      results.payments = { ...r, ratio: throughputRatio(r), connections: { orders: activity.result('payments:orders'), baseline: activity.result('payments:baseline') } };
      takeRss('payments');
      log(`payments: Orders ${r.orders.perSecond}/s vs baseline ${r.baseline.perSecond}/s`);
    }
    if (config.phases.has('statements')) {
      log(`statements per operation (${config.statementOps} sequential operations per window)`);
      results.statements = { orders: await statementPhase(orders, ordersPool, statsPool), baseline: await statementPhase(baseline, baselinePool, statsPool) };
      takeRss('statements');
    }
    if (config.phases.has('ipn')) {
      const ipnOrders = await ipnPhase(orders, side.orders.pool, config.ipns, 'BIPN', activity);
      const ipnBaseline = await ipnPhase(baseline, side.baseline.pool, config.ipns, 'BIPN', activity);
      const r: Compared<IpnResult> = { orders: ipnOrders, baseline: ipnBaseline };
      results.ipn = {
        ...r,
        processingRatio: ratio(r.orders.processing.perSecond, r.baseline.processing.perSecond),
        listenerRatio: ratio(r.orders.listener.perSecond, r.baseline.listener.perSecond),
      };
      takeRss('ipn');
      log(`IPN: Orders ${r.orders.processing.perSecond}/s${r.orders.processing.capped ? ' (capped)' : ''} vs baseline ${r.baseline.processing.perSecond}/s`);
    }
    if (config.phases.has('search')) {
      log(`search: seeding ${config.searchOrders.toLocaleString('en-US')} orders`);
      results.search = await searchPhase(orders, db.benchUrl(ORDERS_DB), statsPool);
      takeRss('search');
    }
    const hwm = (t: Target) => round(memoryOf(t.process.pid)?.hwmMiB ?? NaN, 1);
    results.rss = {
      note: 'MiB. Each server runs in its own process (the bench spawns it); "peak" is the kernel\'s VmHWM for that process, per-phase figures are the highest of VmRSS samples every 200 ms. Both processes include their in-process PayPal simulator.',
      peak: { orders: hwm(orders), baseline: hwm(baseline) },
      byPhase: rss,
    };
    results.cpu = {
      note: '% of the whole machine (all cores) per phase: busy, used by the bench (its servers, PostgreSQL, load generator), and by other processes. Other load makes absolute figures lower; the interleaved slices keep ratios fair.',
      byPhase: cpu,
    };
    results.machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      kernel: release(),
      node: process.version,
      postgres: db.version,
      postgresSettings: db.settings,
      loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    };
  } catch (error) {
    for (const t of targets) log(`${t.name} output (tail):\n${t.process.output().slice(-4000)}`);
    throw error;
  } finally {
    stopping = true;
    for (const a of activities) a.stop();
    for (const t of targets.reverse()) await t.stop().catch((error) => log(`stopping ${t.name} failed: ${String(error)}`));
    for (const p of pools) await p.end().catch(() => undefined);
    await db.stop();
  }
  results.config = { ...config, phases: [...config.phases] };
  results.finishedAt = new Date().toISOString();
  results.wallSeconds = round((performance.now() - started) / 1000, 1);
  if (config.profile) results.profiles = PROFILE_DIR;
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, JSON.stringify(results, null, 2));
  console.log(`\n${report(results)}\n\nwritten to ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE} in ${results.wallSeconds} s`);
}

// ---- report ----

function report(results: Record<string, any>): string {
  const out: string[] = [];
  const m = results.machine;
  if (m) out.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ${String(m.postgres).split(' on ')[0]}`);
  const lat = (l: LatencySummary) => [l.p50, l.p95, l.p99];
  const rows: (string | number)[][] = [['figure', 'Orders /s', 'p50 ms', 'p95 ms', 'p99 ms', 'baseline /s', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'target', 'CPU ms/op server·PG O|B']];
  const cpuPerOp = (r: Compared<LoadResult>) =>
    `${fmt(r.orders.cpuMsPerOp.server ?? NaN)}·${fmt(r.orders.cpuMsPerOp.postgres ?? NaN)} | ${fmt(r.baseline.cpuMsPerOp.server ?? NaN)}·${fmt(r.baseline.cpuMsPerOp.postgres ?? NaN)}`;
  const verdict = (value: number, min: number) => (Number.isFinite(value) ? (value >= min ? `met (≥${min})` : `MISSED (<${min})`) : '—');
  if (results.intake) {
    const r = results.intake;
    rows.push(['1. order intake (orders/s)', r.orders.perSecond, ...lat(r.orders.latencyMs), r.baseline.perSecond, ...lat(r.baseline.latencyMs), r.ratio, verdict(r.ratio, 0.6), cpuPerOp(r)]);
    for (const step of Object.keys(r.orders.steps)) {
      rows.push([`   ${step}`, '', ...lat(r.orders.steps[step]), '', ...lat(r.baseline.steps[step] ?? summarize([])), '', '', '']);
    }
  }
  if (results.payments) {
    const r = results.payments;
    rows.push(['2. payment attempts (attempts/s)', r.orders.perSecond, ...lat(r.orders.latencyMs), r.baseline.perSecond, ...lat(r.baseline.latencyMs), r.ratio, '', cpuPerOp(r)]);
  }
  if (results.ipn) {
    const r = results.ipn;
    const proc = (p: IpnResult['processing']) => (p.capped ? `${fmt(p.perSecond)} (capped: ${p.processed}/${results.config.ipns} in ${fmt(p.seconds)} s)` : p.perSecond);
    rows.push([`3. IPN processing (${r.orders.ipns} IPNs, /s)`, proc(r.orders.processing), '', '', '', proc(r.baseline.processing), '', '', '', r.processingRatio, verdict(r.processingRatio, 0.6), '']);
    rows.push(['   IPN listener (POST /paypal/ipn)', r.orders.listener.perSecond, ...lat(r.orders.listener.latencyMs), r.baseline.listener.perSecond, ...lat(r.baseline.listener.latencyMs), r.listenerRatio, '', '']);
  }
  out.push(table(rows));
  if (results.ipn) {
    const r = results.ipn;
    const line = (name: string, x: IpnResult) =>
      `   ${name}: ${x.processing.processed}/${x.ipns} processed in ${x.processing.seconds} s${x.processing.capped ? ` — CAPPED (${x.processing.stoppedEarly ? `stopped after ${x.processing.seconds} s: the measured rate needs more than twice the ${results.config.ipnDrainCapSeconds} s cap` : `at the ${results.config.ipnDrainCapSeconds} s cap`}); at that rate all ${x.ipns} would take ≈${x.processing.projectedTotalSeconds} s (projection)` : ''}; outcomes ${JSON.stringify(x.processing.outcomes)}; listener non-200: ${x.listener.non200}`;
    out.push(`IPN detail:\n${line('Orders', r.orders)}\n${line('baseline', r.baseline)}`);
  }
  if (results.search) {
    const s = results.search;
    out.push(`\n4. Back-office search over ${s.seed.orders.toLocaleString('en-US')} orders (+${s.seed.attempts.toLocaleString('en-US')} attempts) — seeded in ${round(s.seed.seconds, 1)} s, vacuum analyze ${round(s.seed.analyzeSeconds, 1)} s`);
    if (s.pending) out.push(`   ${s.pending.toUpperCase()} — the Orders columns are empty; the raw columns measure the SQL the contract implies (tests/bench/lib/search-sql.ts) directly on a pg pool.`);
    const srows: (string | number)[][] = [['case (limit 100)', 'matches', 'raw first p50', 'p95', 'p99', 'raw deep p50', 'p95', 'p99', 'depth', 'Orders first p95', 'Orders deep p95', 'target p95 ≤ 25 ms']];
    for (const c of s.cases) {
      const o = 'pending' in c.orders ? undefined : (c.orders as SearchFigures);
      const worst = o ? Math.max(o.firstPage.p95, o.deepPage.p95) : NaN;
      srows.push([
        c.name,
        `${c.raw.total.exact ? '' : '~'}${c.raw.total.value}`,
        ...lat(c.raw.firstPage),
        ...lat(c.raw.deepPage),
        String(c.raw.deepPage.depthRows),
        o ? o.firstPage.p95 : 'pending',
        o ? o.deepPage.p95 : 'pending',
        o ? (worst <= 25 ? 'met' : 'MISSED') : `pending (raw SQL ${Math.max(c.raw.firstPage.p95, c.raw.deepPage.p95) <= 25 ? 'within' : 'OVER'} 25)`,
      ]);
    }
    out.push(table(srows));
    const e = s.export;
    out.push(`   CSV export (${JSON.stringify(e.filter)}): raw ${e.raw.rows.toLocaleString('en-US')} rows in ${e.raw.seconds} s = ${fmt(e.raw.rowsPerSecond)} rows/s; Orders: ${'pending' in e.orders ? e.orders.pending : `${e.orders.rows} rows, ${fmt(e.orders.rowsPerSecond)} rows/s`}`);
  }
  if (results.statements) {
    out.push('\n5. SQL statements per operation (pg_stat_statements, sequential operations; BEGIN/COMMIT included)');
    const srows: (string | number)[][] = [['operation', 'Orders', 'pg-boss', 'baseline', 'baseline queue']];
    const base = results.statements.baseline as StatementCount[];
    for (const o of results.statements.orders as StatementCount[]) {
      const b = base.find((x) => x.operation === o.operation);
      srows.push([o.operation, o.perOp, o.queuePerOp, b?.perOp ?? NaN, b?.queuePerOp ?? NaN]);
    }
    if (results.search) {
      const so = results.search.statements.orders;
      srows.push(['backoffice.orders.search', 'pending' in so ? 'pending' : so.perOp, '', results.search.statements.raw.perSearch, '']);
    }
    out.push(table(srows));
    const listed = [...(results.statements.orders as StatementCount[])];
    if (results.search && !('pending' in results.search.statements.orders)) listed.push(results.search.statements.orders);
    for (const o of listed) {
      out.push(`   Orders ${o.operation}:`);
      // Statements with one explanation (e.g. the search page for eight filter shapes) are summed.
      const grouped = new Map<string, { perOp: number; sql: string; queue: boolean }>();
      for (const s of o.statements) {
        const key = s.explanation === '(unclassified)' ? s.sql : s.explanation;
        const g = grouped.get(key) ?? { perOp: 0, sql: s.sql, queue: s.queue };
        g.perOp += s.calls / o.operations;
        grouped.set(key, g);
      }
      for (const [key, g] of [...grouped].sort((a, b) => Number(a[1].queue) - Number(b[1].queue) || b[1].perOp - a[1].perOp)) {
        out.push(`     ${fmt(g.perOp).padStart(5)} × ${g.queue ? '[queue] ' : ''}${key === g.sql ? `(unclassified) ${g.sql.slice(0, 100)}` : key}`);
      }
    }
  }
  const use = (c: ConnectionUse | undefined) =>
    c ? `app ${fmt(c.app.active)} active + ${fmt(c.app.idleInTransaction)} idle-in-tx${c.queue.active + c.queue.idleInTransaction + c.queue.idle > 0 ? `, pg-boss ${fmt(c.queue.active)} active + ${fmt(c.queue.idleInTransaction)} idle-in-tx` : ''}` : '—';
  const connectionLines: string[] = [];
  for (const phase of ['intake', 'payments'] as const) {
    const c = results[phase]?.connections;
    if (c) connectionLines.push(`   ${phase}: Orders ${use(c.orders)} | baseline ${use(c.baseline)}`);
  }
  if (results.ipn) {
    for (const part of ['posting', 'draining'] as const) {
      connectionLines.push(`   IPN ${part}: Orders ${use(results.ipn.orders.connections[part])} | baseline ${use(results.ipn.baseline.connections[part])}`);
    }
  }
  if (connectionLines.length) out.push(`\nServer connections in use (pg_stat_activity, average; pool max 10 app + 5 pg-boss for Orders, 10 for the baseline):\n${connectionLines.join('\n')}`);
  if (results.cpu) {
    out.push(`\nMachine CPU by phase (busy / bench / other processes, % of all cores): ${Object.entries(results.cpu.byPhase as Record<string, CpuShare>).map(([p, c]) => `${p} ${c.busy}/${c.bench}/${c.other}`).join(', ')}`);
    if (results.ipn) out.push(`   IPN sides: Orders ${JSON.stringify(results.ipn.orders.cpu)}, baseline ${JSON.stringify(results.ipn.baseline.cpu)}`);
  }
  if (results.rss) {
    const r = results.rss;
    out.push(`\n6. Peak RSS (MiB, own processes, VmHWM): Orders ${r.peak.orders}, baseline ${r.peak.baseline}; by phase ${Object.entries(r.byPhase as Record<string, Compared<number>>).map(([p, v]) => `${p} ${v.orders}/${v.baseline}`).join(', ')}`);
  }
  return out.join('\n');
}

process.on('uncaughtException', (error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
// `run.ts --report [file]` prints the table of an earlier run's results without running anything.
const reportIndex = process.argv.indexOf('--report');
if (reportIndex >= 0) console.log(report(JSON.parse(await readFile(process.argv[reportIndex + 1] ?? RESULTS_FILE, 'utf8'))));
else await main();
