import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * The buyer's page after staff refunded the order: the return link (a reload, the back button, the
 * link kept in the browser's history) and the status page say what is true now, not "Payment received".
 */

let env: BackofficeTestEnv;

beforeAll(async () => {
  env = await startBackofficeEnv();
});
afterAll(() => env?.close());

function titleOf(html: string): string {
  return /<h1 data-testid="payment-title">([^<]*)<\/h1>/.exec(html)?.[1] ?? '';
}

function detailOf(html: string): string {
  return (/<p data-testid="payment-detail">(.*?)<\/p>/s.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '');
}

async function settled() {
  await env.sim.control.settleIpns();
  await waitFor(async () => (await ipnEvents(env.pool, "processing = 'received'")).length === 0, 20_000, 'IPNs processed');
}

/** An order of 25.00 USD the buyer paid through the return page; its return link and status page. */
async function paid() {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const back = await buyerChooses(env, attempt.externalId, 'approve');
  expect(titleOf(back.body)).toBe('Payment received');
  await settled();
  const pages = async () => {
    const [again, status] = await Promise.all([fetch(back.redirectUrl, { redirect: 'manual' }), fetch(`${env.server.url}/paypal/status/${attempt.attemptId}`)]);
    expect([again.status, status.status]).toEqual([200, 200]);
    return [await again.text(), await status.text()];
  };
  return { order, attempt, pages };
}

describe('the buyer’s page after a refund', () => {
  it('partly refunded: "This payment was partially refunded", with how much went back; then whole: "This payment was refunded"', async () => {
    const { order, pages } = await paid();
    for (const html of await pages()) expect(titleOf(html)).toBe('Payment received');

    await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1000, reason: 'one item came broken' });
    await settled();
    for (const html of await pages()) {
      expect(titleOf(html)).toBe('This payment was partially refunded');
      expect(detailOf(html)).toContain('$10.00 of $25.00 was refunded');
      expect(html).not.toContain('Payment received');
      expect(html).not.toContain('http-equiv="refresh"');
    }

    await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'returned the rest' });
    await settled();
    for (const html of await pages()) {
      expect(titleOf(html)).toBe('This payment was refunded');
      expect(detailOf(html)).toContain('$25.00 was refunded');
      expect(html).not.toContain('Payment received');
      expect(html).not.toContain('http-equiv="refresh"');
    }
  });

  it('an old link of a refunded order (replaced by the attempt that paid) is refused, and says the order was refunded', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const old = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const paying = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl: oldLink } = env.sim.control.approve(old.externalId, 'approve');
    expect(titleOf((await buyerChooses(env, paying.externalId, 'approve')).body)).toBe('Payment received');
    await settled();
    await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'out of stock' });
    await settled();
    const html = await (await fetch(oldLink, { redirect: 'manual' })).text();
    expect(titleOf(html)).toBe('This order is already paid');
    expect(detailOf(html)).toBe(`Nothing was charged through this link: the order was paid with another payment. Order #${order.number} is refunded. $25.00 was refunded.`);
    expect(html).not.toContain(order.id);
    expect(env.sim.control.getState().sales.filter((s) => s.paymentId === old.externalId)).toEqual([]);
  });

  it('refunded by lines: the same partial page', async () => {
    const { order, pages } = await paid();
    const detail = await env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    await env.admin.client.backoffice.payments.refundLines.mutate({
      orderId: order.id,
      lines: [{ sku: detail.lines[0]!.sku, quantity: 1 }],
      reason: 'one came broken',
      requestKey: crypto.randomUUID(),
    });
    await settled();
    for (const html of await pages()) {
      expect(titleOf(html)).toBe('This payment was partially refunded');
      expect(detailOf(html)).toContain('$12.50 of $25.00 was refunded');
    }
  });
});
