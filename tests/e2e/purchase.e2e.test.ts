import { describe, expect, it } from 'vitest';
import { pendingOrder, startPaypalTestEnv } from '../support/paypal-server.ts';
import { chromiumAvailable } from '../support/browser.ts';
import { useChromiumSuite } from './support.ts';

if (!chromiumAvailable) console.log('purchase e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

describe.skipIf(!chromiumAvailable)('a buyer clicks through a purchase in the simulator', () => {
  const suite = useChromiumSuite(() => startPaypalTestEnv());

  it('approve on the PayPal page → back at the shop → order paid', async () => {
    const { customer, order } = await pendingOrder(suite.env.client);
    const attempt = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await suite.newTab();
    await page.goto(attempt.approvalUrl);
    await expect(page.getByText('25.00').first().isVisible()).resolves.toBe(true);
    await suite.shot(page, 'simulator-approval');
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/paypal\/return/);
    await expect(page.getByTestId('payment-title').textContent()).resolves.toBe('Payment received');
    await suite.shot(page, 'payment-received');
    const paid = await suite.env.client.orders.get.query({ customer, orderId: order.id });
    expect(paid).toMatchObject({ status: 'paid', linesFrozen: true });
  });

  it('cancel on the PayPal page → the status page says so, the order stays payable', async () => {
    const { customer, order } = await pendingOrder(suite.env.client);
    const attempt = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await suite.newTab();
    await page.goto(attempt.approvalUrl);
    await page.getByRole('button', { name: 'Cancel and return to merchant' }).click();
    await page.waitForURL(/\/paypal\/cancel/);
    await expect(page.getByTestId('payment-title').textContent()).resolves.toBe('Payment cancelled');
    expect((await suite.env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('pending');
  });
});
