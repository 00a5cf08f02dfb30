import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../support/browser.ts';
import { ADMIN, seedOrders, startBackofficeEnv } from '../support/backoffice.ts';
import { pendingOrder } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from './support.ts';

/*
 * Issue 13 leftovers in a browser: the orders list's filter bar fits in two rows at 1024 px and one
 * at 1440 (nothing hidden: the less used filters one click away), the navigation on one line, and at
 * 800 px nothing leaves the page; the reconciliation screen shows the buttons the server gave each
 * item (a viewer none).
 */

const OPERATOR = { email: 'operator@orders.example', password: 'operator-password-0123456789' };
const VIEWER = { email: 'viewer@orders.example', password: 'viewer-password-0123456789' };
const ZONE = 'Europe/Paris';

if (!chromiumAvailable) console.log('filter bar e2e skipped: /usr/bin/chromium is not installed');

interface BarLayout {
  /** Distinct tops (px, rounded) of the bar's visible controls (not the chips, not an open dropdown): one per row. */
  rows: number[];
  barHeight: number;
  bar: { scrollWidth: number; clientWidth: number };
  page: { scrollWidth: number; clientWidth: number };
  navTops: number[];
  /** Each of the row's parts: its class and width, for the log. */
  parts: string[];
}

/** A script string: the tests type-check without the DOM library. */
function barLayout(page: Page): Promise<BarLayout> {
  return page.evaluate(`(() => {
    const bar = document.querySelector('.filter-bar');
    const controls = [...bar.querySelectorAll('.filter-row input, .filter-row select, .filter-row button')]
      .filter((el) => el.closest('.dropdown-panel') === null)
      .map((el) => el.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0);
    const tops = [];
    for (const r of controls.sort((a, b) => a.top - b.top)) {
      if (!tops.some((t) => Math.abs(t - r.top) < r.height / 2)) tops.push(Math.round(r.top));
    }
    const root = document.documentElement;
    const links = [...document.querySelectorAll('.nav .nav-link')].map((link) => link.getBoundingClientRect());
    return {
      rows: tops,
      barHeight: Math.round(bar.getBoundingClientRect().height),
      bar: { scrollWidth: bar.scrollWidth, clientWidth: bar.clientWidth },
      page: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth },
      navTops: [...new Set(links.map((r) => Math.round(r.top)))],
      parts: [...bar.querySelectorAll('.filter-row > *')].map((el) => el.className + ':' + Math.round(el.getBoundingClientRect().width) + '@' + Math.round(el.getBoundingClientRect().top)),
    };
  })()`);
}

async function logIn(page: Page, url: string, who: { email: string; password: string }) {
  await page.goto(`${url}/backoffice/`);
  await submitLogin(page, who);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await page.locator('[data-order-id]').first().waitFor();
}

/** Every filter's control, reached from the bar (opening "More filters" when the bar has one). */
async function reachEveryFilter(page: Page) {
  const more = page.getByRole('button', { name: /^More filters/ });
  if ((await more.count()) > 0 && (await more.getAttribute('aria-expanded')) !== 'true') await more.click();
  for (const name of ['Created from', 'Created to', 'Customer type', 'Customer id', 'Currency', 'Minimum amount', 'Maximum amount']) {
    await expect(page.getByLabel(name, { exact: true }).isVisible(), name).resolves.toBe(true);
  }
  await expect(page.getByRole('searchbox').isVisible()).resolves.toBe(true);
  await expect(page.getByRole('button', { name: /^Status/ }).isVisible()).resolves.toBe(true);
}

describe.skipIf(!chromiumAvailable)('orders filter bar and reconciliation buttons in a browser', () => {
  const suite = useChromiumSuite(
    async () => {
      const env = await startBackofficeEnv();
      await env.admin.client.backoffice.staff.create.mutate({ ...OPERATOR, role: 'operator' });
      await env.admin.client.backoffice.staff.create.mutate({ ...VIEWER, role: 'viewer' });
      await seedOrders(env, 120);
      // A discrepancy on a pending order (a caller reported another amount), and a stuck attempt.
      const mismatched = await pendingOrder(env.client, { unitPrice: 990, quantity: 1 });
      const attempt = await env.client.payments.attemptToPay.mutate({ customer: mismatched.customer, orderId: mismatched.order.id });
      await env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 1990, currency: 'USD' }).catch(() => undefined);
      const abandoned = await pendingOrder(env.client, { unitPrice: 3599, currency: 'GBP', quantity: 1 });
      const stuck = await env.client.payments.attemptToPay.mutate({ customer: abandoned.customer, orderId: abandoned.order.id });
      await env.pool.query(`update order_payment_attempt set updated_at = now() - interval '2 hours' where id = $1`, [stuck.attemptId]);
      return env;
    },
    { webBuild: true },
  );

  for (const [width, maxRows] of [
    [1440, 1],
    [1024, 2],
  ] as const) {
    it(`${width}: the filter bar in at most ${maxRows} row(s), every filter reachable, the navigation on one line`, async () => {
      const page = await suite.newTab({ viewport: { width, height: 800 }, timezoneId: ZONE });
      await logIn(page, suite.env.server.url, OPERATOR);
      const measured = await barLayout(page);
      console.log(`filter bar at ${width}`, JSON.stringify(measured));
      await suite.shot(page, `orders-filters-${width}`);
      expect(measured.rows.length).toBeLessThanOrEqual(maxRows);
      expect(measured.navTops).toHaveLength(1);
      expect(measured.page.scrollWidth).toBeLessThanOrEqual(measured.page.clientWidth);

      await reachEveryFilter(page);
      const open = await barLayout(page);
      console.log(`filter bar at ${width}, all filters shown`, JSON.stringify(open));
      await suite.shot(page, `orders-filters-open-${width}`);
      // With the extra filters open too: two rows, nothing out of the page.
      expect(open.rows.length).toBeLessThanOrEqual(2);
      expect(open.page.scrollWidth).toBeLessThanOrEqual(open.page.clientWidth);
      expect(open.bar.scrollWidth).toBeLessThanOrEqual(open.bar.clientWidth);
      // A filter behind "More filters" works like any other: applied, a chip, in the URL.
      await page.getByLabel('Customer type', { exact: true }).selectOption('anonymous');
      await page.getByRole('button', { name: 'Remove filter Customer: Anonymous' }).waitFor();
      expect(new URL(page.url()).searchParams.get('ctype')).toBe('anonymous');
      await expect
        .poll(async () => {
          const rows = await page.locator('.grid-body [data-order-id]').allTextContents();
          return rows.length > 0 && rows.every((text) => /anonymous/i.test(text));
        })
        .toBe(true);
      await suite.shot(page, `orders-filters-applied-${width}`);
      const applied = await barLayout(page);
      expect(applied.navTops).toHaveLength(1);
      expect(applied.page.scrollWidth).toBeLessThanOrEqual(applied.page.clientWidth);

      // A minimum above the maximum says why nothing matches, and the bar still fits.
      await page.goto(`${suite.env.server.url}/backoffice/?currency=USD&min=50&max=10#/orders`);
      await page.getByText('The minimum is above the maximum: no order can match').waitFor();
      const crossed = await barLayout(page);
      expect(crossed.page.scrollWidth).toBeLessThanOrEqual(crossed.page.clientWidth);
      await suite.shot(page, `orders-filters-amounts-crossed-${width}`);

      // So does a start date after the end date (a link can carry one): said under the row, which stays one line.
      await page.goto(`${suite.env.server.url}/backoffice/?from=2026-11-20&to=2026-11-10#/orders`);
      await page.getByText('The start date is after the end date: no order can match').waitFor();
      const dates = await barLayout(page);
      expect(dates.rows).toHaveLength(1);
      expect(dates.page.scrollWidth).toBeLessThanOrEqual(dates.page.clientWidth);
      expect(await page.getByLabel('Created from').getAttribute('aria-invalid')).toBe('true');
      await suite.shot(page, `orders-filters-dates-crossed-${width}`);
      await page.close();
    });
  }

  it('800: nothing leaves the page, with the extra filters open too', async () => {
    const page = await suite.newTab({ viewport: { width: 800, height: 700 }, timezoneId: ZONE });
    await logIn(page, suite.env.server.url, OPERATOR);
    const closed = await barLayout(page);
    console.log('filter bar at 800', JSON.stringify(closed));
    expect(closed.page.scrollWidth).toBeLessThanOrEqual(closed.page.clientWidth);
    expect(closed.bar.scrollWidth).toBeLessThanOrEqual(closed.bar.clientWidth);
    expect(closed.navTops).toHaveLength(1);
    await reachEveryFilter(page);
    const open = await barLayout(page);
    console.log('filter bar at 800, all filters shown', JSON.stringify(open));
    expect(open.page.scrollWidth).toBeLessThanOrEqual(open.page.clientWidth);
    expect(open.bar.scrollWidth).toBeLessThanOrEqual(open.bar.clientWidth);
    await suite.shot(page, 'orders-filters-800');
    await page.close();
  });

  it('800, signed in as an admin (four sections): the top bar on one line, its pieces side by side, none under another', async () => {
    const page = await suite.newTab({ viewport: { width: 800, height: 700 }, timezoneId: ZONE });
    await logIn(page, suite.env.server.url, ADMIN);
    const bar = (await page.evaluate(`(() => {
      const box = (selector) => { const r = document.querySelector(selector).getBoundingClientRect(); return { left: r.left, right: r.right }; };
      return { role: box('.whoami .role'), settings: box('.topbar-right .icon-button'), logout: box('.topbar-right button:last-child'),
               nav: box('.nav'), width: document.documentElement.clientWidth, scrollWidth: document.querySelector('.topbar').scrollWidth };
    })()`)) as Record<'role' | 'settings' | 'logout' | 'nav', { left: number; right: number }> & { width: number; scrollWidth: number };
    console.log('top bar at 800 (admin)', JSON.stringify(bar));
    // The role badge had been squeezed under the settings button here (its box 28 px wide, the badge 60).
    expect(bar.nav.right).toBeLessThanOrEqual(bar.role.left);
    expect(bar.role.right).toBeLessThanOrEqual(bar.settings.left);
    expect(bar.settings.right).toBeLessThanOrEqual(bar.logout.left);
    expect(bar.logout.right).toBeLessThanOrEqual(bar.width);
    expect(bar.scrollWidth).toBeLessThanOrEqual(bar.width);
    await page.close();
  });

  for (const width of [1440, 1024]) {
    it(`${width}: reconciliation shows the server's buttons: an operator's, and none for a viewer`, async () => {
      const page = await suite.newTab({ viewport: { width, height: 800 }, timezoneId: ZONE });
      await page.goto(`${suite.env.server.url}/backoffice/#/reconciliation`);
      await submitLogin(page, OPERATOR);
      const items = page.locator('.discrepancy');
      await items.first().waitFor();
      const listed = (await suite.env.admin.client.backoffice.reconciliation.list.query({ limit: 100 })).items;
      expect(await items.count()).toBe(listed.length);
      const stuck = page.locator('.discrepancy[data-kind="stuck_attempt"]');
      expect(await stuck.getByRole('button').allTextContents()).toEqual(['Re-sync', 'Resolve…', 'Cancel…']);
      const mismatch = page.locator('.discrepancy[data-kind="amount_mismatch"]');
      expect(await mismatch.getByRole('button').allTextContents()).toEqual(['Re-sync', 'Resolve…', 'Cancel…']);
      await suite.shot(page, `reconciliation-operator-${width}`, { fullPage: true });

      const asViewer = await suite.newTab({ viewport: { width, height: 800 }, timezoneId: ZONE });
      await asViewer.goto(`${suite.env.server.url}/backoffice/#/reconciliation`);
      await submitLogin(asViewer, VIEWER);
      await asViewer.locator('.discrepancy').first().waitFor();
      expect(await asViewer.locator('.discrepancy').count()).toBe(listed.length);
      expect(await asViewer.locator('.discrepancy button').count()).toBe(0);
      await suite.shot(asViewer, `reconciliation-viewer-${width}`, { fullPage: true });
      await asViewer.close();
      await page.close();
    });
  }
});
