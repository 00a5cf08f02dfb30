import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { startPaypalSimulator, type PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { newId } from '@orders/server/db/base.entity.ts';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { SERVICE_KEY, buyerChooses, externalPaypalEnv, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/*
 * A staff refund is three steps: a `requested` row (its id is the PayPal-Request-Id), PayPal's
 * refund, the money applied. A process that dies between the first and the last leaves the row
 * `requested`, its amount held. The payments sweep resumes it with the same request id: PayPal
 * answers with the refund it made, or makes it now — never a second one — and the money counts once,
 * whether PayPal's refund IPN came first or not.
 */

async function orderRow(pool: pg.Pool, orderId: string) {
  const { rows } = await pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string };
}

async function refundRows(pool: pg.Pool, orderId: string) {
  const { rows } = await pool.query('select id, status, amount, provider_refund_id, failure_reason from order_refund where order_id = $1 order by created_at', [orderId]);
  return rows as { id: string; status: string; amount: number; provider_refund_id: string | null; failure_reason: string | null }[];
}

async function auditActions(pool: pg.Pool, orderId: string) {
  const { rows } = await pool.query(`select action, actor_type, reason from audit_entry where order_id = $1 and action like 'order.refund%' order by created_at`, [orderId]);
  return rows as { action: string; actor_type: string; reason: string | null }[];
}

describe('interrupted refunds, resumed by the sweep (in process)', () => {
  let env: BackofficeTestEnv;
  beforeAll(async () => {
    env = await startBackofficeEnv();
  });
  afterAll(() => env.close());

  async function paidOrder() {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    const saleId = (await orderRow(env.pool, order.id)).payment_transaction_id;
    await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1 and processing = $2', [saleId, 'processed'])).length > 0, 20_000, 'the sale IPN');
    return { order, attempt, saleId };
  }

  /** What the first step of a refund writes; the process then died. */
  async function leftRequested(orderId: string, saleId: string, attemptId: string, amount: number): Promise<string> {
    const id = newId();
    await env.pool.query(
      `insert into order_refund (id, created_at, updated_at, order_id, attempt_id, sale_id, amount, currency, status, staff_id, reason)
       values ($1, now() - interval '10 minutes', now() - interval '10 minutes', $2, $3, $4, $5, 'USD', 'requested', $6, 'damaged in transit')`,
      [id, orderId, attemptId, saleId, amount, env.admin.id],
    );
    return id;
  }

  it('died after PayPal refunded and its IPN was applied: completed without counting the money again', async () => {
    const { order, attempt, saleId } = await paidOrder();
    const refundId = await leftRequested(order.id, saleId, attempt.attemptId, 900);
    // The request the dead process had sent.
    const made = await env.server.paypal.gateway.refundSale({ requestId: refundId, saleId, amount: 900, currency: 'USD' });
    await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1 and processing = $2', [made.refundId, 'processed'])).length > 0, 20_000, 'the refund IPN');
    expect(await orderRow(env.pool, order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 });
    // Held twice meanwhile (applied by the IPN, and still requested): nothing more can be refunded than is left.
    await expect(env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1000, reason: 'more' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'amount' },
    });

    const result = await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 });
    expect(result).toEqual({ completed: 1, failed: 0, retrying: 0 });
    expect(await orderRow(env.pool, order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 });
    expect(await refundRows(env.pool, order.id)).toEqual([
      { id: refundId, status: 'completed', amount: 900, provider_refund_id: made.refundId, failure_reason: null },
    ]);
    expect(env.sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toHaveLength(1);
    expect((await auditActions(env.pool, order.id)).map((a) => [a.action, a.actor_type])).toEqual([
      ['order.refunded', 'paypal'],
      ['order.refund_confirmed', 'staff'],
    ]);
    // Nothing held any more: the rest can be refunded.
    const rest = await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'the rest' });
    expect(rest).toMatchObject({ status: 'refunded', refundedAmount: 2500, amount: 1600 });
  });

  it('died before PayPal heard of it: the sweep makes the refund, once; a second sweep and the IPN change nothing', async () => {
    const { order, attempt, saleId } = await paidOrder();
    const refundId = await leftRequested(order.id, saleId, attempt.attemptId, 1100);
    // Too recent to be abandoned: a live request may still be waiting on PayPal for it.
    await env.pool.query(`update order_refund set updated_at = now() where id = $1`, [refundId]);
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 0, failed: 0, retrying: 0 });
    expect(env.sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toHaveLength(0);

    await env.pool.query(`update order_refund set updated_at = now() - interval '2 minutes' where id = $1`, [refundId]);
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 1, failed: 0, retrying: 0 });
    const [row] = await refundRows(env.pool, order.id);
    expect(row).toMatchObject({ status: 'completed', amount: 1100 });
    await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1 and processing <> $2', [row!.provider_refund_id, 'received'])).length > 0, 20_000, 'the refund IPN');
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 0 })).toEqual({ completed: 0, failed: 0, retrying: 0 });
    expect(await orderRow(env.pool, order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1100 });
    expect(env.sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toHaveLength(1);
    const [ipn] = await ipnEvents(env.pool, 'txn_id = $1', [row!.provider_refund_id]);
    expect(ipn).toMatchObject({ processing: 'processed', outcome: expect.stringContaining('already applied') });
    expect(await auditActions(env.pool, order.id)).toEqual([
      { action: 'order.refunded', actor_type: 'staff', reason: 'damaged in transit (completed by the payments sweep after an interrupted request)' },
    ]);
  });

  it('PayPal down: kept and retried; down for longer than the give-up window: failed, the amount released', async () => {
    const { order, attempt, saleId } = await paidOrder();
    const refundId = await leftRequested(order.id, saleId, attempt.attemptId, 500);
    env.sim.control.failNext({ count: 1, status: 503, path: '/v1/payments/sale/' });
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 0, failed: 0, retrying: 1 });
    expect((await refundRows(env.pool, order.id))[0]).toMatchObject({ status: 'requested' });
    // Claimed by that sweep: the next one within the window leaves it alone.
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 0, failed: 0, retrying: 0 });

    env.sim.control.failNext({ count: 1, status: 503, path: '/v1/payments/sale/' });
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 0, giveUpAfterMs: 60_000 })).toEqual({ completed: 0, failed: 1, retrying: 0 });
    expect((await refundRows(env.pool, order.id))[0]).toMatchObject({ id: refundId, status: 'failed', failure_reason: expect.stringContaining('INTERNAL_SERVICE_ERROR') });
    expect(await orderRow(env.pool, order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    expect(env.sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toHaveLength(0);
    expect((await auditActions(env.pool, order.id)).map((a) => a.action)).toEqual(['order.refund_failed']);
    // Released: the whole order can be refunded now.
    const full = await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'after all' });
    expect(full).toMatchObject({ status: 'refunded', refundedAmount: 2500 });
  });
});

describe('a server killed with SIGKILL while PayPal holds its refund request', () => {
  const RECEIVER = 'refund-crash@orders.example';
  const account = { clientId: 'refund-crash', clientSecret: 'refund-crash-secret', receiverEmail: RECEIVER };
  let sim: PaypalSimulator;
  let db: TestDatabase;
  let pool: pg.Pool;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    sim = await startPaypalSimulator(account);
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
      server.child.kill('SIGTERM');
      const stopped = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      if (stopped === 'timeout') server.child.kill('SIGKILL');
    }
    await pool.end();
    await sim.close();
    await db.drop();
  });

  async function start(port?: string): Promise<ServerProcess> {
    const server = await startServerProcess({
      ...(port ? { PORT: port } : {}),
      DATABASE_URL: db.url,
      ...externalPaypalEnv(sim, account),
      BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // Refunds left `requested` are resumed 3 × this after the restart (at least 5 s).
      PAYPAL_TIMEOUT_MS: '3000',
    });
    servers.push(server);
    return server;
  }

  it('the refund is made once after the restart, and counted once', { timeout: 90_000 }, async () => {
    const first = await start();
    const client = createOrdersClient({ url: `${first.url}/trpc`, apiKey: SERVICE_KEY });
    const { customer, order } = await pendingOrder(client);
    const attempt = await client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await fetch(sim.control.approve(attempt.externalId, 'approve').redirectUrl, { redirect: 'manual' });
    const saleId = (await waitFor(async () => {
      const row = await orderRow(pool, order.id);
      return row.status === 'paid' && row;
    }, 20_000, 'the order to be paid')).payment_transaction_id;

    const session = await createOrdersClient({ url: `${first.url}/trpc` }).auth.login.mutate({ email: ADMIN.email, password: ADMIN.password });
    const admin = createOrdersClient({ url: `${first.url}/trpc`, apiKey: session.token });
    // PayPal takes the refund request and never answers; the server dies while it waits.
    sim.control.failNext({ count: 1, path: `/v1/payments/sale/${saleId}/refund`, mode: 'hang' });
    const call = admin.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1300, reason: 'wrong size' }).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(async () => sim.control.getState().pendingFailures.length === 0, 10_000, 'PayPal to hold the refund request');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(await call).toBe('failed');
    expect(await refundRows(pool, order.id)).toMatchObject([{ status: 'requested', amount: 1300, provider_refund_id: null }]);
    expect(sim.control.getState().refunds).toHaveLength(0);
    expect(await orderRow(pool, order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });

    // Same address: PayPal's refund IPN goes to the notify URL the payment was created with.
    const second = await start(new URL(first.url).port);
    const [done] = await waitFor(async () => {
      const rows = await refundRows(pool, order.id);
      return rows[0]?.status === 'completed' && rows;
    }, 45_000, 'the sweep to resume the refund');
    await waitFor(async () => (await ipnEvents(pool, 'txn_id = $1 and processing <> $2', [done!.provider_refund_id, 'received'])).length > 0, 20_000, 'the refund IPN');
    expect(await orderRow(pool, order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1300 });
    expect(sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toMatchObject([{ id: done!.provider_refund_id }]);
    const { rows: audit } = await pool.query(`select action, actor_type from audit_entry where order_id = $1 and action like 'order.refund%'`, [order.id]);
    expect(audit).toEqual([{ action: 'order.refunded', actor_type: 'staff' }]);
    expect(second.child.exitCode).toBeNull();
  });
});
