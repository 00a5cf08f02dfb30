import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Discrepancy } from '@orders/shared';
import type { SimSale } from '@orders/server/paypal/simulator/index.ts';
import { PaymentProviderError } from '@orders/server/paypal/gateway.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, executeUnrecorded, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * Money exactly once, as a property: for one order, a random interleaving of what buyers, PayPal and
 * staff do — the buyer's return (once or reloaded), PayPal's IPNs and webhooks (duplicated, held,
 * released out of order), a second attempt while the first link still works at PayPal, an execution
 * whose answer we never got, staff re-syncs and partial or full refunds, chargebacks and cancelled
 * chargebacks at PayPal. When everything has settled, the SIMULATOR's own ledger (its sales, their
 * states and its refunds) is the truth, and ours must agree with it:
 *
 *  - money kept at PayPal for the order (captured − refunded − reversed, over all its sales) is what
 *    the order says it kept: total − refundedAmount when paid, 0 otherwise (or an open reconciliation
 *    item for the order says why not);
 *  - exactly one sale pays the order; every other captured sale is given back whole at PayPal (or
 *    listed in reconciliation);
 *  - our money_movement ledger has each captured sale once with its amount, each PayPal refund once
 *    with its amount, and per sale the same money returned as PayPal; nothing parked, nothing
 *    `received`.
 *
 * Bounded: NUM_RUNS orders (default 20), each a sequence of at most 12 steps. FC_SEED / FC_PATH replay
 * a run; FC_SHRINK=1 shrinks a failure (slow: every shrink step is a real run).
 */

const NUM_RUNS = Number(process.env.FC_RUNS ?? 20);
const WEBHOOK_ID = 'ORDERSPROPWEBHOOK0000001';
const TOTAL = 2500;

type Cmd =
  | { k: 'attempt' }
  | { k: 'approve'; a: number }
  | { k: 'return'; a: number; times: number }
  | { k: 'unrecorded'; a: number }
  | { k: 'ipnMode'; duplicates: number; outOfOrder: boolean; paused: boolean }
  | { k: 'webhookMode'; duplicates: number; outOfOrder: boolean; paused: boolean }
  | { k: 'flush' }
  | { k: 'resync'; a: number }
  | { k: 'refund'; amount: number | null }
  | { k: 'reverse'; s: number }
  | { k: 'cancelReversal'; s: number };

const mode = { duplicates: fc.nat(2), outOfOrder: fc.boolean(), paused: fc.boolean() };
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Cmd>({ k: 'attempt' }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('approve' as const), a: fc.nat(2) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('return' as const), a: fc.nat(2), times: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('unrecorded' as const), a: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ipnMode' as const), ...mode }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('webhookMode' as const), ...mode }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ k: 'flush' }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('resync' as const), a: fc.nat(2) }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('refund' as const), amount: fc.oneof(fc.constant(null), fc.constant(TOTAL / 2), fc.integer({ min: 1, max: TOTAL })) }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('reverse' as const), s: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cancelReversal' as const), s: fc.nat(2) }) },
);

/**
 * One order's story: one or two attempts (the second supersedes the first while its approval link
 * still works at PayPal), which of them the buyer approved, how PayPal delivers IPNs and webhooks
 * to begin with, then the interleaving.
 */
const scenario = fc.record({
  secondAttempt: fc.boolean(),
  // Mostly both: two approved links are how a buyer gets charged twice.
  approve: fc.oneof(
    { weight: 4, arbitrary: fc.constant('both' as const) },
    { weight: 1, arbitrary: fc.constantFrom('first' as const, 'second' as const, 'none' as const) },
  ),
  ipn: fc.record(mode),
  webhook: fc.record(mode),
  cmds: fc.array(cmd, { minLength: 2, maxLength: 10 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** What the runs reached, printed at the end: a property that never captures twice proves little. */
const reached: Record<string, number> = {};

let env: BackofficeTestEnv;
let operator: StaffSession;

beforeAll(async () => {
  env = await startBackofficeEnv({ PAYPAL_WEBHOOK_ID: WEBHOOK_ID });
  operator = await env.staff('operator');
}, 60_000);
afterAll(async () => {
  console.log(`exactly-once property reached: ${JSON.stringify(reached)}`);
  await env?.close();
});

/** A refusal the API may give (the order is not paid, too much, PayPal said no); never a 500. */
async function tolerated(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    const code = (error as { data?: { code?: string } }).data?.code;
    if (!code || code === 'INTERNAL_SERVER_ERROR') throw error;
    return false;
  }
}

interface Attempt {
  attemptId: string;
  externalId: string;
  redirectUrl?: string;
}

interface Run {
  orderId: string;
  customer: Awaited<ReturnType<typeof pendingOrder>>['customer'];
  attempts: Attempt[];
}

function salesOf(run: Run): SimSale[] {
  const payments = new Set(run.attempts.map((a) => a.externalId));
  return env.sim.control
    .getState()
    .sales.filter((s) => payments.has(s.paymentId))
    .sort((a, b) => a.createTime.localeCompare(b.createTime) || a.id.localeCompare(b.id));
}

async function step(run: Run, c: Cmd): Promise<void> {
  const did = (what: string) => void (reached[what] = (reached[what] ?? 0) + 1);
  const control = env.sim.control;
  const attempt = (a: number) => run.attempts[a % run.attempts.length]!;
  switch (c.k) {
    case 'attempt': {
      try {
        const made = await env.client.payments.attemptToPay.mutate({ customer: run.customer, orderId: run.orderId });
        run.attempts.push({ attemptId: made.attemptId, externalId: made.externalId });
      } catch (error) {
        await tolerated(Promise.reject(error));
      }
      return;
    }
    case 'approve': {
      const a = attempt(c.a);
      if (a.redirectUrl) return;
      try {
        a.redirectUrl = control.approve(a.externalId, 'approve').redirectUrl;
      } catch {
        // Already decided or executed at PayPal.
      }
      return;
    }
    case 'return': {
      const a = attempt(c.a);
      if (!a.redirectUrl) return;
      const url = a.redirectUrl;
      did(c.times > 1 ? 'return (reloaded)' : 'return');
      const statuses = await Promise.all(Array.from({ length: c.times }, () => fetch(url, { redirect: 'manual' }).then(async (r) => (await r.arrayBuffer(), r.status))));
      for (const status of statuses) expect(status, `return page of attempt ${a.attemptId}`).toBeLessThan(500);
      return;
    }
    case 'unrecorded': {
      const a = attempt(c.a);
      if (!a.redirectUrl) return;
      try {
        await executeUnrecorded(env, a.redirectUrl);
        did('unrecorded execution');
      } catch (error) {
        if (!(error instanceof PaymentProviderError)) throw error;
      }
      return;
    }
    case 'ipnMode':
      control.setIpnMode({ duplicates: c.duplicates, outOfOrder: c.outOfOrder, paused: c.paused });
      return;
    case 'webhookMode':
      control.setWebhookMode({ duplicates: c.duplicates, outOfOrder: c.outOfOrder, paused: c.paused });
      return;
    case 'flush':
      control.flushIpns();
      control.flushWebhooks();
      return;
    case 'resync':
      if (await tolerated(operator.client.backoffice.payments.resync.mutate({ attemptId: attempt(c.a).attemptId, reason: 'property: re-sync' }))) did('re-sync');
      return;
    case 'refund':
      if (
        await tolerated(
          env.admin.client.backoffice.payments.refund.mutate({ orderId: run.orderId, reason: 'property: refund', ...(c.amount === null ? {} : { amount: c.amount }) }),
        )
      ) {
        did(c.amount === null ? 'staff refund (rest)' : 'staff refund (amount)');
      }
      return;
    case 'reverse': {
      const sales = salesOf(run).filter((s) => s.state === 'completed' || s.state === 'partially_refunded');
      if (sales.length > 0) {
        control.reverseSale(sales[c.s % sales.length]!.id);
        did('reversal');
      }
      return;
    }
    case 'cancelReversal': {
      const sales = salesOf(run).filter((s) => s.state === 'reversed');
      if (sales.length > 0) {
        control.cancelReversal(sales[c.s % sales.length]!.id);
        did('cancelled reversal');
      }
      return;
    }
  }
}

async function receivedLeft(): Promise<number> {
  const { rows } = await env.pool.query(`select count(*)::int as n from payment_event where processing = 'received'`);
  return rows[0].n;
}

/** Releases everything held (in the order the mode says), waits for delivery and processing, runs the refund sweep until nothing is left to do. */
async function settle(run: Run): Promise<void> {
  const control = env.sim.control;
  for (let round = 0; round < 6; round++) {
    control.flushIpns();
    control.flushWebhooks();
    control.setIpnMode({ duplicates: 0, outOfOrder: false, paused: false });
    control.setWebhookMode({ duplicates: 0, outOfOrder: false, paused: false });
    await Promise.all([control.settleIpns(), control.settleWebhooks()]);
    await waitFor(async () => (await receivedLeft()) === 0, 45_000, 'every notification to be processed');
    const { rows } = await env.pool.query(`select count(*)::int as n from order_refund where order_id = $1 and status = 'requested'`, [run.orderId]);
    if (rows[0].n === 0) return;
    await env.server.services.refunds.resumeInterrupted({ olderThanMs: 0, giveUpAfterMs: 0 });
  }
  throw new Error('refunds still requested after six sweeps');
}

async function reconciliationFor(orderId: string): Promise<Discrepancy[]> {
  const items: Discrepancy[] = [];
  let cursor: string | undefined;
  do {
    const page = await operator.client.backoffice.reconciliation.list.query({ limit: 200, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items.filter((d) => d.orderId === orderId);
}

const PAID = ['paid', 'partially_refunded', 'refunded'];
const capturedAt = (s: SimSale) => (s.state === 'pending' || s.state === 'denied' ? 0 : s.amount);
const returnedAt = (s: SimSale) => s.refunded + (s.state === 'reversed' ? s.amount - s.refunded : 0);

/** The invariant, against the simulator's ledger; returns a description of every disagreement. */
async function disagreements(run: Run): Promise<string[]> {
  const problems: string[] = [];
  const state = env.sim.control.getState();
  const sales = salesOf(run);
  const saleIds = new Set(sales.map((s) => s.id));
  const refunds = state.refunds.filter((r) => saleIds.has(r.saleId));
  const { rows: orders } = await env.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [run.orderId]);
  const order = orders[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string | null };
  const { rows: ledger } = await env.pool.query(
    `select sale_id, kind, amount, state, provider_txn_id from money_movement where order_id = $1 or sale_id = any($2::text[])`,
    [run.orderId, [...saleIds]],
  );
  const items = await reconciliationFor(run.orderId);
  const listed = (attemptId?: string) => items.some((d) => attemptId === undefined || d.attemptId === attemptId);
  const attemptOf = (paymentId: string) => run.attempts.find((a) => a.externalId === paymentId)?.attemptId;

  // Nothing waiting.
  const parked = ledger.filter((m) => m.state === 'parked');
  if (parked.length > 0) problems.push(`parked movements left: ${JSON.stringify(parked)}`);

  // Our ledger agrees with PayPal's, sale by sale.
  for (const s of sales) {
    const rowsOf = ledger.filter((m) => m.sale_id === s.id && m.state === 'applied');
    const captures = rowsOf.filter((m) => m.kind === 'capture');
    const want = capturedAt(s);
    const got = captures.reduce((n, m) => n + m.amount, 0);
    if (got !== want || captures.length > 1) problems.push(`sale ${s.id} (${s.state}): PayPal captured ${want}, our ledger ${got} in ${captures.length} row(s)`);
    const sum = (kind: string) => rowsOf.filter((m) => m.kind === kind).reduce((n, m) => n + m.amount, 0);
    const ours = sum('refund') + sum('reversal') - sum('reversal_canceled');
    if (ours !== returnedAt(s)) problems.push(`sale ${s.id} (${s.state}): PayPal returned ${returnedAt(s)}, our ledger ${ours}`);
    for (const r of refunds.filter((x) => x.saleId === s.id)) {
      const row = rowsOf.find((m) => m.provider_txn_id === r.id);
      if (!row || row.kind !== 'refund' || row.amount !== r.amount) problems.push(`PayPal refund ${r.id} of ${r.amount} on ${s.id}: our ledger has ${JSON.stringify(row ?? null)}`);
    }
  }
  for (const m of ledger) if (!saleIds.has(m.sale_id)) problems.push(`ledger row for a sale PayPal does not have: ${JSON.stringify(m)}`);

  // Each sale's sums (sale_ledger, kept by a trigger for reconciliation) are its applied movements' sums.
  const ledgerSales = [...new Set(ledger.map((m) => m.sale_id as string))];
  const { rows: sums } = await env.pool.query<{ sale_id: string; captured: string; refunded: string; reversed: string; canceled: string }>(
    `select sale_id, captured, refunded, reversed, canceled from sale_ledger where sale_id = any($1::text[])`,
    [ledgerSales],
  );
  for (const saleId of ledgerSales) {
    const applied = ledger.filter((m) => m.sale_id === saleId && m.state === 'applied');
    const want = ['capture', 'refund', 'reversal', 'reversal_canceled'].map((kind) => applied.filter((m) => m.kind === kind).reduce((n, m) => n + m.amount, 0));
    const row = sums.find((r) => r.sale_id === saleId);
    const got = row ? [row.captured, row.refunded, row.reversed, row.canceled].map(Number) : [0, 0, 0, 0];
    if (want.join() !== got.join()) problems.push(`sale_ledger of ${saleId} says ${got.join('/')}, its movements add up to ${want.join('/')}`);
  }

  // What the order says it kept is what PayPal kept; one sale pays it, the others went back (or are listed).
  const kept = sales.reduce((n, s) => n + capturedAt(s) - returnedAt(s), 0);
  if (PAID.includes(order.status)) {
    const paying = sales.find((s) => s.id === order.payment_transaction_id);
    if (!paying) problems.push(`order ${order.status} by sale ${order.payment_transaction_id}, which PayPal does not have for it`);
    else {
      const keptOnIt = capturedAt(paying) - returnedAt(paying);
      if (keptOnIt !== order.total - order.refunded_amount) {
        problems.push(`order ${order.status}, ${order.refunded_amount} of ${order.total} refunded; PayPal keeps ${keptOnIt} on its sale ${paying.id} (${paying.state})`);
      }
    }
    for (const s of sales) {
      if (s.id === order.payment_transaction_id) continue;
      const left = capturedAt(s) - returnedAt(s);
      if (left !== 0 && !listed(attemptOf(s.paymentId))) problems.push(`second sale ${s.id} keeps ${left} at PayPal and is not listed in reconciliation`);
    }
  } else if (kept !== 0 && !listed()) {
    problems.push(`order ${order.status}, but PayPal keeps ${kept} and reconciliation lists nothing for it`);
  }

  // Nothing flagged that reconciliation does not show.
  const { rows: flagged } = await env.pool.query(
    `select id, flag_kind from payment_event where order_id = $1 and processing = 'flagged' and flag_kind not in ('double_payment', 'paid_after_cancel')`,
    [run.orderId],
  );
  const ids = new Set(items.map((d) => d.id));
  for (const f of flagged) if (!ids.has(`${f.flag_kind}:${f.id}`)) problems.push(`flagged ${f.flag_kind}:${f.id} not listed`);
  return problems;
}

function coverage(run: Run): void {
  const sales = salesOf(run);
  const note = (what: string, yes: boolean) => void (yes && (reached[what] = (reached[what] ?? 0) + 1));
  note('runs', true);
  note('paid at PayPal', sales.length > 0);
  note('two sales', sales.length > 1);
  note('refunded at PayPal', sales.some((s) => s.refunded > 0));
  note('reversed at PayPal', sales.some((s) => s.state === 'reversed'));
  note('two attempts', run.attempts.length > 1);
}

async function runScenario(sc: Scenario): Promise<void> {
  const { cmds } = sc;
  const { customer, order } = await pendingOrder(env.client);
  expect(order.total).toBe(TOTAL);
  const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const run: Run = { orderId: order.id, customer, attempts: [{ attemptId: first.attemptId, externalId: first.externalId }] };
  try {
    if (sc.approve === 'first' || sc.approve === 'both') await step(run, { k: 'approve', a: 0 });
    if (sc.secondAttempt) await step(run, { k: 'attempt' });
    if (sc.approve === 'second' || sc.approve === 'both') await step(run, { k: 'approve', a: run.attempts.length - 1 });
    await step(run, { k: 'ipnMode', ...sc.ipn });
    await step(run, { k: 'webhookMode', ...sc.webhook });
    for (const c of cmds) await step(run, c);
  } finally {
    await settle(run);
  }
  const problems = await disagreements(run);
  coverage(run);
  if (problems.length > 0) {
    const sales = salesOf(run).map((s) => ({ id: s.id, state: s.state, amount: s.amount, refunded: s.refunded }));
    const { rows } = await env.pool.query(
      `select source, provider_status, txn_id, parent_txn_id, processing, flag_kind, outcome from payment_event where order_id = $1 or txn_id = any($2::text[]) or parent_txn_id = any($2::text[]) order by created_at`,
      [run.orderId, sales.map((s) => s.id)],
    );
    throw new Error(`${problems.join('\n')}\nscenario: ${JSON.stringify(sc)}\nPayPal sales: ${JSON.stringify(sales)}\nevents:\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
  }
}

describe('money exactly once, against the simulator ledger', () => {
  it('holds after any interleaving of return, IPNs, webhooks, staff actions, chargebacks and old links', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (sc) => runScenario(sc)),
      {
        numRuns: NUM_RUNS,
        endOnFailure: process.env.FC_SHRINK !== '1',
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
        ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
      },
    );
  }, 300_000);
});

/*
 * Minimal counterexamples the property found, as plain tests.
 */
describe('regressions found by the property', () => {
  it('three concurrent loads of the return page (a reload while PayPal executes) never answer 500', async () => {
    // Was: the reload inserted its payment_event (KEY SHARE on order and attempt through the foreign
    // keys) before queueing for the order lock; the executing return, holding that lock, then had to
    // upgrade to FOR UPDATE to write the unique sale ids: "deadlock detected", a 500 for the buyer.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { customer, order } = await pendingOrder(env.client);
      const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      const url = env.sim.control.approve(attempt.externalId, 'approve').redirectUrl;
      statuses.push(...(await Promise.all([1, 2, 3].map(() => fetch(url, { redirect: 'manual' }).then(async (r) => (await r.arrayBuffer(), r.status))))));
      const { rows } = await env.pool.query('select status from "order" where id = $1', [order.id]);
      expect(rows[0].status).toBe('paid');
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });

  it('a chargeback and its cancellation announced back to back, in order, leave the order paid', async () => {
    // PayPal: sale 25.00, Reversed −25.00, Canceled_Reversal +25.00 — the merchant keeps 25.00. Both
    // IPNs arrive in order, but their jobs run concurrently; when the cancellation is processed first
    // it is rejected (no_open_reversal) for good and the reversal then applies: the order ends
    // `refunded` 25.00 while PayPal keeps the whole sale. (Seen in 2 to 5 of every 8 orders.) IPN only,
    // as without webhooks (PayPal has no webhook for a cancelled reversal).
    const ipnOnly = await startBackofficeEnv();
    try {
      const results: string[] = [];
      const idle = () =>
        waitFor(async () => (await ipnOnly.pool.query(`select count(*)::int as n from payment_event where processing = 'received'`)).rows[0].n === 0, 45_000, 'IPNs processed');
      for (let i = 0; i < 8; i++) {
        const { customer, order } = await pendingOrder(ipnOnly.client);
        const attempt = await ipnOnly.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
        await buyerChooses(ipnOnly, attempt.externalId, 'approve');
        await ipnOnly.sim.control.settleIpns();
        await idle();
        const sale = ipnOnly.sim.control.getState().sales.find((s) => s.paymentId === attempt.externalId)!;
        ipnOnly.sim.control.reverseSale(sale.id);
        ipnOnly.sim.control.cancelReversal(sale.id);
        await ipnOnly.sim.control.settleIpns();
        await idle();
        const { rows } = await ipnOnly.pool.query('select status, refunded_amount from "order" where id = $1', [order.id]);
        results.push(`${rows[0].status}/${rows[0].refunded_amount}`);
      }
      expect(results).toEqual(Array(8).fill('paid/0'));
    } finally {
      await ipnOnly.close();
    }
  }, 120_000);
});
