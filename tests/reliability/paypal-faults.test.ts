import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { TRPCClientError } from '@trpc/client';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { SIMULATOR_RECEIVER_EMAIL } from '@orders/server/paypal/setup.ts';
import { pendingOrder } from '../support/paypal-server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { approveAll, client, discrepancies, ipnLedger, orderChecks, payableOrders, paypalFromOutside, printSummary, serverEnv, simulatorOptions, sleep } from './helpers.ts';
import { startVerificationGate, waitUntil, type VerificationGate } from './helpers.ts';

/*
 * PayPal slow or failing. With PAYPAL_TIMEOUT_MS small, a PayPal call that hangs or crawls costs the
 * caller a bounded wait and a clear retryable error, while the rest of the API keeps answering at once.
 * IPN verification that fails (refused, dropped, never answered) is retried by the job queue with
 * growing delays. Nothing becomes paid unless PayPal really captured the money, and whatever PayPal
 * did capture ends up paid exactly once.
 */

const RECEIVER = 'faults@orders.example';
const TIMEOUT_MS = 1_500;
/** A call bounded by PAYPAL_TIMEOUT_MS, plus the server's own work and a token fetch. */
const BOUND_MS = TIMEOUT_MS * 2 + 1_500;
let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let gate: VerificationGate;
let pool: pg.Pool;
let server: RunningServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  bed = await openTestBed({ paypal: simulatorOptions(RECEIVER) });
  ({ sim, pool } = bed);
  gate = await startVerificationGate(sim.ipnVerifyUrl);
  bed.onClose(() => gate.close());
  server = await bed.startServer(serverEnv(sim, bed.db.url, RECEIVER, { PAYPAL_IPN_VERIFY_URL: gate.url, PAYPAL_TIMEOUT_MS: String(TIMEOUT_MS) }));
  api = client(server.url);
});
afterAll(async () => {
  await bed?.close();
});

async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; code?: string; message?: string; status?: number }> {
  const t0 = Date.now();
  try {
    return { ms: Date.now() - t0, value: await call() };
  } catch (error) {
    const data = error instanceof TRPCClientError ? error.data : undefined;
    return { ms: Date.now() - t0, code: data?.code ?? (error as Error).name, status: data?.httpStatus, message: (error as Error).message };
  }
}

/** While `busy` runs, sample the API every 50 ms: healthz and orders.get must answer fast throughout. */
async function responsiveWhile<T>(busy: Promise<T>, probe: { customer: Parameters<typeof api.orders.get.query>[0]['customer']; orderId: string }) {
  const samples: number[] = [];
  let done = false;
  const finished = busy.finally(() => (done = true));
  while (!done) {
    const t0 = Date.now();
    const [health, order] = await Promise.all([
      fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) }),
      api.orders.get.query(probe, { signal: AbortSignal.timeout(5_000) }),
    ]);
    expect(health.status).toBe(200);
    expect(order.id).toBe(probe.orderId);
    samples.push(Date.now() - t0);
    await sleep(50);
  }
  samples.sort((x, y) => x - y);
  return { result: await finished, samples: samples.length, p50: samples[Math.floor(samples.length / 2)] ?? 0, max: samples.at(-1) ?? 0 };
}

/** Follows a return URL the way the buyer's browser would: the shop's page must say the order is paid. */
async function paidRedirect(returnUrl: string): Promise<boolean> {
  const response = await fetch(returnUrl, { redirect: 'manual' });
  await response.arrayBuffer();
  return response.status === 303 && new URL(response.headers.get('location')!).searchParams.get('status') === 'paid';
}

const summary: Record<string, unknown> = {};
afterAll(async () => {
  if (!pool) return;
  const ledger = await ipnLedger(pool).catch(() => undefined);
  if (ledger) {
    summary['IPN rows stored'] = ledger.stored;
    summary['processed (acted on)'] = ledger.processed;
    summary['duplicates absorbed'] = ledger.duplicates;
    summary['other outcomes'] = ledger.other;
    summary['still waiting'] = ledger.waiting;
  }
  summary['verification calls (by answer)'] = gate.calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c.mode]: (m[c.mode] ?? 0) + 1 }), {});
  printSummary('PayPal slow or failing', summary);
});

describe('PayPal slow or failing', () => {
  it('slow PayPal on create (latency ≫ timeout): bounded, retryable errors while the API stays responsive; nothing paid; a retry pays once', async () => {
    const probe = await pendingOrder(api);
    const orders = await Promise.all(Array.from({ length: 6 }, () => pendingOrder(api)));
    sim.control.setLatency(TIMEOUT_MS * 3);
    let calls;
    try {
      calls = await responsiveWhile(
        Promise.all(orders.map(({ customer, order }) => timed(() => api.payments.attemptToPay.mutate({ customer, orderId: order.id })))),
        { customer: probe.customer, orderId: probe.order.id },
      );
    } finally {
      sim.control.setLatency(0);
    }
    summary['slow create: calls'] = calls.result.map((c) => `${c.code} in ${c.ms} ms`);
    summary['slow create: API while waiting (samples, p50, max ms)'] = [calls.samples, calls.p50, calls.max];
    for (const call of calls.result) {
      expect(call).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(call.message).toContain('TIMEOUT');
      expect(call.ms).toBeLessThan(BOUND_MS);
    }
    expect(calls.samples).toBeGreaterThan(3);
    expect(calls.max).toBeLessThan(1_000);
    const attempts = await pool.query(`select status from order_payment_attempt where order_id = any($1::uuid[])`, [orders.map((o) => o.order.id)]);
    expect(attempts.rows.map((r) => r.status)).toEqual(orders.map(() => 'failed'));

    // PayPal did create those payments, late; they were never approved, so nothing is paid. A retry works.
    await sleep(TIMEOUT_MS * 2);
    const checks = await orderChecks(pool, orders.map((o) => o.order.id));
    expect(checks.map((c) => c.status)).toEqual(orders.map(() => 'pending'));
    const { customer, order } = orders[0]!;
    const retry = await api.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = sim.control.approve(retry.externalId, 'approve');
    expect(await (await fetch(redirectUrl)).text()).toContain('Payment received');
    expect(discrepancies(await orderChecks(pool, [order.id]), 1)).toEqual([]);
  });

  it('PayPal failing on create (5xx, dropped connection, hang): each a bounded retryable error, the attempt failed, the order pending', async () => {
    const results: Record<string, string> = {};
    for (const mode of ['status', 'reset', 'hang'] as const) {
      const { customer, order } = await pendingOrder(api);
      sim.control.failNext({ count: 1, path: '/v1/payments/payment', mode, status: 503 });
      const call = await timed(() => api.payments.attemptToPay.mutate({ customer, orderId: order.id }));
      results[mode] = `${call.code} ${call.status} in ${call.ms} ms`;
      expect(call).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(call.ms).toBeLessThan(BOUND_MS);
      const { rows } = await pool.query('select status from order_payment_attempt where order_id = $1', [order.id]);
      expect(rows.map((r) => r.status)).toEqual(['failed']);
      expect((await orderChecks(pool, [order.id]))[0]!.status).toBe('pending');
    }
    summary['failing create'] = results;
  });

  it('execute that never happened (hang, dropped connection, 5xx at PayPal): bounded 502 page, order stays pending, no IPN; a reload pays once', async () => {
    const orders = await payableOrders(() => api, 3);
    approveAll(sim, orders);
    const results: Record<string, string> = {};
    const modes = ['hang', 'reset', 'status'] as const;
    const ipnsBefore = sim.control.ipnLog().length;
    for (const [i, mode] of modes.entries()) {
      const order = orders[i]!;
      sim.control.failNext({ count: 1, path: `/v1/payments/payment/${order.externalId}/execute`, mode, status: 500 });
      const t0 = Date.now();
      const response = await fetch(order.redirectUrl!, { redirect: 'manual', signal: AbortSignal.timeout(BOUND_MS * 2) });
      const page = await response.text();
      results[mode] = `HTTP ${response.status} in ${Date.now() - t0} ms`;
      expect(response.status).toBe(502);
      expect(page).toContain('reload');
      expect(Date.now() - t0).toBeLessThan(BOUND_MS);
    }
    // PayPal never executed any of them: no sale, no IPN, nothing paid — even after waiting.
    await sleep(1_000);
    const state = sim.control.getState();
    for (const order of orders) expect(state.payments.find((p) => p.id === order.externalId)?.state).toBe('created');
    expect(sim.control.ipnLog().length).toBe(ipnsBefore);
    expect((await orderChecks(pool, orders.map((o) => o.orderId))).map((c) => c.status)).toEqual(['pending', 'pending', 'pending']);
    // The buyer reloads: now PayPal answers, and each order is paid exactly once.
    for (const order of orders) expect(await paidRedirect(order.redirectUrl!)).toBe(true);
    await sim.control.settleIpns();
    await waitUntil(async () => (await ipnLedger(pool)).waiting === 0, 20_000, 'the IPNs of the reloads');
    expect(discrepancies(await orderChecks(pool, orders.map((o) => o.orderId)), 3)).toEqual([]);
    summary['execute that never happened'] = results;
  });

  it('execute slower than the timeout: the buyer sees a bounded 502, the order stays pending until PayPal confirms (IPN), then paid once', async () => {
    const [order] = await payableOrders(() => api, 1);
    approveAll(sim, [order!]);
    sim.control.setLatency(TIMEOUT_MS * 2);
    const t0 = Date.now();
    let response: Response;
    try {
      response = await fetch(order!.redirectUrl!, { redirect: 'manual' });
    } finally {
      sim.control.setLatency(0);
    }
    const ms = Date.now() - t0;
    expect(response.status).toBe(502);
    expect(ms).toBeLessThan(BOUND_MS);
    // Timed out on our side, but PayPal is still executing: not paid yet…
    expect((await orderChecks(pool, [order!.orderId]))[0]!.status).toBe('pending');
    // …until PayPal's IPN confirms the sale.
    await waitUntil(async () => (await orderChecks(pool, [order!.orderId]))[0]!.status === 'paid', 20_000, 'the IPN to pay the order');
    expect(await paidRedirect(order!.redirectUrl!)).toBe(true);
    expect(discrepancies(await orderChecks(pool, [order!.orderId]), 1)).toEqual([]);
    summary['slow execute'] = `HTTP ${response.status} in ${ms} ms, then paid by IPN`;
  });

  it('IPN verification refused, dropped and hung: retried with growing delays, nothing paid meanwhile, then paid once; a forged IPN never pays', { timeout: 120_000 }, async () => {
    const [order, forgedFor] = await payableOrders(() => api, 2);
    approveAll(sim, [order!, forgedFor!]);
    const callsBefore = gate.calls.length;
    gate.scriptFor.push({ match: `invoice=${order!.attemptId}`, modes: ['reset', '503', 'hang', '503'] });
    const startedAt = Date.now();
    // PayPal completes the sale on its side; only the IPN can tell us.
    await paypalFromOutside(sim).executePayment({ requestId: `outside-${order!.attemptId}`, paymentId: order!.externalId, payerId: order!.payerId! });
    // And someone posts a forged "Completed" for the other order while verification is failing.
    const forged = new URLSearchParams({
      txn_id: 'FORGEDFAULTS00001',
      payment_status: 'Completed',
      mc_gross: '10.00',
      mc_currency: 'USD',
      invoice: forgedFor!.attemptId,
      custom: forgedFor!.orderId,
      receiver_email: RECEIVER,
      business: SIMULATOR_RECEIVER_EMAIL,
    }).toString();
    expect((await fetch(`${server.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forged })).status).toBe(200);

    const genuine = () => gate.calls.slice(callsBefore).filter((c) => c.body.includes(`invoice=${order!.attemptId}`));
    await waitUntil(async () => genuine().length >= 3, 30_000, 'three failed verification attempts');
    expect((await orderChecks(pool, [order!.orderId, forgedFor!.orderId])).map((c) => c.status)).toEqual(['pending', 'pending']);
    await waitUntil(async () => (await orderChecks(pool, [order!.orderId]))[0]!.status === 'paid', 60_000, 'the IPN to be verified and applied');
    const paidAfterMs = Date.now() - startedAt;
    await waitUntil(async () => (await ipnLedger(pool)).waiting === 0, 30_000, 'every IPN to be processed');

    const attempts = genuine();
    const gaps = attempts.slice(1).map((c, i) => c.at - attempts[i]!.at);
    const { rows: events } = await pool.query(
      `select txn_id, verification, processing, attempts from payment_event where source = 'ipn' and (txn_id = $1 or txn_id = 'FORGEDFAULTS00001') order by created_at`,
      [(await orderChecks(pool, [order!.orderId]))[0]!.payment_transaction_id],
    );
    const { rows: jobs } = await pool.query(`select max(retry_count)::int as retries from pgboss.job where name = 'ipn-process'`);
    summary['verification faults: answers seen'] = attempts.map((c) => c.mode);
    summary['verification faults: gaps between tries ms'] = gaps;
    summary['verification faults: paid after ms'] = paidAfterMs;
    summary['verification faults: job retries'] = jobs[0]!.retries;

    expect(attempts.slice(0, 5).map((c) => c.mode)).toEqual(['reset', '503', 'hang', '503', 'open']);
    // pg-boss backs off: every wait at least about a second, and the wait after the fourth failure (a plain
    // 503, no hang in it) well over twice the wait after the first.
    expect(gaps.every((gap) => gap >= 900)).toBe(true);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! * 2);
    expect(jobs[0]!.retries).toBeGreaterThanOrEqual(4);
    expect(events.filter((e) => e.txn_id !== 'FORGEDFAULTS00001')).toEqual([expect.objectContaining({ verification: 'verified', processing: 'processed' })]);
    expect(events.filter((e) => e.txn_id === 'FORGEDFAULTS00001')).toEqual([{ txn_id: 'FORGEDFAULTS00001', verification: 'invalid', processing: 'ignored', attempts: 1 }]);
    expect((await orderChecks(pool, [forgedFor!.orderId]))[0]!.status).toBe('pending');
    expect(discrepancies(await orderChecks(pool, [order!.orderId]), 1)).toEqual([]);
  });
});
