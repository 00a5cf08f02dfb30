import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { startPaypalSimulator, type PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { externalPaypalEnv, pendingOrder, waitFor, SERVICE_KEY } from '../support/paypal-server.ts';
import { startServerProcess } from '../support/server-process.ts';

let sim: PaypalSimulator;
let db: TestDatabase;
let pool: pg.Pool;
const RECEIVER = 'crash-merchant@orders.example';

beforeAll(async () => {
  // The simulator lives in the test process, so PayPal keeps running while the server dies.
  sim = await startPaypalSimulator({ clientId: 'crash-test', clientSecret: 'crash-secret', receiverEmail: RECEIVER });
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await sim.close();
  await db.drop();
});

function serverEnv(ipnVerifyUrl: string): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    ...externalPaypalEnv(sim, { clientId: 'crash-test', clientSecret: 'crash-secret', receiverEmail: RECEIVER }),
    PAYPAL_IPN_VERIFY_URL: ipnVerifyUrl,
    BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
  };
}

it('an IPN answered 200 by a server killed with SIGKILL before processing is processed after restart', async () => {
  // First life: verification is unreachable, so the stored IPN cannot be processed yet.
  const first = await startServerProcess(serverEnv('http://127.0.0.1:9/cgi-bin/webscr'));
  const client = createOrdersClient({ url: `${first.url}/trpc`, apiKey: SERVICE_KEY });
  const { customer, order } = await pendingOrder(client);
  sim.control.setPendingSales(true);
  const attempt = await client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const { redirectUrl } = sim.control.approve(attempt.externalId, 'approve');
  await fetch(redirectUrl);
  const { rows } = await pool.query('select sale_id from order_payment_attempt where id = $1', [attempt.attemptId]);
  sim.control.completePendingSale(rows[0].sale_id);
  await sim.control.settleIpns();
  const delivered = sim.control.ipnLog().find((entry) => entry.fields.payment_status === 'Completed')!;
  expect(delivered.deliveries.at(-1)?.attempts.at(-1)?.status).toBe(200);
  // The Pending IPN (sent at execute) and the Completed one: both stored, neither processed.
  const stored = await pool.query(`select provider_status, processing from payment_event where source = 'ipn' order by created_at`);
  expect(stored.rows).toEqual([
    { provider_status: 'Pending', processing: 'received' },
    { provider_status: 'Completed', processing: 'received' },
  ]);

  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');

  // Second life, PayPal reachable again: the stored IPN is picked up and pays the order, once.
  const second = await startServerProcess(serverEnv(sim.ipnVerifyUrl));
  try {
    await waitFor(async () => {
      const { rows: o } = await pool.query('select status from "order" where id = $1', [order.id]);
      return o[0].status === 'paid';
    }, 30_000, 'the order to be paid after restart');
    await waitFor(async () => {
      const { rows: left } = await pool.query(`select 1 from payment_event where source = 'ipn' and processing = 'received'`);
      return left.length === 0;
    }, 30_000, 'every stored IPN to be processed');
    const { rows: events } = await pool.query(
      `select provider_status, processing, verification from payment_event where source = 'ipn' order by created_at`,
    );
    expect(events).toEqual([
      { provider_status: 'Pending', processing: 'processed', verification: 'verified' },
      { provider_status: 'Completed', processing: 'processed', verification: 'verified' },
    ]);
    const { rows: audit } = await pool.query(`select count(*)::int as n from audit_entry where order_id = $1 and action = 'order.paid'`, [order.id]);
    expect(audit[0].n).toBe(1);
  } finally {
    second.child.kill('SIGTERM');
    const stopped = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (stopped === 'timeout') second.child.kill('SIGKILL');
  }
});
