import { afterAll, beforeAll, expect, it } from 'vitest';
import { buyerChooses, pendingOrder, startPaypalTestEnv, type PaypalTestEnv } from '../support/paypal-server.ts';

let env: PaypalTestEnv;
beforeAll(async () => {
  // A short bound so a PayPal that never answers costs the test a second, not twenty.
  env = await startPaypalTestEnv({ PAYPAL_TIMEOUT_MS: '1000' });
});
afterAll(() => env.close());

async function orderStatus(orderId: string) {
  const { rows } = await env.pool.query('select status from "order" where id = $1', [orderId]);
  return rows[0].status;
}

it('PayPal hanging on create: bounded wait, a clear retryable error, the attempt failed; a retry works', async () => {
  const { customer, order } = await pendingOrder(env.client);
  env.sim.control.failNext({ count: 1, path: '/v1/payments/payment', mode: 'hang' });
  const started = Date.now();
  await expect(env.client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toMatchObject({
    data: { code: 'SERVICE_UNAVAILABLE' },
    message: expect.stringContaining('TIMEOUT'),
  });
  expect(Date.now() - started).toBeLessThan(10_000);
  const { rows } = await env.pool.query('select status from order_payment_attempt where order_id = $1', [order.id]);
  expect(rows.map((r) => r.status)).toEqual(['failed']);
  const retry = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, retry.externalId, 'approve');
  expect(await orderStatus(order.id)).toBe('paid');
});

it('PayPal hanging on execute: the buyer is asked to reload, nothing is marked paid, the reload pays', async () => {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  env.sim.control.failNext({ count: 1, path: `/v1/payments/payment/${attempt.externalId}/execute`, mode: 'hang' });
  const first = await buyerChooses(env, attempt.externalId, 'approve');
  expect(first.response.status).toBe(502);
  expect(await orderStatus(order.id)).toBe('pending');
  const reload = await fetch(first.redirectUrl, { redirect: 'manual' });
  expect(await reload.text()).toContain('Payment received');
  expect(await orderStatus(order.id)).toBe('paid');
});
