import { afterAll, beforeAll, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { createLogger } from '@orders/server/logger.ts';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { pendingOrder, waitFor } from '../support/paypal-server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { SECRETS, SECRETS_ADMIN, SECRETS_PAYPAL } from './support.ts';

const ADMIN = SECRETS_ADMIN;

let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let server: RunningServer;
let pool: pg.Pool;
let logs = '';

beforeAll(async () => {
  bed = await openTestBed({ paypal: SECRETS_PAYPAL, poolMax: 2 });
  ({ sim, pool } = bed);
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  server = await bed.startServer(
    { BOOTSTRAP_SERVICE_API_KEY: SECRETS.serviceKey, BOOTSTRAP_ADMIN_EMAIL: ADMIN, BOOTSTRAP_ADMIN_PASSWORD: SECRETS.adminPassword },
    // Everything the server logs, at the most talkative level.
    { logger: createLogger('trace', capture) },
  );
});
afterAll(async () => {
  await bed?.close();
});

it('no secret reaches the logs through a whole purchase, a login and a failing PayPal call', async () => {
  const client = createOrdersClient({ url: server.trpcUrl, apiKey: SECRETS.serviceKey });
  const { customer, order } = await pendingOrder(client);
  sim.control.failNext({ count: 1, status: 500, path: '/v1/payments/payment' });
  await expect(client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toBeTruthy();
  const attempt = await client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const { redirectUrl } = sim.control.approve(attempt.externalId, 'approve');
  await fetch(redirectUrl);
  await waitFor(async () => (await client.orders.get.query({ customer, orderId: order.id })).status === 'paid', 15_000, 'payment');
  await sim.control.settleIpns();
  // A bad key and a bad token are logged as attempts at most, never echoed.
  await createOrdersClient({ url: server.trpcUrl, apiKey: `${SECRETS.serviceKey}-wrong` }).orders.list.query({ customer, page: 1, pageSize: 1 }).catch(() => {});

  expect(logs.length).toBeGreaterThan(0);
  for (const [name, secret] of Object.entries(SECRETS)) {
    expect(logs.includes(secret), `${name} appears in the logs`).toBe(false);
  }
  expect(logs).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
  expect(logs).not.toMatch(/Basic [A-Za-z0-9+/=]{20,}/);
});
