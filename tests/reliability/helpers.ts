import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createOrdersClient, type OrdersClient } from '@orders/shared';
import { startPaypalSimulator, type IpnLogEntry, type PaypalSimulator, type PaypalSimulatorOptions } from '@orders/server/paypal/simulator/index.ts';
import { PaypalRestGateway } from '@orders/server/paypal/paypal-rest-gateway.ts';
import { SERVICE_KEY, externalPaypalEnv, pendingOrder } from '../support/paypal-server.ts';
import { sleep } from '../support/timing.ts';

/**
 * Shared pieces of the reliability suites: an external PayPal simulator (it outlives the servers and
 * the database under test), the environment that points a server at it, and the bookkeeping that
 * turns the simulator's IPN log and the payment_event table into one summary per test.
 */

export const CLIENT_ID = 'reliability-client';
export const CLIENT_SECRET = 'reliability-secret-0123456789';

/** PayPal resends an IPN until it gets a 200; these delays (≈60 s in all) outlast a restart. */
export const PATIENT_IPN_RETRIES_MS = [250, 500, 1_000, 2_000, 3_000, 4_000, 5_000, 5_000, 5_000, 5_000, 10_000, 10_000, 10_000];

/** The simulator of these suites (for `openTestBed({ paypal })`): patient IPN resends, a bounded wait per post. */
export function simulatorOptions(receiverEmail: string, options: { ipnRetryDelaysMs?: number[]; ipnAttemptTimeoutMs?: number } = {}): PaypalSimulatorOptions {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    receiverEmail,
    ipnRetryDelaysMs: options.ipnRetryDelaysMs ?? PATIENT_IPN_RETRIES_MS,
    ipnAttemptTimeoutMs: options.ipnAttemptTimeoutMs ?? 5_000,
  };
}

export async function startSimulator(receiverEmail: string, options: { ipnRetryDelaysMs?: number[]; ipnAttemptTimeoutMs?: number } = {}): Promise<PaypalSimulator> {
  return startPaypalSimulator(simulatorOptions(receiverEmail, options));
}

/** Environment for a server (in-process through loadConfig, or a child process) using `sim` as PayPal. */
export function serverEnv(sim: PaypalSimulator, databaseUrl: string, receiverEmail: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    ...externalPaypalEnv(sim, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, receiverEmail }),
    BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
    // The suites post hundreds of IPNs from one address on purpose.
    IPN_RATE_LIMIT: '0',
    ...extra,
  };
}

/** PayPal's REST API as seen from outside the server: lets a test complete a payment at "PayPal" directly. */
export function paypalFromOutside(sim: PaypalSimulator): PaypalRestGateway {
  return new PaypalRestGateway({ mode: 'sandbox', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, apiBase: sim.baseUrl, timeoutMs: 10_000 });
}

export function client(baseUrl: string): OrdersClient {
  return createOrdersClient({ url: `${baseUrl}/trpc`, apiKey: SERVICE_KEY, batch: false });
}

/** A pool for assertions; it survives PostgreSQL going away (an idle client's error must not crash the test). */
export function assertionPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => {});
  return pool;
}

export interface PayableOrder {
  customer: Awaited<ReturnType<typeof pendingOrder>>['customer'];
  orderId: string;
  attemptId: string;
  externalId: string;
  /** Where PayPal sends the buyer's browser after approval (set once approved). */
  redirectUrl?: string;
  payerId?: string;
}

/** `n` pending orders, each with a PayPal payment created, created `concurrency` at a time. */
export async function payableOrders(pick: (i: number) => OrdersClient, n: number, concurrency = 10): Promise<PayableOrder[]> {
  const out: PayableOrder[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const api = pick(i);
        const { customer, order } = await pendingOrder(api, { unitPrice: 1000 + i, quantity: 1 + (i % 3) });
        const attempt = await api.payments.attemptToPay.mutate({ customer, orderId: order.id, returnUrl: 'https://shop.example/thanks' });
        out[i] = { customer, orderId: order.id, attemptId: attempt.attemptId, externalId: attempt.externalId };
      }
    }),
  );
  return out;
}

export function approveAll(sim: PaypalSimulator, orders: PayableOrder[]): void {
  for (const order of orders) {
    const { redirectUrl } = sim.control.approve(order.externalId, 'approve');
    order.redirectUrl = redirectUrl;
    order.payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
  }
}

/** The return URL on another instance: same path and query, another origin. */
export function via(baseUrl: string, redirectUrl: string): string {
  const url = new URL(redirectUrl);
  return `${baseUrl}${url.pathname}${url.search}`;
}

export { sleep };

export async function waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(150);
  }
}

/**
 * Waits until every message PayPal got a 200 for is stored and nothing stored waits to be processed;
 * the ledger then. On time-out the error says how far it got.
 */
export async function ipnsSettled(pool: pg.Pool, posts: { answered200: number }, timeoutMs: number, what: string) {
  let ledger = await ipnLedger(pool);
  return waitUntil(
    async () => {
      ledger = await ipnLedger(pool);
      return ledger.stored >= posts.answered200 && ledger.waiting === 0 ? ledger : undefined;
    },
    timeoutMs,
    what,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: stored ${ledger.stored}, PayPal got 200 for ${posts.answered200}, waiting ${ledger.waiting}`);
  });
}

/** Every POST PayPal made, with its outcome: the other side of the "nothing lost" ledger. */
export function ipnPosts(log: IpnLogEntry[]) {
  const attempts = log.flatMap((entry) => entry.deliveries.flatMap((d) => d.attempts.map((a) => ({ body: entry.body, ...a }))));
  return {
    messages: log.length,
    copies: log.reduce((n, e) => n + e.deliveries.length, 0),
    posts: attempts.length,
    answered200: attempts.filter((a) => a.status === 200).length,
    refused: attempts.filter((a) => a.status !== undefined && a.status !== 200).length,
    connectionErrors: attempts.filter((a) => a.status === undefined).length,
    undelivered: log.flatMap((e) => e.deliveries).filter((d) => d.state !== 'delivered').length,
    okByBody: attempts.reduce((m, a) => m.set(a.body, (m.get(a.body) ?? 0) + (a.status === 200 ? 1 : 0)), new Map<string, number>()),
  };
}

export interface IpnLedger {
  stored: number;
  waiting: number;
  processed: number;
  duplicates: number;
  other: Record<string, number>;
  storedByBody: Map<string, number>;
}

export async function ipnLedger(pool: pg.Pool): Promise<IpnLedger> {
  const { rows } = await pool.query<{ body: Buffer; processing: string }>(`select raw_body as body, processing from payment_event where source = 'ipn'`);
  const count = (p: string) => rows.filter((r) => r.processing === p).length;
  const other: Record<string, number> = {};
  for (const r of rows) if (!['received', 'processed', 'duplicate'].includes(r.processing)) other[r.processing] = (other[r.processing] ?? 0) + 1;
  const storedByBody = new Map<string, number>();
  for (const r of rows) {
    const body = Buffer.from(r.body).toString('latin1');
    storedByBody.set(body, (storedByBody.get(body) ?? 0) + 1);
  }
  return { stored: rows.length, waiting: count('received'), processed: count('processed'), duplicates: count('duplicate'), other, storedByBody };
}

export interface OrderCheck {
  id: string;
  status: string;
  paid_entries: number;
  lines: number;
  cart_lines: number;
  succeeded: number;
  snapshot_total: number | null;
  total: number;
  sale_id: string | null;
  payment_transaction_id: string | null;
}

/** Per order: what "paid exactly once" means, read straight from the tables. */
export async function orderChecks(pool: pg.Pool, orderIds: string[]): Promise<OrderCheck[]> {
  const { rows } = await pool.query<OrderCheck>(
    `select o.id, o.status, o.total, o.payment_transaction_id,
            (select count(*) from audit_entry e where e.order_id = o.id and e.action = 'order.paid')::int as paid_entries,
            (select count(*) from order_line l where l.order_id = o.id)::int as lines,
            (select count(*) from cart_line c where c.cart_id = o.cart_id)::int as cart_lines,
            (select sum(line_total) from order_line l where l.order_id = o.id)::int as snapshot_total,
            (select count(*) from order_payment_attempt t where t.order_id = o.id and t.status = 'succeeded')::int as succeeded,
            (select t.sale_id from order_payment_attempt t where t.order_id = o.id and t.status = 'succeeded') as sale_id
       from "order" o where o.id = any($1::uuid[])`,
    [orderIds],
  );
  return rows;
}

/** Everything about an order that is not "paid exactly once, with one matching snapshot". */
export function discrepancies(checks: OrderCheck[], expected: number): string[] {
  const problems: string[] = [];
  if (checks.length !== expected) problems.push(`expected ${expected} orders, found ${checks.length}`);
  for (const c of checks) {
    const why: string[] = [];
    if (c.status !== 'paid') why.push(`status ${c.status}`);
    if (c.paid_entries !== 1) why.push(`${c.paid_entries} order.paid audit entries`);
    if (c.succeeded !== 1) why.push(`${c.succeeded} succeeded attempts`);
    if (c.lines !== c.cart_lines) why.push(`${c.lines} snapshot lines for ${c.cart_lines} cart lines`);
    if (c.snapshot_total !== c.total) why.push(`snapshot total ${c.snapshot_total} ≠ order total ${c.total}`);
    if (c.sale_id !== c.payment_transaction_id) why.push(`sale ${c.sale_id} ≠ payment_transaction_id ${c.payment_transaction_id}`);
    if (why.length) problems.push(`order ${c.id}: ${why.join(', ')}`);
  }
  return problems;
}

export function printSummary(title: string, summary: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(summary).map((k) => k.length));
  const lines = Object.entries(summary).map(([k, v]) => `  ${k.padEnd(width)}  ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  console.log(`\n── ${title} ──\n${lines.join('\n')}\n`);
}

export type GateMode = 'open' | '503' | 'reset' | 'hang';

export interface VerificationGate {
  /** Use as PAYPAL_IPN_VERIFY_URL. */
  url: string;
  /** What the next calls get; when the list runs out, `mode`. */
  script: GateMode[];
  /** Like `script`, for the messages whose body contains `match` only (checked first). */
  scriptFor: { match: string; modes: GateMode[] }[];
  mode: GateMode;
  /** Every verification request: when it came and what it got. */
  calls: { at: number; mode: GateMode; body: string }[];
  close(): Promise<void>;
}

/**
 * A stand-in for PayPal's postback endpoint in front of the simulator's: it can refuse (503), drop the
 * connection, or never answer, call by call, and it records when each verification came, so a test can
 * see the server's retries and their spacing.
 */
export async function startVerificationGate(target: string): Promise<VerificationGate> {
  const hung = new Set<http.ServerResponse>();
  const gate: VerificationGate = {
    url: '',
    script: [],
    scriptFor: [],
    mode: 'open',
    calls: [],
    close: async () => {
      for (const res of hung) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const text = body.toString('latin1');
    const mode = gate.scriptFor.find((s) => text.includes(s.match) && s.modes.length > 0)?.modes.shift() ?? gate.script.shift() ?? gate.mode;
    gate.calls.push({ at: Date.now(), mode, body: text });
    if (mode === '503') return void res.writeHead(503).end();
    if (mode === 'reset') return void req.socket.destroy();
    if (mode === 'hang') return void hung.add(res);
    const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/webscr`;
  return gate;
}

export interface IpnReplays {
  posted: number;
  /** Posts answered 200, in total and per body (for "every message stored" checks). */
  ok: number;
  okByBody: Map<string, number>;
  statuses: Map<number, number>;
  /** Posts that got no answer at all (an instance killed on purpose). */
  unanswered: number;
}

/**
 * Replays every IPN PayPal (the simulator) logs to other addresses as well, while a burst runs: the
 * duplicates a PayPal resend or a misrouted copy would make. `targets` names the base URLs each logged
 * entry is posted to. Call `stop()` once the burst is over: it replays what is still new, then returns.
 */
export function replayIpnLog(
  sim: PaypalSimulator,
  targets: (entry: IpnLogEntry) => string[],
  options: { timeoutMs?: number; pollMs?: number; unansweredIsExpected?: boolean } = {},
): { replays: IpnReplays; stop(): Promise<IpnReplays> } {
  const replays: IpnReplays = { posted: 0, ok: 0, okByBody: new Map(), statuses: new Map(), unanswered: 0 };
  let over = false;
  const post = async (baseUrl: string, body: string) => {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/paypal/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      if (!options.unansweredIsExpected) throw error;
      replays.unanswered++;
      return;
    }
    await response.arrayBuffer();
    replays.posted++;
    replays.statuses.set(response.status, (replays.statuses.get(response.status) ?? 0) + 1);
    if (response.status === 200) {
      replays.ok++;
      replays.okByBody.set(body, (replays.okByBody.get(body) ?? 0) + 1);
    }
  };
  const loop = (async () => {
    let seen = 0;
    for (;;) {
      const log = sim.control.ipnLog();
      const fresh = log.slice(seen);
      seen = log.length;
      await Promise.all(fresh.flatMap((entry) => targets(entry).map((baseUrl) => post(baseUrl, entry.body))));
      if (over && seen === sim.control.ipnLog().length) return;
      await sleep(options.pollMs ?? 20);
    }
  })();
  return {
    replays,
    async stop() {
      over = true;
      await loop;
      return replays;
    },
  };
}
