import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatMoney, type Dashboard } from '@orders/shared';
import { chromiumAvailable } from '../support/browser.ts';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from './support.ts';

if (!chromiumAvailable) console.log('dashboard e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

const utcDay = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const row = (page: Page, orderId: string) => page.locator(`[data-order-id="${orderId}"]`);
const figure = (page: Page, key: string) => page.locator(`[data-figure="${key}"]`);
const figureValue = (page: Page, key: string) => figure(page, key).locator('[data-value]').textContent();

/** An order paid (approved) or not (declined, cancelled) through the simulator. */
async function orderPaidBy(env: BackofficeTestEnv, choice: 'approve' | 'decline' | 'cancel', unitPrice: number, currency: 'USD' | 'EUR' = 'USD') {
  const { customer, order } = await pendingOrder(env.client, { unitPrice, currency, quantity: 1 });
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, choice);
  return order;
}

/**
 * Moves an order made through the API `days` back in time, with everything it left behind (attempts,
 * ledger rows, notifications): a week of history for the charts without waiting a week.
 */
async function backdate(env: BackofficeTestEnv, orderId: string, days: number) {
  const shift = `make_interval(days => ${days})`;
  await env.pool.query(`update "order" set created_at = created_at - ${shift}, updated_at = updated_at - ${shift}, paid_at = paid_at - ${shift} where id = $1`, [orderId]);
  await env.pool.query(`update order_payment_attempt set created_at = created_at - ${shift}, updated_at = updated_at - ${shift} where order_id = $1`, [orderId]);
  await env.pool.query(`update money_movement set created_at = created_at - ${shift} where order_id = $1`, [orderId]);
  await env.pool.query(`update payment_event set created_at = created_at - ${shift}, processed_at = processed_at - ${shift} where order_id = $1`, [orderId]);
}

describe.skipIf(!chromiumAvailable)('the dashboard in a browser (Chromium)', () => {
  const suite = useChromiumSuite(() => startBackofficeEnv(), { webBuild: true });
  let paid: { id: string }[] = [];
  let unpaid: { id: string };

  it('has data: paid, refunded, declined, cancelled and unpaid orders', async () => {
    const env = suite.env;
    paid = [await orderPaidBy(env, 'approve', 4999), await orderPaidBy(env, 'approve', 1299, 'EUR'), await orderPaidBy(env, 'approve', 2500)];
    await orderPaidBy(env, 'decline', 1800);
    await orderPaidBy(env, 'cancel', 900);
    unpaid = (await pendingOrder(env.client, { unitPrice: 700, quantity: 1 })).order;
    // The six days before today: a few orders each, most paid.
    for (let days = 1; days <= 6; days++) {
      const made = [await orderPaidBy(env, 'approve', 1500 + days * 700), await orderPaidBy(env, days % 3 === 0 ? 'decline' : 'approve', 2900)];
      if (days % 2 === 0) made.push(await orderPaidBy(env, 'approve', 999, 'EUR'), await orderPaidBy(env, 'cancel', 1200));
      await env.sim.control.settleIpns();
      await waitFor(async () => (await ipnEvents(env.pool, "processing = 'received'")).length === 0, 20_000, 'the IPNs processed');
      for (const order of made) await backdate(env, order.id, days);
    }
    await waitFor(async () => (await ipnEvents(env.pool, "processing = 'processed'")).length >= 3, 20_000, 'the sale IPNs');
    await env.admin.client.backoffice.payments.refund.mutate({ orderId: paid[2]!.id, amount: 1000, reason: 'a scratch on the lid' });
    await env.sim.control.settleIpns();
    await waitFor(async () => {
      const events = await ipnEvents(env.pool);
      return events.length >= 4 && events.every((e) => e.processing !== 'received');
    }, 20_000, 'every IPN processed');
  }, 180_000);

  for (const [width, timezoneId] of [
    [1024, 'Europe/Paris'],
    // Fourteen hours ahead of UTC: the local date is often tomorrow, the dashboard's days stay UTC.
    [1440, 'Pacific/Kiritimati'],
  ] as const) {
    it(`at ${width} px (${timezoneId}): first screen after login, the procedure's numbers, live, a figure opens the filtered list`, async () => {
      const env = suite.env;
      const page = await suite.newTab({ viewport: { width, height: 900 }, timezoneId });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));

      await page.goto(`${env.server.url}/backoffice/`);
      await submitLogin(page, ADMIN);

      // The dashboard is what login opens.
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await expect(page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current')).resolves.toBe('page');
      await expect(page.getByText(`Days are UTC days (${utcDay(-6)} → ${utcDay()}, UTC)`).isVisible()).resolves.toBe(true);
      await figure(page, 'orders').waitFor();

      // The numbers on screen are the procedure's for the same range (the default: the last 7 UTC days).
      const data: Dashboard = await env.admin.client.backoffice.dashboard.query({ from: utcDay(-6), to: utcDay() });
      await expect(figureValue(page, 'orders')).resolves.toBe(String(data.ordersTotal));
      await expect(figureValue(page, 'conversion')).resolves.toBe(`${(data.conversionTotals.rate * 100).toFixed(1)} %`);
      await expect(figureValue(page, 'revenue')).resolves.toBe(formatMoney(data.revenueTotals[0]!.net, data.revenueTotals[0]!.currency));
      await expect(figure(page, 'revenue').textContent()).resolves.toContain(`+ ${formatMoney(data.revenueTotals[1]!.net, data.revenueTotals[1]!.currency)}`);
      await expect(figureValue(page, 'refunds')).resolves.toBe(String(data.refunds.reduce((n, r) => n + r.count, 0)));
      await expect(figureValue(page, 'backlog')).resolves.toBe('0');
      await expect(figureValue(page, 'reconciliation')).resolves.toBe(String(data.reconciliation.total));
      const today = await env.admin.client.backoffice.dashboard.query({ from: utcDay(), to: utcDay(), currency: 'USD' });
      expect(today.revenueTotals).toEqual([{ currency: 'USD', captured: 4999 + 2500, refunded: 1000, reversed: 0, net: 4999 + 2500 - 1000 }]);
      // Every chart drew (recharts renders SVG only once it has a size).
      await expect(page.locator('.dash-chart .recharts-surface').count()).resolves.toBeGreaterThanOrEqual(4);
      // Nothing wider than the window.
      await expect(page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).resolves.toBe(true);
      // The whole dashboard in one picture (the content pane scrolls, not the page), no hover tooltip.
      await page.mouse.move(1, 1);
      await page.setViewportSize({ width, height: width < 1280 ? 1300 : 1150 });
      await suite.shot(page, `dashboard-${width}`);
      await page.setViewportSize({ width, height: 900 });

      // Live: a new order elsewhere shows up without a reload (the refetch is debounced).
      const before = data.ordersTotal;
      await pendingOrder(env.client, { unitPrice: 1500, quantity: 1 });
      await page.locator('[data-figure="orders"] [data-value]', { hasText: new RegExp(`^${before + 1}$`) }).waitFor({ timeout: 15_000 });

      // The presets ask for other ranges; the dashboard keeps saying UTC.
      await page.getByRole('button', { name: '30 days' }).click();
      await page.getByText(`Days are UTC days (${utcDay(-29)} → ${utcDay()}, UTC)`).waitFor();
      await page.getByRole('button', { name: 'Custom' }).click();
      await page.getByLabel('First day (UTC)').fill(utcDay(-3));
      await page.getByText(`Days are UTC days (${utcDay(-3)} → ${utcDay()}, UTC)`).waitFor();
      const custom = await env.admin.client.backoffice.dashboard.query({ from: utcDay(-3), to: utcDay() });
      await page.locator('[data-figure="orders"] [data-value]', { hasText: new RegExp(`^${custom.ordersTotal}$`) }).waitFor();
      expect(custom.ordersTotal).toBeLessThan(before + 1);

      // A figure opens the orders list filtered to the same UTC days: the paid orders, not the unpaid.
      await figure(page, 'conversion').click();
      await page.waitForURL((url) => url.hash === '#/orders' && url.searchParams.get('status') === 'paid' && url.searchParams.get('tz') === 'utc');
      const url = new URL(page.url());
      expect([url.searchParams.get('from'), url.searchParams.get('to')]).toEqual([utcDay(-3), utcDay()]);
      await row(page, paid[0]!.id).waitFor();
      await row(page, paid[1]!.id).waitFor();
      await expect(row(page, unpaid.id).count()).resolves.toBe(0);
      await expect(page.locator('.chip', { hasText: '(UTC)' }).count()).resolves.toBe(1);
      await suite.shot(page, `dashboard-to-orders-${width}`);

      // Back to the dashboard, then the reconciliation figure opens the queue.
      await page.goBack();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await figure(page, 'reconciliation').click();
      await page.waitForURL((u) => u.hash.startsWith('#/reconciliation'));
      expect(errors).toEqual([]);
    });
  }

  it('a shop-sized week: every figure whole at 1440, 1280 and 1024 px, the window resized under it; a long detail whole on hover', async () => {
    const env = suite.env;
    // Ten million dollars and ten million euros more: the cards' values outgrow a card of the row of seven.
    await orderPaidBy(env, 'approve', 999_999_999);
    await orderPaidBy(env, 'approve', 999_999_999, 'EUR');
    await env.sim.control.settleIpns();
    await waitFor(async () => (await ipnEvents(env.pool, "processing = 'received'")).length === 0, 20_000, 'the IPNs processed');
    const data: Dashboard = await env.admin.client.backoffice.dashboard.query({ from: utcDay(-6), to: utcDay() });
    const [first, second] = data.revenueTotals;
    const revenue = formatMoney(first!.net, first!.currency);
    // "$10,000,076.99" (13 characters or more, whichever test ran before): wider than a card at 1280 and 1440 px.
    expect(revenue.length).toBeGreaterThanOrEqual(13);

    const page = await suite.newTab({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${env.server.url}/backoffice/`);
    await submitLogin(page, ADMIN);
    await page.locator('[data-figure="revenue"] [data-value]', { hasText: revenue }).waitFor();
    for (const width of [1440, 1280, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      // Each value fits its card (the type steps down where it must), after the cards took the new width.
      await expect
        .poll(() => page.evaluate(`[...document.querySelectorAll('[data-value]')].filter((v) => v.scrollWidth > v.clientWidth).map((v) => v.textContent)`), { timeout: 5_000 })
        .toEqual([]);
      await expect(figureValue(page, 'revenue')).resolves.toBe(revenue);
      // A detail too long for its two lines is whole on hover.
      await expect(figure(page, 'revenue').locator('.dash-figure-detail').getAttribute('title')).resolves.toBe(`+ ${formatMoney(second!.net, second!.currency)}`);
      await expect(page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).resolves.toBe(true);
      await page.mouse.move(1, 1);
      await suite.shot(page, `dashboard-shop-sized-${width}`);
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
