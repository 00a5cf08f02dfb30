import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../support/browser.ts';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, newCustomer, waitFor } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from './support.ts';

if (!chromiumAvailable) console.log('line refund e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

/** A paid order of two lines (2 × mug at $12.50, 1 × lamp at $30.00), paid through the simulator, its IPN processed. */
async function paidTwoLineOrder(env: BackofficeTestEnv) {
  const tag = randomUUID().slice(0, 6).toUpperCase();
  const mug = `MUG-${tag}`;
  const lamp = `LAMP-${tag}`;
  await env.client.catalog.upsertProduct.mutate({ sku: mug, name: 'Stoneware mug', unitPrice: 1250, currency: 'USD', stock: 10 });
  await env.client.catalog.upsertProduct.mutate({ sku: lamp, name: 'Desk lamp', unitPrice: 3000, currency: 'USD', stock: 5 });
  const customer = newCustomer();
  const order = await env.client.orders.create.mutate({ customer, items: [{ sku: mug, quantity: 2 }, { sku: lamp, quantity: 1 }] });
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  await waitFor(async () => (await ipnEvents(env.pool, 'order_id = $1 and processing = $2', [order.id, 'processed'])).length > 0, 20_000, 'the sale IPN');
  return { order, mug, lamp };
}

async function stockOf(env: BackofficeTestEnv, sku: string): Promise<number> {
  const { rows } = await env.pool.query('select stock from product where sku = $1', [sku]);
  return rows[0].stock as number;
}

async function dismissToasts(page: Page) {
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 }).catch(() => undefined);
}

describe.skipIf(!chromiumAvailable)('line refunds and notes in the back office (Chromium)', () => {
  const suite = useChromiumSuite(() => startBackofficeEnv(), { webBuild: true });

  for (const width of [1024, 1440]) {
    it(`at ${width} px: refunds one line with restock, shows the per-line state, adds a note shown as text`, async () => {
      const env = suite.env;
      const { order, mug, lamp } = await paidTwoLineOrder(env);
      const page = await suite.newTab({ viewport: { width, height: 900 }, timezoneId: 'Europe/Paris' });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));

      await page.goto(`${env.server.url}/backoffice/`);
      await submitLogin(page, ADMIN);
      await page.getByText(ADMIN.email).first().waitFor();
      await page.goto(`${env.server.url}/backoffice/#/orders/${order.id}`);

      const lines = page.getByRole('region', { name: 'Lines' });
      await lines.getByRole('button', { name: 'Refund lines…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Refund lines through PayPal' });
      await dialog.getByLabel(`Quantity of ${mug} to refund (at most 2)`).fill('1');
      await expect(dialog.getByTestId('refund-lines-amount').textContent()).resolves.toBe('$12.50');
      await expect(dialog.getByLabel('Put the refunded units back in stock').isChecked()).resolves.toBe(true);
      await dialog.getByLabel(/^Reason/).fill('one mug came back unopened');
      await suite.shot(page, `line-refund-dialog-${width}`);
      // More than was paid of a line: the dialog says so and sends nothing.
      await dialog.getByLabel(`Quantity of ${lamp} to refund (at most 1)`).fill('2');
      await dialog.getByRole('button', { name: /^Refund/ }).click();
      await expect(dialog.getByRole('alert').textContent()).resolves.toBe(`${lamp}: choose between 0 and 1.`);
      await dialog.getByLabel(`Quantity of ${lamp} to refund (at most 1)`).fill('0');
      await dialog.getByRole('button', { name: 'Refund $12.50' }).click();
      await dialog.waitFor({ state: 'detached' });

      const mugRow = lines.locator(`tr[data-sku="${mug}"]`);
      await mugRow.getByText('1 of 2 · $12.50').waitFor();
      await expect(mugRow.getByText('1 back in stock').isVisible()).resolves.toBe(true);
      await expect(lines.locator(`tr[data-sku="${lamp}"] .line-refund-state`).textContent()).resolves.toBe('—');
      await page.locator('.detail-meta [data-status="partially_refunded"]').waitFor();
      expect(await stockOf(env, mug)).toBe(9);
      expect(await stockOf(env, lamp)).toBe(4);
      // The dialog sent its idempotency key with the refund.
      const { rows: refunds } = await env.pool.query('select request_key from order_refund where order_id = $1', [order.id]);
      expect(refunds).toEqual([{ request_key: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);

      // A note; at 1024 px one with markup, which must stay text (the 1440 px one is the README's picture).
      const notes = page.getByRole('region', { name: 'Notes' });
      const text =
        width === 1024
          ? `Customer called <img src=x onerror="window.__noteXss = true"> — keeps the lamp`
          : 'Customer called: keeps the lamp; the second mug comes back by post next week.';
      await notes.getByLabel(/^Add an internal note/).fill(text);
      await notes.getByRole('button', { name: 'Add note' }).click();
      await notes.locator('.note-body').filter({ hasText: text }).waitFor();
      await expect(notes.locator('.note-author').first().textContent()).resolves.toBe(ADMIN.email);
      await expect(notes.locator('.notes img').count()).resolves.toBe(0);
      await expect(page.evaluate(() => (globalThis as { __noteXss?: boolean }).__noteXss ?? false)).resolves.toBe(false);
      await page.getByRole('table', { name: 'Audit trail' }).getByText('order.note_added').waitFor();
      await page.getByRole('table', { name: 'Audit trail' }).getByText('order.lines_refunded').waitFor();

      await dismissToasts(page);
      await lines.scrollIntoViewIfNeeded();
      await suite.shot(page, `line-refund-detail-${width}`);
      await notes.scrollIntoViewIfNeeded();
      await suite.shot(page, `line-refund-notes-${width}`);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});
