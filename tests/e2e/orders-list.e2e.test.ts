import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { OrdersClient } from '@orders/shared';
import { chromiumAvailable } from '../support/browser.ts';
import { parseCsv, seedOrders, startBackofficeEnv } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, waitFor } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from './support.ts';

const OPERATOR = { email: 'operator@orders.example', password: 'operator-password-0123456789' };
const ZONE = 'Europe/Paris';
/** A word only these customers' ids hold: a fragment of it finds them and nothing else. */
const TAG = `kestrel${randomUUID().slice(0, 4)}`;

if (!chromiumAvailable) console.log('orders list e2e skipped: /usr/bin/chromium is not installed');

/** A pending order for customer `<TAG>-<n>`, through the public API as a shop would place it. */
async function taggedOrder(client: OrdersClient, n: number) {
  const customer = { type: 'user' as const, id: `${TAG}-${n}` };
  const sku = `LAMP-${randomUUID().slice(0, 8)}`;
  await client.catalog.upsertProduct.mutate({ sku, name: 'Brass desk lamp', unitPrice: 4200 + n, currency: 'EUR', stock: 10 });
  const cart = await client.carts.create.mutate({ customer });
  await client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: 1 });
  return client.orders.create.mutate({ customer, cartId: cart.id });
}

async function logIn(page: Page, url: string) {
  await page.goto(`${url}/backoffice/`);
  await submitLogin(page, OPERATOR);
  // The app may open on another screen (the dashboard): the list is one click away.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
  await page.locator('[data-order-id]').first().waitFor();
}

const dataRows = (page: Page) => page.locator('.grid-body [data-order-id]');
const headers = async (page: Page) => (await page.locator('.grid-header [role="columnheader"]').allTextContents()).map((text) => text.replace(/[↑↓↕]/g, '').trim());

interface Layout {
  page: { scrollWidth: number; clientWidth: number };
  table: { scrollWidth: number; clientWidth: number };
  header: { scrollWidth: number; clientWidth: number };
  /** The distinct tops of the navigation links: one value when they sit on one line. */
  navTops: number[];
  topbarOverflows: boolean;
}

/**
 * What the layout checks measure: sideways overflow of the page and of the table's own scroll
 * container, and the top bar's lines. (A script string: the tests type-check without the DOM library.)
 */
function layout(page: Page): Promise<Layout> {
  return page.evaluate(`(() => {
    const root = document.documentElement;
    const body = document.querySelector('.grid-body');
    const header = document.querySelector('.grid-header');
    const links = [...document.querySelectorAll('.nav .nav-link')].map((link) => link.getBoundingClientRect());
    const topbar = document.querySelector('.topbar');
    return {
      page: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth },
      table: { scrollWidth: body.scrollWidth, clientWidth: body.clientWidth },
      header: { scrollWidth: header.scrollWidth, clientWidth: header.clientWidth },
      navTops: [...new Set(links.map((r) => Math.round(r.top)))],
      topbarOverflows: topbar.scrollWidth > topbar.clientWidth,
    };
  })()`);
}

describe.skipIf(!chromiumAvailable)('orders list in a browser (1440 and 1024 px)', () => {
  const suite = useChromiumSuite(
    async () => {
      const env = await startBackofficeEnv();
      await env.admin.client.backoffice.staff.create.mutate({ ...OPERATOR, role: 'operator' });
      // A shop's history (set-based), then six orders from customers whose ids share TAG.
      await seedOrders(env, 400);
      const tagged = [];
      for (let n = 1; n <= 6; n++) tagged.push(await taggedOrder(env.client, n));
      // The last three paid through the simulator: PayPal ids and payers in the list.
      for (const order of tagged.slice(3)) {
        const attempt = await env.client.payments.attemptToPay.mutate({ customer: order.customer, orderId: order.id });
        await buyerChooses(env, attempt.externalId, 'approve');
        await waitFor(async () => (await ipnEvents(env.pool, 'order_id = $1 and processing <> $2', [order.id, 'pending'])).length > 0, 15_000, 'the IPN');
      }
      return Object.assign(env, { tagged });
    },
    { webBuild: true },
  );

  let page: Page;

  it('1440: searches as you type a fragment, `/` focuses the search, Escape clears it', async () => {
    page = await suite.newTab({ viewport: { width: 1440, height: 900 }, timezoneId: ZONE, acceptDownloads: true });
    page.on('pageerror', (error) => console.log('page error:', error.message));
    await logIn(page, suite.env.server.url);
    await suite.shot(page, 'orders-list-1440');
    const before = await dataRows(page).count();
    expect(before).toBeGreaterThan(10);

    // `/` from anywhere but a text field jumps to the search.
    await page.getByRole('heading', { name: 'Orders' }).click();
    await page.keyboard.press('/');
    await expect(page.evaluate(`document.activeElement?.getAttribute('type')`)).resolves.toBe('search');

    // On any other screen `/` opens the list with its search focused: from the dashboard, the first
    // screen after login, the search is one keystroke away too.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.keyboard.press('/');
    await page.waitForURL('**#/orders');
    await expect.poll(() => page.evaluate(`document.activeElement?.getAttribute('type')`)).toBe('search');

    // A fragment from inside the customer ids ("estrel…", no prefix), typed at a person's pace, never Enter.
    const fragment = TAG.slice(1, 6);
    await page.keyboard.type(fragment, { delay: 60 });
    const typed = Date.now();
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(6);
    const answeredMs = Date.now() - typed;
    console.log(`search as you type: "${fragment}" answered ${answeredMs} ms after the last key`);
    expect(new URL(page.url()).searchParams.get('q')).toBe(fragment);
    await suite.shot(page, 'orders-list-fragment-1440');
    // Narrowing while typing: the rest of the tag and "-3" leave one order.
    await page.keyboard.type(`${TAG.slice(6)}-3`, { delay: 60 });
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(1);
    const only = suite.env.tagged.find((order) => order.customer.id === `${TAG}-3`)!;
    await expect(dataRows(page).first().getAttribute('data-order-id')).resolves.toBe(only.id);
    // The order number is the first column, the id on hover.
    const number = dataRows(page).first().locator('.order-number');
    await expect(number.textContent()).resolves.toBe(`#${only.number}`);
    await expect(number.getAttribute('title')).resolves.toBe(`Order id ${only.id}`);
    await suite.shot(page, 'orders-list-search-1440');

    // The whole flow from the keyboard: ↓ hands the results the keyboard (the one row is chosen),
    // ↑ on it gives it back to the search box, ↓ again and Enter opens the order; back returns here.
    await page.keyboard.press('ArrowDown');
    await expect(page.evaluate(`document.activeElement?.getAttribute('role')`)).resolves.toBe('grid');
    await expect(dataRows(page).first().getAttribute('aria-selected')).resolves.toBe('true');
    await page.keyboard.press('ArrowUp');
    await expect(page.evaluate(`document.activeElement?.getAttribute('type')`)).resolves.toBe('search');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**#/orders/${only.id}`);
    await page.getByRole('heading', { name: /^Order / }).waitFor();
    await page.goBack();
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(1);
    await page.getByRole('searchbox').focus();

    await page.keyboard.press('Escape');
    await expect(page.getByRole('searchbox').inputValue()).resolves.toBe('');
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(before);
    expect(new URL(page.url()).searchParams.has('q')).toBe(false);
  });

  it('1440: hovering a relative date shows the absolute date and time', async () => {
    await page.getByRole('searchbox').fill(`${TAG}-5`);
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(1);
    const order = suite.env.tagged.find((o) => o.customer.id === `${TAG}-5`)!;
    const time = dataRows(page).first().locator('time');
    await time.hover();
    await expect(time.textContent()).resolves.toMatch(/ago|just now/);
    const expected = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: ZONE }).format(new Date(order.createdAt));
    await expect(time.getAttribute('title')).resolves.toBe(`${expected} (${ZONE})`);
    await page.getByRole('searchbox').press('Escape');
  });

  it('1440: the column chooser hides a column, and the choice survives a reload', async () => {
    expect(await headers(page)).toEqual(['', 'Order', 'Status', 'Customer', 'Total', 'PayPal', 'Payer', 'Created']);
    await page.getByRole('button', { name: /^Columns/ }).click();
    await page.getByRole('checkbox', { name: 'PayPal' }).uncheck();
    await page.keyboard.press('Escape');
    expect(await headers(page)).toEqual(['', 'Order', 'Status', 'Customer', 'Total', 'Payer', 'Created']);
    await expect(dataRows(page).first().locator('.cell-paypal').count()).resolves.toBe(0);
    await suite.shot(page, 'orders-list-columns-1440');
    await page.reload();
    await dataRows(page).first().waitFor();
    expect(await headers(page)).toEqual(['', 'Order', 'Status', 'Customer', 'Total', 'Payer', 'Created']);
    await page.getByRole('button', { name: /^Columns/ }).click();
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.keyboard.press('Escape');
    expect(await headers(page)).toContain('PayPal');
  });

  it('1440: selects two unpaid orders and cancels them with one reason, each result shown', async () => {
    await page.getByRole('searchbox').fill(TAG);
    await expect.poll(() => dataRows(page).count(), { timeout: 5000 }).toBe(6);
    const [first, second] = [suite.env.tagged[0]!, suite.env.tagged[1]!];
    await page.getByRole('checkbox', { name: `Select order #${first.number}` }).check();
    await page.getByRole('checkbox', { name: `Select order #${second.number}` }).check();
    // Checking did not open an order.
    expect(new URL(page.url()).hash).toBe('#/orders');
    const bar = page.getByRole('region', { name: 'Selected orders' });
    await bar.getByText('2 selected').waitFor();

    // Export selected: a CSV of exactly those two orders (the list shows six).
    const download = page.waitForEvent('download');
    await bar.getByRole('button', { name: 'Export selected' }).click();
    const csv = parseCsv(readFileSync(await (await download).path(), 'utf8'));
    expect(csv[0]![0]).toBe('order_id');
    expect(csv.slice(1).map((record) => record[0]).sort()).toEqual([first.id, second.id].sort());

    await bar.getByRole('button', { name: 'Cancel selected unpaid…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel 2 unpaid orders' });
    // Both named, in the list's order, in the plural ("its … it" for one).
    await expect(dialog.locator('p').first().textContent()).resolves.toMatch(
      new RegExp(`^#(${first.number}|${second.number}), #(${first.number}|${second.number}) will be cancelled and their stock released; any payment started on them is abandoned\\.$`),
    );
    await dialog.getByLabel(/Reason/).fill('Duplicate test orders from the shop’s staging site');
    await suite.shot(page, 'orders-list-bulk-cancel-1440');
    await dialog.getByRole('button', { name: 'Cancel 2 orders' }).click();
    const results = page.getByRole('list', { name: 'Bulk cancel results' });
    await results.waitFor();
    expect((await results.getByRole('listitem').allTextContents()).sort()).toEqual([`#${first.number} cancelled`, `#${second.number} cancelled`].sort());
    await page.locator(`[data-order-id="${first.id}"] [data-status="cancelled"]`).waitFor({ timeout: 5000 });
    await suite.shot(page, 'orders-list-bulk-result-1440');

    // The server agrees, and each cancellation is audited with the reason and the operator.
    for (const order of [first, second]) {
      const detail = await suite.env.admin.client.backoffice.orders.get.query({ orderId: order.id });
      expect(detail.order.status).toBe('cancelled');
      expect(detail.audit.some((entry) => entry.reason === 'Duplicate test orders from the shop’s staging site' && entry.actorLabel === OPERATOR.email)).toBe(true);
    }
    const untouched = await suite.env.admin.client.backoffice.orders.get.query({ orderId: suite.env.tagged[2]!.id });
    expect(untouched.order.status).toBe('pending');
  });

  it('1024: a screen opened from a scrolled one starts at its top; Back returns to where the last one was scrolled', async () => {
    const page = await suite.newTab({ viewport: { width: 1024, height: 600 } });
    await logIn(page, suite.env.server.url);
    const scrollTop = () => page.evaluate(`document.querySelector('main.content').scrollTop`) as Promise<number>;
    const openDashboard = async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
      await page.waitForURL(/#\/dashboard/);
      await page.locator('.recharts-surface').first().waitFor();
    };
    // A paid order: its page (events, audit) is longer than the window.
    const paid = suite.env.tagged.find((o) => o.customer.id === `${TAG}-5`)!;
    await page.goto(`${suite.env.server.url}/backoffice/#/orders/${paid.id}`);
    await page.getByText('Audit trail').first().waitFor();
    // The dashboard seen once, so that it opens from the cache at its full height (as a screen seen
    // before does): loading, it would be too short to keep anyone's scroll.
    await openDashboard();
    await page.goBack();
    await page.getByText('Audit trail').first().waitFor();
    await page.evaluate(`(() => { const c = document.querySelector('main.content'); c.scrollTop = c.scrollHeight; })()`);
    await expect.poll(scrollTop).toBeGreaterThan(200);
    const scrolled = await scrollTop();
    await openDashboard();
    expect(await page.evaluate(`document.querySelector('main.content').scrollHeight - document.querySelector('main.content').clientHeight`)).toBeGreaterThan(200);
    expect(await scrollTop()).toBe(0);
    await suite.shot(page, 'scroll-new-screen-1024');
    await page.goBack();
    await page.waitForURL(/#\/orders\//);
    await expect.poll(scrollTop).toBe(scrolled);
    await page.context().close();
  });

  it('1440: no sideways scroll and the navigation on one line', async () => {
    await page.getByRole('searchbox').press('Escape');
    const measured = await layout(page);
    console.log('layout at 1440', JSON.stringify(measured));
    expect(measured.page.scrollWidth).toBeLessThanOrEqual(measured.page.clientWidth);
    expect(measured.table.scrollWidth).toBeLessThanOrEqual(measured.table.clientWidth);
    expect(measured.navTops).toHaveLength(1);
  });

  it('1024: every chosen column that fits, no sideways scroll, the navigation on one line', async () => {
    const narrow = await suite.newTab({ viewport: { width: 1024, height: 768 }, timezoneId: ZONE });
    await logIn(narrow, suite.env.server.url);
    const measured = await layout(narrow);
    console.log('layout at 1024', JSON.stringify(measured));
    expect(measured.page.scrollWidth).toBeLessThanOrEqual(measured.page.clientWidth);
    expect(measured.table.scrollWidth).toBeLessThanOrEqual(measured.table.clientWidth);
    expect(measured.header.scrollWidth).toBeLessThanOrEqual(measured.header.clientWidth);
    expect(measured.navTops).toHaveLength(1);
    expect(measured.topbarOverflows).toBe(false);
    // The least important column gave way, and the chooser says why.
    expect(await headers(narrow)).toEqual(['', 'Order', 'Status', 'Customer', 'Total', 'PayPal', 'Created']);
    await suite.shot(narrow, 'orders-list-1024');
    await narrow.getByRole('button', { name: /^Columns/ }).click();
    await narrow.getByText('(no room at this width)').waitFor();
    await suite.shot(narrow, 'orders-list-columns-1024');
    await narrow.keyboard.press('Escape');

    // 800 px: columns go, nothing leaves the page, the navigation still on one line.
    await narrow.setViewportSize({ width: 800, height: 700 });
    await expect.poll(async () => (await headers(narrow)).length, { timeout: 3000 }).toBeLessThan(7);
    const small = await layout(narrow);
    console.log('layout at 800', JSON.stringify(small));
    expect(small.page.scrollWidth).toBeLessThanOrEqual(small.page.clientWidth);
    expect(small.table.scrollWidth).toBeLessThanOrEqual(small.table.clientWidth);
    expect(small.navTops).toHaveLength(1);
    expect(small.topbarOverflows).toBe(false);
    await suite.shot(narrow, 'orders-list-800');
  });

  it('1024: the largest amount PayPal takes is whole in the Total column, and a refund line is cut at its end, never at the amount', async () => {
    const env = suite.env;
    // CHF 9,999,999.99, PayPal's largest (the widest total: 140 px), paid, then all but a franc refunded.
    const customer = { type: 'user' as const, id: `${TAG}-big` };
    const sku = `SAFE-${randomUUID().slice(0, 8)}`;
    await env.client.catalog.upsertProduct.mutate({ sku, name: 'Bank vault door', unitPrice: 999_999_999, currency: 'CHF', stock: 1 });
    const order = await env.client.orders.create.mutate({ customer, items: [{ sku, quantity: 1 }] });
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    await waitFor(async () => (await env.client.orders.get.query({ customer, orderId: order.id })).status === 'paid', 15_000, 'the order paid');
    await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 999_999_899, reason: 'the door did not fit' });
    await waitFor(async () => (await env.client.orders.get.query({ customer, orderId: order.id })).status === 'partially_refunded', 15_000, 'the refund');

    const narrow = await suite.newTab({ viewport: { width: 1024, height: 768 }, timezoneId: ZONE });
    await logIn(narrow, suite.env.server.url);
    // The newest order: the list's first row.
    const amount = narrow.locator(`[data-order-id="${order.id}"] .amount`);
    await amount.waitFor();
    // Each line's box starts inside the cell (a right-aligned line wider than the cell lost its start: "F 9,999,999.99").
    const lines = await narrow.evaluate(`(() => {
      const amount = document.querySelector('[data-order-id="${order.id}"] .amount');
      const cell = amount.closest('[role="gridcell"]').getBoundingClientRect();
      return [...amount.children].map((line) => ({ text: line.textContent.replace(/\\s/g, ' '), inside: line.getBoundingClientRect().left >= cell.left - 0.5, whole: line.scrollWidth <= line.clientWidth }));
    })()`);
    expect(lines).toEqual([
      { text: 'CHF 9,999,999.99', inside: true, whole: true },
      { text: '−CHF 9,999,998.99 refunded', inside: true, whole: false },
    ]);
    expect((await amount.getAttribute('title'))?.replace(/\s/g, ' ')).toBe('CHF 9,999,999.99 · −CHF 9,999,998.99 refunded');
    // The columns the 1024 px list shows are still all there.
    expect(await headers(narrow)).toEqual(['', 'Order', 'Status', 'Customer', 'Total', 'PayPal', 'Created']);
    await suite.shot(narrow, 'orders-list-largest-amount-1024');
  });
});
