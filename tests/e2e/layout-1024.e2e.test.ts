import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { backoffice } from '@orders/shared';
import { chromiumAvailable } from '../support/browser.ts';
import { ADMIN, paidTwice, startBackofficeEnv } from '../support/backoffice.ts';
import { buyerChooses, ipnFields, pendingOrder, processedIpns } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from './support.ts';

/*
 * Issue 13 leftovers, measured in Chromium at 1024 px (and 1440): the search box's placeholder is
 * read whole, the reconciliation kinds are one row above the list, and a refund opened from a
 * reconciliation item starts from that item's amount, labelled, and refunds what the field says.
 */

const ZONE = 'Europe/Paris';

if (!chromiumAvailable) console.log('1024 px layout e2e skipped: /usr/bin/chromium is not installed');

interface PlaceholderFit {
  placeholder: string;
  /** The placeholder's width in the input's own font (canvas measure). */
  textWidth: number;
  /** The input's content box: its inner width less its paddings (the right one holds the `/` hint). */
  contentWidth: number;
}

/** A script string: the tests type-check without the DOM library. */
function placeholderFit(page: Page): Promise<PlaceholderFit> {
  return page.evaluate(`(() => {
    const input = document.querySelector('.field-search input');
    const style = getComputedStyle(input);
    const text = getComputedStyle(input, '::placeholder');
    const context = document.createElement('canvas').getContext('2d');
    context.font = [text.fontStyle, text.fontWeight, text.fontSize, text.fontFamily].join(' ');
    return {
      placeholder: input.placeholder,
      textWidth: context.measureText(input.placeholder).width,
      contentWidth: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
    };
  })()`);
}

interface KindsLayout {
  /** Distinct tops (px, rounded) of the kind links: one when they share a row. */
  tops: number[];
  navHeight: number;
  /** The tallest kind link: more than one line of text would show here. */
  kindHeight: number;
  /** The selected kind's box against the row's visible box (it is scrolled into view). */
  selectedVisible: boolean;
  /** The row's cue that it scrolls: which ends fade ('left', 'right', both or ''), and its computed mask. */
  hiddenEnds: string;
  mask: string;
  page: { scrollWidth: number; clientWidth: number };
  listTop: number;
}

function kindsLayout(page: Page): Promise<KindsLayout> {
  return page.evaluate(`(() => {
    const nav = document.querySelector('.recon-kinds');
    const row = nav.querySelector('.recon-kinds-row');
    const kinds = [...nav.querySelectorAll('.recon-kind')].map((kind) => kind.getBoundingClientRect());
    const box = row.getBoundingClientRect();
    const selected = nav.querySelector('.recon-kind.selected').getBoundingClientRect();
    const root = document.documentElement;
    return {
      tops: [...new Set(kinds.map((r) => Math.round(r.top)))],
      navHeight: Math.round(nav.getBoundingClientRect().height),
      kindHeight: Math.round(Math.max(...kinds.map((r) => r.height))),
      selectedVisible: selected.left >= box.left - 1 && selected.right <= box.right + 1 && selected.top >= box.top - 1 && selected.bottom <= box.bottom + 1,
      hiddenEnds: row.dataset.hiddenEnds ?? '',
      mask: getComputedStyle(row).maskImage,
      page: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth },
      listTop: Math.round(document.querySelector('.recon-list').getBoundingClientRect().top),
    };
  })()`);
}

interface FocusedKind {
  /** The focused link's kind ('all' for All open), undefined when focus is elsewhere. */
  kind?: string;
  /** Whether it is wholly in the row's visible box and clear of its faded ends. */
  clear: boolean;
  hiddenEnds: string;
}

function focusedKind(page: Page): Promise<FocusedKind> {
  return page.evaluate(`(async () => {
    // The row's ends are set after its scroll event, which comes with the next frame.
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const row = document.querySelector('.recon-kinds-row');
    const focused = document.activeElement;
    const hiddenEnds = row.dataset.hiddenEnds ?? '';
    if (!focused?.classList.contains('recon-kind') || !row.contains(focused)) return { clear: false, hiddenEnds };
    const fade = parseFloat(getComputedStyle(row).getPropertyValue('--kinds-fade'));
    const box = row.getBoundingClientRect();
    const link = focused.getBoundingClientRect();
    const left = box.left + (hiddenEnds.includes('left') ? fade : 0);
    const right = box.right - (hiddenEnds.includes('right') ? fade : 0);
    return { kind: focused.dataset.kind ?? 'all', clear: link.left >= left - 1 && link.right <= right + 1, hiddenEnds };
  })()`);
}

/** A paid order (2 × $12.50) about which PayPal then reports a sale of $1.00: an amount_mismatch on a paid order. */
async function paidWithMismatch(env: Awaited<ReturnType<typeof startBackofficeEnv>>) {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  const txnId = randomBytes(9).toString('hex').toUpperCase().slice(0, 17);
  env.sim.control.sendIpn(ipnFields({ txn_id: txnId, invoice: attempt.attemptId, custom: order.id, mc_gross: '1.00' }), `${env.server.url}/paypal/ipn`);
  await processedIpns(env.pool, txnId);
  return order;
}

/** Once the dialog's opening animation is over: a screenshot mid-fade shows it half transparent. */
async function settled(page: Page): Promise<void> {
  // Finite ones only: a spinner's never finishes.
  await page.evaluate(`Promise.all(document.getAnimations().filter((a) => a.effect?.getComputedTiming().iterations !== Infinity).map((a) => a.finished))`);
}

describe.skipIf(!chromiumAvailable)('issue 13 leftovers at 1024 px: search placeholder, reconciliation kinds, refund from an item', () => {
  const suite = useChromiumSuite(
    async () => {
      // Duplicates stay captured until staff refund them: the "Refund duplicate…" button is there.
      const env = await startBackofficeEnv({ AUTO_REFUND_DUPLICATES: '0' });
      const mismatched = await paidWithMismatch(env);
      const twice = await paidTwice(env);
      return Object.assign(env, { mismatched, twice });
    },
    { webBuild: true },
  );

  async function adminAt(width: number, hash: string): Promise<Page> {
    const page = await suite.newTab({ viewport: { width, height: 800 }, timezoneId: ZONE });
    page.on('pageerror', (error) => console.log('page error:', error.message));
    await page.goto(`${suite.env.server.url}/backoffice/${hash}`);
    await submitLogin(page, ADMIN);
    return page;
  }

  for (const width of [1024, 1440]) {
    it(`${width}: the search box's placeholder is read whole`, async () => {
      const page = await adminAt(width, '#/orders');
      await page.locator('[data-order-id]').first().waitFor();
      const fit = await placeholderFit(page);
      console.log(`search placeholder at ${width}`, JSON.stringify(fit));
      await suite.shot(page, `layout-orders-search-${width}`);
      // Still says what is searched (the tooltip says it in full).
      expect(fit.placeholder).toMatch(/#.*ids.*payer.*customer.*sku/);
      expect(fit.textWidth).toBeGreaterThan(0);
      expect(fit.textWidth).toBeLessThanOrEqual(fit.contentWidth);
      await page.close();
    });
  }

  it('1024: the reconciliation kinds are one row above the list, the chosen one in view', async () => {
    const page = await adminAt(1024, '#/reconciliation');
    await page.locator('.discrepancy').first().waitFor();
    await expect.poll(() => page.locator('.recon-kind[data-kind="multiple_successes"] .count').textContent()).toBe('1');
    const all = await kindsLayout(page);
    console.log('reconciliation kinds at 1024', JSON.stringify(all));
    await suite.shot(page, 'layout-reconciliation-1024');
    expect(all.tops).toHaveLength(1);
    // One line of kinds (and its scrollbar), not one per kind.
    expect(all.navHeight).toBeLessThan(2 * all.kindHeight);
    expect(all.listTop).toBeGreaterThan(all.tops[0]!);
    expect(all.page.scrollWidth).toBeLessThanOrEqual(all.page.clientWidth);
    expect(all.selectedVisible).toBe(true);
    // More kinds lie to the right, and the row says so: its right end fades (there is no scrollbar to see).
    expect(all.hiddenEnds).toBe('right');
    expect(all.mask).toMatch(/linear-gradient/);

    // Each kind is reached with Tab, scrolled clear of the fades; scrolled along, both ends fade, then only the left.
    await page.locator('.recon-kind').first().focus();
    const reached: string[] = [];
    const ends = new Set<string>();
    for (let i = 0; i <= backoffice.DISCREPANCY_KINDS.length; i++) {
      const focused = await focusedKind(page);
      expect(focused, JSON.stringify(focused)).toMatchObject({ clear: true });
      reached.push(focused.kind!);
      ends.add(focused.hiddenEnds);
      await page.keyboard.press('Tab');
    }
    expect(reached).toEqual(['all', ...backoffice.DISCREPANCY_KINDS]);
    expect([...ends]).toEqual(['right', 'left right', 'left']);
    await suite.shot(page, 'layout-reconciliation-kinds-scrolled-1024');
    await page.locator('.recon-kind').first().focus();
    await expect.poll(async () => (await kindsLayout(page)).hiddenEnds).toBe('right');

    // The last kind, chosen from the row: the row keeps it in view and the list shows that kind.
    const lastKind = backoffice.DISCREPANCY_KINDS.at(-1)!;
    await page.locator(`.recon-kind[data-kind="${lastKind}"]`).click();
    await page.waitForURL(`**#/reconciliation/${lastKind}`);
    await page.getByText('No open discrepancies of this kind.').waitFor();
    const last = await kindsLayout(page);
    expect(last.tops).toHaveLength(1);
    expect(last.selectedVisible).toBe(true);
    // Scrolled to the end: only the left end fades.
    expect(last.hiddenEnds).toBe('left');
    // Reached by URL (a reload, a link) too.
    await page.reload();
    await page.getByText('No open discrepancies of this kind.').waitFor();
    await expect.poll(async () => (await kindsLayout(page)).selectedVisible).toBe(true);
    await suite.shot(page, 'layout-reconciliation-last-kind-1024');
    await page.close();
  });

  it('1440: the reconciliation kinds stay a column beside the list', async () => {
    const page = await adminAt(1440, '#/reconciliation');
    await page.locator('.discrepancy').first().waitFor();
    const wide = await kindsLayout(page);
    console.log('reconciliation kinds at 1440', JSON.stringify(wide));
    await suite.shot(page, 'layout-reconciliation-1440');
    expect(wide.tops.length).toBeGreaterThan(10);
    expect(wide.page.scrollWidth).toBeLessThanOrEqual(wide.page.clientWidth);
    // Everything shows: nothing fades.
    expect(wide.hiddenEnds).toBe('');
    expect(wide.mask).toBe('none');
    await page.close();
  });

  it("1024: Refund… from an amount mismatch starts from the item's amount, labelled, refunds what the field says, and can be edited", async () => {
    const order = suite.env.mismatched;
    const page = await adminAt(1024, '#/reconciliation/amount_mismatch');
    const item = page.locator('.discrepancy[data-kind="amount_mismatch"]').filter({ hasText: `#${order.number}` });
    await item.waitFor();

    await item.getByRole('button', { name: 'Refund…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Refund through PayPal' });
    const amount = dialog.getByLabel('Amount (USD)');
    await expect(amount.inputValue()).resolves.toBe('1.00');
    // Labelled as the item's amount; the bound is what the order has left to refund, not the item's amount.
    await expect(dialog.textContent()).resolves.toContain("this item's amount");
    await expect(dialog.textContent()).resolves.toContain('At most $25.00 can be refunded');
    await settled(page);
    await suite.shot(page, 'layout-reconciliation-refund-1024');
    await dialog.getByLabel(/Reason/).fill('PayPal reported $1.00 for this order; giving that back');
    await dialog.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.getByText(/^Refunded \$1\.00/).waitFor();
    // The server refunded the field's $1.00, not the order's $25.00.
    let detail = await suite.env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order.refundedAmount).toBe(100);
    expect(detail.order.status).toBe('partially_refunded');

    // Again, edited: more than the order has left is refused in the dialog, an edited amount is refunded.
    await item.getByRole('button', { name: 'Refund…' }).click();
    await expect(amount.inputValue()).resolves.toBe('1.00');
    await expect(dialog.textContent()).resolves.toContain('At most $24.00 can be refunded');
    await amount.fill('30.00');
    await dialog.getByLabel(/Reason/).fill('Trying more than is left');
    await dialog.getByRole('button', { name: 'Refund', exact: true }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toContain('$24.00');
    await amount.fill('2.50');
    await dialog.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.getByText(/^Refunded \$2\.50/).waitFor();
    detail = await suite.env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order.refundedAmount).toBe(350);
    await page.close();
  });

  it('1024: Refund duplicate… from a paid-twice item names the amount it gives back: the duplicate sale, whole', async () => {
    const { order, first } = suite.env.twice;
    const page = await adminAt(1024, '#/reconciliation/multiple_successes');
    const item = page.locator(`.discrepancy[data-discrepancy-id="multiple_successes:${first.attemptId}"]`);
    await item.waitFor();
    await item.getByRole('button', { name: 'Refund duplicate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Refund the duplicate payment' });
    const amount = dialog.getByRole('group', { name: 'Amount to refund' });
    await expect(amount.textContent()).resolves.toContain('$25.00');
    await settled(page);
    await suite.shot(page, 'layout-reconciliation-refund-duplicate-1024');
    await dialog.getByLabel(/Reason/).fill('Buyer paid twice from two tabs');
    await dialog.getByRole('button', { name: 'Refund duplicate' }).click();
    await page.getByText(/^Refunded the duplicate payment of \$25\.00/).waitFor();
    const detail = await suite.env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order.status).toBe('paid');
    await page.close();
  });
});
