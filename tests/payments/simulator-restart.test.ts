import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient, type OrdersClient } from '@orders/shared';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * The simulator inside the server (PAYPAL_MODE=simulator, no PAYPAL_API_BASE) across restarts of the
 * server process: its state is in PostgreSQL, so a link handed out before a restart still pays, and
 * a sale made before one can be re-synced and refunded after it.
 */

const SERVICE_KEY = 'restart-test-service-key-0123456789';
const ADMIN = { email: 'admin@restart.example', password: 'restart-test-admin-password' };

let db: TestDatabase;
let env: Record<string, string>;
let server: ServerProcess | undefined;

/** Starts the server, after stopping one the previous test left running. */
async function start(): Promise<ServerProcess> {
  await stop();
  server = await startServerProcess(env);
  return server;
}

/** A clean stop, as a supervisor (SIGTERM) would ask. */
async function stop(): Promise<void> {
  if (!server) return;
  server.child.kill('SIGTERM');
  await server.exited;
  server = undefined;
}

/** The buyer on the simulator's approval page: reads it, presses a button, follows the redirect back to the shop. */
async function buyerPresses(approvalUrl: string, action: 'approve' | 'cancel') {
  const page = await fetch(approvalUrl);
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const form = /<form method="post" action="([^"]+)">\s*<input type="hidden" name="token" value="([^"]+)">/.exec(html);
  expect(form, html).not.toBeNull();
  const decision = await fetch(new URL(form![1]!, approvalUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: form![2]!, action }).toString(),
    redirect: 'manual',
  });
  expect(decision.status).toBe(302);
  const back = await fetch(decision.headers.get('location')!);
  return { status: back.status, body: await back.text() };
}

beforeAll(async () => {
  db = await createTestDatabase();
  // One port for every start: approval links name it, as they name PUBLIC_BASE_URL in production.
  env = {
    DATABASE_URL: db.url,
    PORT: String(await freePort()),
    PAYPAL_MODE: 'simulator',
    BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // The `PayPal simulator started` line carries the control API's token.
    LOG_LEVEL: 'info',
  };
});

afterAll(async () => {
  await stop();
  await db?.drop();
});

describe('the simulator inside the server, across restarts', () => {
  it('a link from before a restart pays after it; a re-sync and a refund after another restart work', async () => {
    let proc = await start();
    let client: OrdersClient = createOrdersClient({ url: `${proc.url}/trpc`, apiKey: SERVICE_KEY });
    const { customer, order } = await pendingOrder(client, { unitPrice: 1250, quantity: 2 });
    const attempt = await client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(attempt.approvalUrl).toContain(`${proc.url}/paypal-sim/cgi-bin/webscr?cmd=_express-checkout&token=EC-`);

    await stop();
    proc = await start();
    client = createOrdersClient({ url: `${proc.url}/trpc`, apiKey: SERVICE_KEY });

    const back = await buyerPresses(attempt.approvalUrl, 'approve');
    expect(back.body).toContain('Payment received');
    expect(await client.orders.get.query({ customer, orderId: order.id })).toMatchObject({ status: 'paid', total: 2500 });
    // The simulator's IPN for the sale reaches the server and is verified by postback (same process, same port).
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await waitFor(async () => {
        const { rows } = await pool.query(`select verification from payment_event where source = 'ipn' and order_id = $1`, [order.id]);
        return rows.length > 0 && rows.every((row) => row.verification === 'verified');
      }, 15_000, 'the sale IPN, verified');

      await stop();
      proc = await start();
      const staff = createOrdersClient({ url: `${proc.url}/trpc` });
      const { token } = await staff.auth.login.mutate(ADMIN);
      const admin = createOrdersClient({ url: `${proc.url}/trpc`, apiKey: token });

      const resync = await admin.backoffice.payments.resync.mutate({ attemptId: attempt.attemptId, reason: 'after a restart' });
      expect(resync).toMatchObject({ status: 'paid', attemptStatus: 'succeeded' });
      const refund = await admin.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1000, reason: 'after a restart' });
      expect(refund).toMatchObject({ amount: 1000, refundedAmount: 1000 });
      const rest = await admin.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'the rest' });
      expect(rest).toMatchObject({ amount: 1500, refundedAmount: 2500, status: 'refunded' });

      // What the simulator knows is in its own schema, beside Orders' tables.
      const { rows } = await pool.query(`select body->>'state' as state, (body->>'refunded')::int as refunded from paypal_sim.sale`);
      expect(rows).toEqual([{ state: 'refunded', refunded: 2500 }]);
    } finally {
      await pool.end();
    }
  });

  it('an IPN the simulator still owed when the server stopped is delivered after the restart', async () => {
    let proc = await start();
    const controlToken = /"controlToken":"([^"]+)"/.exec(proc.output())![1]!;
    const client = createOrdersClient({ url: `${proc.url}/trpc`, apiKey: SERVICE_KEY });
    const control = (path: string, body: unknown) =>
      fetch(`${proc.url}/paypal-sim/_sim/${path}`, { method: 'POST', headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await control('ipn/mode', { paused: true })).status).toBe(204);
    const { customer, order } = await pendingOrder(client);
    const attempt = await client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect((await buyerPresses(attempt.approvalUrl, 'approve')).body).toContain('Payment received');
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const ipnsOfOrder = async () => (await pool.query(`select verification from payment_event where source = 'ipn' and order_id = $1`, [order.id])).rows;
      expect(await ipnsOfOrder()).toEqual([]);
      await stop();
      proc = await start();
      await waitFor(async () => (await ipnsOfOrder()).some((row) => row.verification === 'verified'), 15_000, 'the held IPN, delivered and verified after the restart');
    } finally {
      await pool.end();
    }
  });
});
