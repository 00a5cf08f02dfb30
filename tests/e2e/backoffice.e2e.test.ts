import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createOrdersClient } from '@orders/shared';
import { chromiumAvailable } from '../support/browser.ts';
import { submitLogin, useChromiumSuite } from './support.ts';
import { buyerChooses, ipnEvents, pendingOrder, startPaypalTestEnv, waitFor, type PaypalTestEnv } from '../support/paypal-server.ts';

const ADMIN = { email: 'admin@orders.test', password: 'admin-password-0123456789' };
const VIEWER = { email: 'viewer@orders.test', password: 'viewer-password-0123456789' };

if (!chromiumAvailable) console.log('back-office e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

/** A pending order paid through the simulator (return URL, then the IPN), as a buyer would. */
async function paidOrder(env: PaypalTestEnv, options: Parameters<typeof pendingOrder>[1] = {}) {
  const { customer, order } = await pendingOrder(env.client, options);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  await waitFor(async () => (await ipnEvents(env.pool, 'order_id = $1 and processing <> $2', [order.id, 'pending'])).length > 0, 15_000, 'the IPN');
  return { customer, order, attempt };
}

function localDate(offsetDays = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const row = (page: Page, orderId: string) => page.locator(`[data-order-id="${orderId}"]`);

describe.skipIf(!chromiumAvailable)('back office in a browser', () => {
  const suite = useChromiumSuite(() => startPaypalTestEnv({ BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password }), { webBuild: true });
  let env: PaypalTestEnv;
  let context: BrowserContext;
  let page: Page;
  let paid: Awaited<ReturnType<typeof paidOrder>>;
  let paidJpy: Awaited<ReturnType<typeof paidOrder>>;
  let pendingEur: Awaited<ReturnType<typeof pendingOrder>>;
  let mismatched: Awaited<ReturnType<typeof pendingOrder>>;

  const shot = async (name: string) => {
    // Toasts from earlier steps would cover the screen.
    const dismiss = page.getByRole('button', { name: 'Dismiss' });
    // A toast may also leave on its own between count and click.
    while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 }).catch(() => undefined);
    await suite.shot(page, `backoffice-${name}`);
  };

  beforeAll(async () => {
    env = suite.env;
    context = await suite.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, timezoneId: 'Europe/Paris' });
    page = await context.newPage();

    // What a shop has after a morning: paid orders (USD, JPY), one waiting (EUR), and a payment
    // whose reported amount disagrees with the order (a discrepancy to reconcile).
    [paid, paidJpy, pendingEur] = await Promise.all([
      paidOrder(env, { unitPrice: 1250, quantity: 2 }),
      paidOrder(env, { unitPrice: 1500, currency: 'JPY', quantity: 1 }),
      pendingOrder(env.client, { unitPrice: 1050, currency: 'EUR', quantity: 1 }),
    ]);
    mismatched = await pendingOrder(env.client, { unitPrice: 990, quantity: 1 });
    const attempt = await env.client.payments.attemptToPay.mutate({ customer: mismatched.customer, orderId: mismatched.order.id });
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 1990, currency: 'USD' }),
    ).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    // A buyer who left for PayPal two hours ago and never came back: a stuck attempt.
    const abandoned = await pendingOrder(env.client, { unitPrice: 3599, currency: 'GBP', quantity: 1 });
    const stuck = await env.client.payments.attemptToPay.mutate({ customer: abandoned.customer, orderId: abandoned.order.id });
    await env.pool.query(`update order_payment_attempt set created_at = now() - interval '2 hours', updated_at = now() - interval '2 hours' where id = $1`, [stuck.attemptId]);
    // More of a day's orders, in several currencies.
    await Promise.all(
      (
        [
          [4999, 'USD', 1],
          [1299, 'EUR', 3],
          [8900, 'JPY', 1],
          [2450, 'CAD', 2],
          [15000, 'HUF', 1],
          [799, 'AUD', 4],
        ] as const
      ).map(([unitPrice, currency, quantity]) => pendingOrder(env.client, { unitPrice, currency, quantity })),
    );
  }, 90_000);

  it('logs in, with a clear message for a wrong password', async () => {
    await page.goto(`${env.server.url}/backoffice/`);
    // In a browser the server is the page's own origin unless changed.
    await page.getByRole('link', { name: 'change' }).click();
    await expect(page.getByLabel('Server address').inputValue()).resolves.toBe(env.server.url);
    await shot('settings');
    await page.getByRole('link', { name: 'Back' }).click();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid email or password.');
    await shot('login-error');
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Login opens the dashboard from a plain address (tests/e2e/dashboard.e2e.test.ts), the screen asked for otherwise: the list is one click away.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders', exact: true }).click();
    await row(page, paid.order.id).waitFor();
    await expect(page.getByText(ADMIN.email).isVisible()).resolves.toBe(true);
    await page.locator('.live-live').waitFor();
    await shot('orders');
  });

  it('filters by status and date, with the filters in the URL', async () => {
    await page.getByRole('button', { name: 'Status' }).click();
    await page.getByRole('checkbox', { name: 'Paid' }).check();
    await page.keyboard.press('Escape');
    await page.getByLabel('Created from', { exact: true }).fill(localDate());
    await page.waitForURL((url) => url.searchParams.get('status') === 'paid' && url.searchParams.get('from') === localDate());
    await row(page, pendingEur.order.id).waitFor({ state: 'detached' });
    await row(page, paid.order.id).waitFor();
    await row(page, paidJpy.order.id).waitFor();
    await expect(row(page, paidJpy.order.id).textContent()).resolves.toContain('¥1,500');
    await expect(page.locator('.chip').allTextContents()).resolves.toEqual([`Status: Paid×`, `Created from ${localDate()}×`]);
    await shot('orders-filtered');

    // Yesterday only: nothing.
    await page.getByLabel('Created from', { exact: true }).fill(localDate(-1));
    await page.getByLabel('Created to', { exact: true }).fill(localDate(-1));
    await page.getByText('No orders match these filters').waitFor();
    await page.getByRole('button', { name: /^Remove filter Created/ }).click();
    await row(page, paid.order.id).waitFor();
    expect(new URL(page.url()).searchParams.has('from')).toBe(false);

    // The filtered URL survives a reload.
    await page.reload();
    await row(page, paid.order.id).waitFor();
    await expect(row(page, pendingEur.order.id).count()).resolves.toBe(0);
  });

  it('exports the current filter as CSV', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    // The browser build hands a filter's export to the browser's downloads (GET /backoffice/api/orders.csv
    // with the session cookie), written to disk as it streams, not first held whole by the page.
    await page.getByText("Export started: the file arrives in your browser's downloads").waitFor();
    expect((await download).url()).toMatch(/\/backoffice\/api\/orders\.csv\?.*status=paid/);
    const file = await (await download).path();
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    expect(lines[0]).toMatch(/^order_id,created_at,/);
    const ids = lines.slice(1).map((line) => line.split(',')[0]);
    expect(ids.sort()).toEqual([paid.order.id, paidJpy.order.id].sort());
    expect(lines.find((line) => line.startsWith(paidJpy.order.id))).toContain(',paid,');
    expect(lines.find((line) => line.startsWith(paid.order.id))).toContain(',USD,25.00,2500,');
  });

  it('opens an order from the keyboard and shows its lines, attempts and the raw IPN', async () => {
    await page.getByRole('grid').focus();
    const ids = await Promise.all((await page.locator('[data-order-id]').all()).map((row) => row.getAttribute('data-order-id')));
    for (let i = 0; i < ids.indexOf(paid.order.id); i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**#/orders/${paid.order.id}`);
    await page.getByRole('heading', { name: /^Order / }).waitFor();
    const attempts = page.getByRole('list', { name: 'Payment attempts' });
    await expect(attempts.textContent()).resolves.toContain(paid.attempt.externalId);
    await expect(attempts.locator('.badge', { hasText: 'Succeeded' }).count()).resolves.toBe(1);
    const raw = await page.getByTestId('raw-event').first().textContent();
    expect(raw).toContain('payment_status=Completed');
    expect(raw).toContain(`custom=`);
    await expect(page.locator('table.lines').textContent()).resolves.toContain('$12.50');
    await shot('order-detail');
    await page.getByRole('list', { name: 'Payment events' }).scrollIntoViewIfNeeded();
    await shot('order-events');
  });

  it('resolves a discrepancy with a reason, which lands in the audit trail', async () => {
    await page.getByRole('link', { name: /^Reconciliation/ }).click();
    const item = page.locator(`.discrepancy[data-kind="amount_mismatch"]`).filter({ hasText: `#${mismatched.order.number}` });
    await item.waitFor();
    await expect(page.locator('.recon-kind[data-kind="amount_mismatch"] .count').textContent()).resolves.toBe('1');
    await shot('reconciliation');
    await item.getByRole('button', { name: 'Resolve…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Mark as resolved' });
    await dialog.getByRole('button', { name: 'Mark resolved' }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/reason is required/);
    await dialog.getByLabel(/Reason/).fill('Buyer paid the right amount by bank transfer; ticket 4521');
    await shot('reason-dialog');
    await dialog.getByRole('button', { name: 'Mark resolved' }).click();
    await dialog.waitFor({ state: 'detached' });
    await item.waitFor({ state: 'detached' });
    await expect(page.locator('.recon-kind[data-kind="amount_mismatch"] .count').textContent()).resolves.toBe('0');

    await page.goto(`${env.server.url}/backoffice/#/orders/${mismatched.order.id}`);
    const audit = page.getByRole('table', { name: 'Audit trail' });
    await audit.getByText('discrepancy.resolved').waitFor();
    await expect(audit.textContent()).resolves.toContain('Buyer paid the right amount by bank transfer; ticket 4521');
    await expect(audit.textContent()).resolves.toContain(ADMIN.email);
    await audit.scrollIntoViewIfNeeded();
    await shot('audit-trail');
  });

  it('refunds as admin through the reason dialog', async () => {
    await page.goto(`${env.server.url}/backoffice/#/orders/${paid.order.id}`);
    await page.getByRole('button', { name: 'Refund…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Refund through PayPal' });
    await expect(dialog.getByLabel('Amount (USD)').inputValue()).resolves.toBe('25.00');
    await dialog.getByLabel(/Reason/).fill('Customer returned both items');
    await dialog.getByRole('button', { name: 'Refund' }).click();
    await page.getByText(/^Refunded \$25\.00/).waitFor();
    await page.locator('.detail-meta [data-status="refunded"]').waitFor();
    await page.getByRole('table', { name: 'Audit trail' }).getByText('Customer returned both items').waitFor();
  });

  it('manages staff and API keys as admin', async () => {
    await page.getByRole('link', { name: 'Staff & keys' }).click();
    await page.getByLabel('Email', { exact: true }).fill(VIEWER.email);
    await page.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await page.getByLabel(/^Role(?! of )/).selectOption('viewer');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('cell', { name: VIEWER.email }).waitFor();
    // Another member's role changes in place (there was no way to); one's own is shown, not offered.
    const memberRole = page.getByLabel(`Role of ${VIEWER.email}`);
    await memberRole.selectOption('operator');
    await page.getByText(`${VIEWER.email} is now operator.`).waitFor();
    const asAdmin = createOrdersClient({ url: env.server.trpcUrl, apiKey: (await createOrdersClient({ url: env.server.trpcUrl }).auth.login.mutate(ADMIN)).token });
    expect((await asAdmin.backoffice.staff.list.query()).find((member) => member.email === VIEWER.email)?.role).toBe('operator');
    await memberRole.selectOption('viewer');
    await page.getByText(`${VIEWER.email} is now viewer.`).waitFor();
    await expect(page.getByLabel(`Role of ${ADMIN.email}`).count()).resolves.toBe(0);
    await page.getByLabel('Name').fill('storefront');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const key = await page.getByTestId('new-api-key').textContent();
    expect(key!.length).toBeGreaterThan(20);
    await shot('admin');
    // The new key works for a service.
    const service = createOrdersClient({ url: env.server.trpcUrl, apiKey: key! });
    await expect(service.orders.list.query({ customer: paid.customer })).resolves.toBeDefined();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('new-api-key').count()).resolves.toBe(0);
  });

  it('shows an order placed by another client, and its payment, without a reload', async () => {
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await row(page, pendingEur.order.id).waitFor();
    // Nothing below may reload the page: this marker would be gone.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const placed = await pendingOrder(env.client, { unitPrice: 4200, quantity: 1 });
    await row(page, placed.order.id).waitFor({ timeout: 10_000 });
    await expect(row(page, placed.order.id).locator('[data-status]').getAttribute('data-status')).resolves.toBe('pending');
    const attempt = await env.client.payments.attemptToPay.mutate({ customer: placed.customer, orderId: placed.order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    await row(page, placed.order.id).locator('[data-status="paid"]').waitFor({ timeout: 10_000 });
    // The status is patched in at once; the rest of the row (PayPal ids, payer) follows by refetch.
    await row(page, placed.order.id).getByText(attempt.externalId).waitFor({ timeout: 10_000 });
    await expect(page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).resolves.toBe(1);
    await shot('orders-live');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('orders-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('an order placed while the live feed lost its database connection still shows up, without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 2));
    const status = (text: string) => page.getByRole('status').filter({ hasText: new RegExp(`^${text}$`) });
    await status('Live').waitFor();
    // The feed's LISTEN connection dies and, for now, cannot come back (the database refuses it).
    const feed = env.server.services.orderChanges as unknown as { connect(): Promise<void>; listening: boolean };
    feed.connect = () => Promise.reject(new Error('held down by the test'));
    try {
      await env.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'orders-order-changes' and datname = current_database()`,
      );
      // The stream ends (changes may be missed) and the app says it is not live.
      await status('Connecting…|Offline').waitFor({ timeout: 5_000 });
      expect(feed.listening).toBe(false);
      const missed = await pendingOrder(env.client, { unitPrice: 777, quantity: 1 });
      // Its notification went nowhere: nothing shows it yet.
      await new Promise((r) => setTimeout(r, 1_000));
      await expect(row(page, missed.order.id).count()).resolves.toBe(0);
      delete (feed as { connect?: unknown }).connect;
      // Back live, the app refetches what it shows: the order no event told it about is there.
      await status('Live').waitFor({ timeout: 20_000 });
      await row(page, missed.order.id).waitFor({ timeout: 10_000 });
      await expect(page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).resolves.toBe(2);
    } finally {
      delete (feed as { connect?: unknown }).connect;
    }
  });

  it('refuses a refund to a viewer', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await submitLogin(page, VIEWER);
    await page.getByText('viewer', { exact: true }).waitFor();
    await expect(page.getByRole('link', { name: 'Staff & keys' }).count()).resolves.toBe(0);
    await page.goto(`${env.server.url}/backoffice/#/orders/${paidJpy.order.id}`);
    const refund = page.getByRole('button', { name: 'Refund…' });
    await refund.waitFor();
    await expect(refund.isDisabled()).resolves.toBe(true);
    // The server's allowedActions leave refund out for a viewer: greyed out, saying why.
    await expect(refund.getAttribute('title')).resolves.toBe('Not available for a paid order with your viewer role');
    await shot('viewer-order');
    // And the server says no to the viewer's session, whatever the UI shows.
    // The page holds no token (an httpOnly cookie carries the session): the test takes it from the browser's cookie jar.
    const token = (await page.context().cookies()).find((cookie) => cookie.name === 'orders_session')!.value;
    const asViewer = createOrdersClient({ url: env.server.trpcUrl, apiKey: token });
    await expect(asViewer.backoffice.payments.refund.mutate({ orderId: paidJpy.order.id, reason: 'trying anyway' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    expect((await asViewer.backoffice.orders.get.query({ orderId: paidJpy.order.id })).order.status).toBe('paid');
  });

  it('a session ended elsewhere leaves no orders on screen: a logout in another tab, or the member disabled by an admin, shows the login form by itself', async () => {
    // Two tabs of one browser share the cookie session.
    const tabs = await suite.browser.newContext({ viewport: { width: 1024, height: 768 } });
    const first = await tabs.newPage();
    await first.goto(`${env.server.url}/backoffice/#/orders`);
    await submitLogin(first, ADMIN);
    await row(first, paid.order.id).waitFor();
    const second = await tabs.newPage();
    await second.goto(`${env.server.url}/backoffice/#/orders`);
    await row(second, paid.order.id).waitFor();
    await first.getByRole('button', { name: 'Log out' }).click();
    // Nobody touches the second tab: it had sat on the list, marked "Offline", until a click.
    await second.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 5000 });
    await expect(row(second, paid.order.id).count()).resolves.toBe(0);
    await expect(second.getByText('You were logged out').isVisible()).resolves.toBe(true);
    await suite.shot(second, 'backoffice-logged-out-elsewhere-1024');

    // A member an admin disables: the server ends the session's live feed, and the open tab signs out.
    const admin = createOrdersClient({ url: env.server.trpcUrl, apiKey: (await createOrdersClient({ url: env.server.trpcUrl }).auth.login.mutate(ADMIN)).token });
    const member = { email: `gone-${Date.now()}@orders.test`, password: 'operator-password-0123456789' };
    const created = await admin.backoffice.staff.create.mutate({ ...member, role: 'operator' });
    await first.goto(`${env.server.url}/backoffice/#/orders`);
    await submitLogin(first, member);
    await row(first, paid.order.id).waitFor();
    await first.getByText('Live', { exact: true }).waitFor();
    await admin.backoffice.staff.setDisabled.mutate({ staffId: created.id, disabled: true });
    await first.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });
    await expect(row(first, paid.order.id).count()).resolves.toBe(0);
    await tabs.close();
  });
});
