import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { pendingOrder, startPaypalTestEnv, type PaypalTestEnv } from '../support/paypal-server.ts';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../support/browser.ts';

if (!chromiumAvailable) console.log('purchase e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

describe.skipIf(!chromiumAvailable)('a buyer clicks through a purchase in the simulator', () => {
  let env: PaypalTestEnv;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    env = await startPaypalTestEnv();
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await env?.close();
  });

  it('approve on the PayPal page → back at the shop → order paid', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await chrome.browser.newPage();
    await page.goto(attempt.approvalUrl);
    await expect(page.getByText('25.00').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'simulator-approval.png') });
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/paypal\/return/);
    await expect(page.getByTestId('payment-title').textContent()).resolves.toBe('Payment received');
    await page.screenshot({ path: path.join(ARTIFACTS, 'payment-received.png') });
    const paid = await env.client.orders.get.query({ customer, orderId: order.id });
    expect(paid).toMatchObject({ status: 'paid', linesFrozen: true });
  });

  it('cancel on the PayPal page → the status page says so, the order stays payable', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await chrome.browser.newPage();
    await page.goto(attempt.approvalUrl);
    await page.getByRole('button', { name: 'Cancel and return to merchant' }).click();
    await page.waitForURL(/\/paypal\/cancel/);
    await expect(page.getByTestId('payment-title').textContent()).resolves.toBe('Payment cancelled');
    expect((await env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('pending');
  });
});
