import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBackofficeEnv } from '../support/backoffice.ts';
import { executeUnrecorded, pendingOrder, waitFor } from '../support/paypal-server.ts';
import { chromiumAvailable } from '../support/browser.ts';
import { useChromiumSuite } from './support.ts';

/*
 * Issue 8 from the buyer's side: a real Chromium on the simulator's approval page and our return
 * page. Each scenario ends with what an accountant checks: the simulator's own ledger (sales and
 * refunds of the order's PayPal payments), our order, its attempts and our money_movement ledger.
 */

if (!chromiumAvailable) console.log('buyer e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

const TOTAL = 2500; // pendingOrder: 2 × 12.50 USD

const PAID = 'Payment received';
const REPLACED = 'This payment link was replaced';
const ALREADY_PAID = 'This order is already paid';
const ORDER_CANCELLED = 'This order was cancelled';
const CANCELLED = 'Payment cancelled';

describe.skipIf(!chromiumAvailable)('buyer in Chromium: money is taken exactly once', () => {
  const suite = useChromiumSuite(() => startBackofficeEnv());

  /** A tab of its own (its own browser context, as a second window would be). */
  async function tab(): Promise<Page> {
    const page = await suite.newTab();
    page.setDefaultTimeout(30_000);
    return page;
  }

  async function openApproval(page: Page, approvalUrl: string) {
    await page.goto(approvalUrl);
    await page.getByRole('button', { name: 'Pay Now' }).waitFor();
  }

  /** The buyer presses a button on the simulator's page and lands on our status page. */
  async function press(page: Page, button: 'Pay Now' | 'Cancel and return to merchant') {
    await page.getByRole('button', { name: button }).click();
    await page.waitForURL(button === 'Pay Now' ? /\/paypal\/return\?/ : /\/paypal\/cancel\?/);
    return shown(page);
  }

  async function shown(page: Page) {
    const title = page.getByTestId('payment-title');
    await title.waitFor();
    return { title: await title.textContent(), detail: (await page.getByTestId('payment-detail').textContent()) ?? '' };
  }

  const shot = (page: Page, name: string) => suite.shot(page, `buyer-${name}`, { fullPage: true });

  /** Every IPN the simulator sent was accepted, and every one we stored has been processed. */
  async function settled() {
    await suite.env.sim.control.settleIpns();
    await waitFor(
      async () => (await suite.env.pool.query(`select 1 from payment_event where source in ('ipn', 'webhook') and processing = 'received' limit 1`)).rowCount === 0,
      30_000,
      'IPNs processed',
    );
  }

  /** What an accountant looks at for one order, on both sides. */
  async function books(orderId: string) {
    const order = (
      await suite.env.pool.query(`select status, payment_transaction_id as "saleId", refunded_amount as "refunded" from "order" where id = $1`, [orderId])
    ).rows[0] as { status: string; saleId: string | null; refunded: number };
    const attempts = (
      await suite.env.pool.query(
        `select id, external_id as "externalId", status, sale_id as "saleId", sale_state as "saleState"
           from order_payment_attempt where order_id = $1 order by created_at`,
        [orderId],
      )
    ).rows as { id: string; externalId: string; status: string; saleId: string | null; saleState: string | null }[];
    const movements = (
      await suite.env.pool.query(
        `select kind, sale_id as "saleId", amount, state, attempt_id as "attemptId" from money_movement where order_id = $1 order by created_at`,
        [orderId],
      )
    ).rows as { kind: string; saleId: string; amount: number; state: string; attemptId: string | null }[];
    const sim = suite.env.sim.control.getState();
    const ours = new Set(attempts.map((a) => a.externalId));
    const payments = sim.payments.filter((p) => ours.has(p.id));
    const sales = sim.sales.filter((s) => ours.has(s.paymentId));
    const refunds = sim.refunds.filter((r) => ours.has(r.paymentId));
    const captured = sales.filter((s) => s.state !== 'pending' && s.state !== 'denied').reduce((sum, s) => sum + s.amount, 0);
    const returned = refunds.reduce((sum, r) => sum + r.amount, 0);
    return { order, attempts, movements, payments, sales, refunds, net: captured - returned };
  }

  /** Paid exactly once, by `attemptId`'s sale: PayPal holds one sale, nothing refunded, our ledger the same. */
  async function expectPaidOnceBy(orderId: string, attemptId: string) {
    await settled();
    const b = await books(orderId);
    expect(b.sales).toHaveLength(1);
    expect(b.refunds).toEqual([]);
    expect(b.net).toBe(TOTAL);
    const paying = b.attempts.find((a) => a.id === attemptId)!;
    expect(b.sales[0]).toMatchObject({ paymentId: paying.externalId, state: 'completed', amount: TOTAL, refunded: 0 });
    expect(b.order).toEqual({ status: 'paid', saleId: b.sales[0]!.id, refunded: 0 });
    expect(paying).toMatchObject({ status: 'succeeded', saleId: b.sales[0]!.id, saleState: 'completed' });
    for (const other of b.attempts.filter((a) => a.id !== attemptId)) {
      expect(other.saleId).toBeNull();
      expect(other.status).not.toBe('succeeded');
    }
    expect(b.movements).toEqual([{ kind: 'capture', saleId: b.sales[0]!.id, amount: TOTAL, state: 'applied', attemptId }]);
    return b;
  }

  /** A refused return page: the right title, and it says nothing was charged. */
  function expectRefused(page: { title: string | null; detail: string }, title: string) {
    expect(page.title).toBe(title);
    expect(page.detail).toMatch(/nothing was charged/i);
  }

  async function twoAttempts() {
    const { customer, order } = await pendingOrder(suite.env.client);
    const first = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const second = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    return { customer, order, first, second };
  }

  describe('two tabs, two attempts, both approved', () => {
    it('A (the replaced link) first, then B: A is refused, B pays, one sale', async () => {
      const { customer, order } = await pendingOrder(suite.env.client);
      const [a, b] = [await tab(), await tab()];
      // Tab A opens PayPal; the buyer, in a second tab, starts paying again: a new attempt replaces A's.
      const first = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await openApproval(a, first.approvalUrl);
      const second = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await openApproval(b, second.approvalUrl);

      const pageA = await press(a, 'Pay Now');
      expectRefused(pageA, REPLACED);
      // The buyer is shown the order's number, never its uuid.
      expect(pageA.detail).toContain(`Order #${order.number} is pending`);
      expect(pageA.detail).not.toContain(order.id);
      await shot(a, 'link-replaced');
      await a.setViewportSize({ width: 360, height: 640 });
      await shot(a, 'link-replaced-phone');
      // Nothing executed for A's payment at PayPal, nothing written on A's attempt.
      let b1 = await books(order.id);
      expect(b1.sales).toEqual([]);
      expect(b1.payments.find((p) => p.id === first.externalId)).toMatchObject({ state: 'created', buyerDecision: 'approved' });
      expect(b1.attempts.find((x) => x.id === first.attemptId)).toMatchObject({ status: 'cancelled', saleId: null });
      expect(b1.order.status).toBe('pending');

      const pageB = await press(b, 'Pay Now');
      expect(pageB.title).toBe(PAID);
      await shot(b, 'paid');
      await b.setViewportSize({ width: 360, height: 640 });
      await shot(b, 'paid-phone');
      b1 = await expectPaidOnceBy(order.id, second.attemptId);
      expect(b1.payments.find((p) => p.id === first.externalId)?.state).toBe('created');
      expect((await suite.env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('paid');
    });

    it('B first, then A: B pays, A is told the order is already paid, one sale', async () => {
      const { customer, order, first, second } = await twoAttempts();
      const [a, b] = [await tab(), await tab()];
      await openApproval(a, first.approvalUrl);
      await openApproval(b, second.approvalUrl);

      expect((await press(b, 'Pay Now')).title).toBe(PAID);
      const pageA = await press(a, 'Pay Now');
      expectRefused(pageA, ALREADY_PAID);
      await shot(a, 'already-paid');
      const books1 = await expectPaidOnceBy(order.id, second.attemptId);
      expect(books1.payments.find((p) => p.id === first.externalId)?.state).toBe('created');
      // A reload of A's refused page changes nothing either.
      await a.reload();
      expectRefused(await shown(a), ALREADY_PAID);
      await expectPaidOnceBy(order.id, second.attemptId);
      expect((await suite.env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('paid');
    });

    it('both pressed at the same moment: one sale, the replaced tab refused', async () => {
      const { order, first, second } = await twoAttempts();
      const [a, b] = [await tab(), await tab()];
      await openApproval(a, first.approvalUrl);
      await openApproval(b, second.approvalUrl);
      const [pageA, pageB] = await Promise.all([press(a, 'Pay Now'), press(b, 'Pay Now')]);
      expect(pageB.title).toBe(PAID);
      expect([REPLACED, ALREADY_PAID]).toContain(pageA.title);
      expect(pageA.detail).toMatch(/nothing was charged/i);
      await expectPaidOnceBy(order.id, second.attemptId);
    });
  });

  it('an old link approved after a new attempt exists is refused; the new link then pays', async () => {
    const { order, first, second } = await twoAttempts();
    const page = await tab();
    await openApproval(page, first.approvalUrl);
    expectRefused(await press(page, 'Pay Now'), REPLACED);
    await settled();
    const before = await books(order.id);
    expect(before.sales).toEqual([]);
    expect(before.movements).toEqual([]);
    expect(before.order.status).toBe('pending');
    expect(before.attempts.map((a) => a.status)).toEqual(['cancelled', 'created']);

    await openApproval(page, second.approvalUrl);
    expect((await press(page, 'Pay Now')).title).toBe(PAID);
    await expectPaidOnceBy(order.id, second.attemptId);
  });

  it('back button after paying, pressing Pay Now again, forward and reload: still paid once', async () => {
    const { customer, order } = await pendingOrder(suite.env.client);
    const attempt = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await tab();
    await openApproval(page, attempt.approvalUrl);
    expect((await press(page, 'Pay Now')).title).toBe(PAID);
    const returnUrl = page.url();

    // Back to PayPal's page: either the approval page again (from the browser's cache) or PayPal's "already paid".
    await page.goBack();
    await page.waitForLoadState();
    await shot(page, 'back-at-paypal');
    const payNow = page.getByRole('button', { name: 'Pay Now' });
    if (await payNow.isVisible()) {
      // The buyer presses Pay Now again: PayPal refuses a second decision on an executed payment.
      await payNow.click();
      await page.waitForLoadState();
    }
    await expect(page.locator('body').textContent()).resolves.toMatch(/already been completed/i);

    // PayPal's refusal leads back to the shop: its link is the return approving gave, and our return
    // page shows where the payment stands.
    await shot(page, 'paypal-refused');
    await page.getByRole('link', { name: /^Return to / }).click();
    await page.waitForURL(/\/paypal\/return\?/);
    expect(page.url()).toBe(returnUrl);
    expect((await shown(page)).title).toBe(PAID);
    await page.goBack();
    await page.goForward();
    await page.waitForURL(/\/paypal\/return\?/);
    expect((await shown(page)).title).toBe(PAID);
    await page.reload();
    expect((await shown(page)).title).toBe(PAID);
    await expectPaidOnceBy(order.id, attempt.attemptId);
  });

  it('refreshing the return page again and again: one sale, "Payment received" every time', async () => {
    const { customer, order } = await pendingOrder(suite.env.client);
    const attempt = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const page = await tab();
    await openApproval(page, attempt.approvalUrl);
    expect((await press(page, 'Pay Now')).title).toBe(PAID);
    for (let i = 0; i < 4; i++) {
      await page.reload();
      const now = await shown(page);
      expect(now.title).toBe(PAID);
      expect(now.detail).toBe(`Order #${order.number} is paid.`);
    }
    // Two tabs reloading at once (the buyer copied the address into a new window).
    const other = await tab();
    await Promise.all([page.reload(), other.goto(page.url())]);
    expect((await shown(page)).title).toBe(PAID);
    expect((await shown(other)).title).toBe(PAID);
    const b = await expectPaidOnceBy(order.id, attempt.attemptId);
    // PayPal executed once: one execute answer, however many returns.
    const returns = await suite.env.pool.query(`select count(*)::int as n from payment_event where order_id = $1 and source = 'return'`, [order.id]);
    expect(returns.rows[0].n).toBeGreaterThanOrEqual(6);
    expect(b.payments.filter((p) => p.state === 'approved')).toHaveLength(1);
  });

  describe('cancel at PayPal', () => {
    it('the current link cancelled in one tab while the old link is approved in the other: nothing charged, then pays once', async () => {
      const { customer, order, first, second } = await twoAttempts();
      const [a, b] = [await tab(), await tab()];
      await openApproval(a, first.approvalUrl);
      await openApproval(b, second.approvalUrl);
      const [pageA, pageB] = await Promise.all([press(a, 'Pay Now'), press(b, 'Cancel and return to merchant')]);
      expectRefused(pageA, REPLACED);
      expect(pageB.title).toBe(CANCELLED);
      await shot(b, 'cancelled');
      await settled();
      const after = await books(order.id);
      expect(after.sales).toEqual([]);
      expect(after.movements).toEqual([]);
      expect(after.order.status).toBe('pending');
      expect(after.attempts.map((x) => x.status)).toEqual(['cancelled', 'cancelled']);

      // The shop starts over; this time the buyer pays.
      const third = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await openApproval(b, third.approvalUrl);
      expect((await press(b, 'Pay Now')).title).toBe(PAID);
      await expectPaidOnceBy(order.id, third.attemptId);
    });

    it('the old link cancelled in one tab while the new link pays in the other: paid once', async () => {
      const { order, first, second } = await twoAttempts();
      const [a, b] = [await tab(), await tab()];
      await openApproval(a, first.approvalUrl);
      await openApproval(b, second.approvalUrl);
      expect((await press(b, 'Pay Now')).title).toBe(PAID);
      const pageA = await press(a, 'Cancel and return to merchant');
      await shot(a, 'cancel-after-paid');
      // The order is paid (by the other tab); the cancelled link took nothing and says where the order stands.
      expect(pageA.detail).toBe(`Order #${order.number} is paid.`);
      const b1 = await expectPaidOnceBy(order.id, second.attemptId);
      expect(b1.attempts.find((x) => x.id === first.attemptId)?.status).toBe('cancelled');
    });

    it("approving a cancelled order's link is refused: nothing charged", async () => {
      const { order, first } = await (async () => {
        const { customer, order } = await pendingOrder(suite.env.client);
        return { order, first: await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id }) };
      })();
      const page = await tab();
      await openApproval(page, first.approvalUrl);
      // While the buyer looks at PayPal's page, the shop cancels the order.
      await suite.env.admin.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'out of stock' });
      const shownPage = await press(page, 'Pay Now');
      expectRefused(shownPage, ORDER_CANCELLED);
      await shot(page, 'order-cancelled');
      await settled();
      const b = await books(order.id);
      expect(b.sales).toEqual([]);
      expect(b.movements).toEqual([]);
      expect(b.order.status).toBe('cancelled');
      expect(b.payments[0]?.state).toBe('created');
      await page.reload();
      expectRefused(await shown(page), ORDER_CANCELLED);
      expect((await books(order.id)).sales).toEqual([]);
    });
  });

  it('a duplicate made at PayPal (old attempt executed, its answer lost, its IPN after the new one paid) is refunded in full', async () => {
    const { customer, order } = await pendingOrder(suite.env.client);
    const first = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const a = await tab();
    await openApproval(a, first.approvalUrl);
    // The buyer approves; the way back to us is lost (network), while PayPal executes the payment and
    // its answer never reaches us either. Its IPN is held back.
    let lostReturn = '';
    // (Playwright does not route the redirected request itself: PayPal's answer is fetched here, its
    // Location kept, and the browser's connection dropped.)
    await a.route('**/checkoutnow/decision', async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      lostReturn = answer.headers()['location'] ?? '';
      await route.abort('connectionreset');
    });
    await a.getByRole('button', { name: 'Pay Now' }).click();
    await waitFor(async () => lostReturn !== '', 30_000, 'the return URL');
    suite.env.sim.control.setIpnMode({ paused: true });
    const duplicateSale = (await executeUnrecorded(suite.env, lostReturn)).sale!.id;

    // The buyer tries again in another tab: a new attempt, approved, paid through our return page.
    const second = await suite.env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const b = await tab();
    await openApproval(b, second.approvalUrl);
    expect((await press(b, 'Pay Now')).title).toBe(PAID);

    // Now PayPal's IPNs arrive, the lost sale's among them.
    suite.env.sim.control.setIpnMode({ paused: false });
    suite.env.sim.control.flushIpns();
    const books1 = await waitFor(
      async () => {
        await settled();
        const now = await books(order.id);
        return now.refunds.length > 0 && now.attempts.find((x) => x.id === first.attemptId)?.saleState === 'refunded' ? now : undefined;
      },
      45_000,
      'the duplicate refunded',
    );
    await settled();
    const final = await books(order.id);
    // PayPal: two sales, the duplicate refunded whole, exactly once; the order's own sale untouched.
    expect(final.sales).toHaveLength(2);
    const own = final.sales.find((s) => s.paymentId === second.externalId)!;
    const dup = final.sales.find((s) => s.id === duplicateSale)!;
    expect(own).toMatchObject({ state: 'completed', refunded: 0, amount: TOTAL });
    expect(dup).toMatchObject({ paymentId: first.externalId, state: 'refunded', refunded: TOTAL });
    expect(final.refunds).toEqual([expect.objectContaining({ saleId: duplicateSale, amount: TOTAL })]);
    expect(final.net).toBe(TOTAL);
    // Ours: the order stays paid by its own sale, nothing refunded on it; the duplicate kept on its own attempt.
    expect(final.order).toEqual({ status: 'paid', saleId: own.id, refunded: 0 });
    expect(final.attempts.find((x) => x.id === second.attemptId)).toMatchObject({ status: 'succeeded', saleId: own.id });
    expect(final.attempts.find((x) => x.id === first.attemptId)).toMatchObject({ saleId: duplicateSale, saleState: 'refunded' });
    expect(final.attempts.find((x) => x.id === first.attemptId)?.status).not.toBe('succeeded');
    const applied = final.movements.filter((m) => m.state === 'applied');
    expect(applied).toHaveLength(3);
    expect(applied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'capture', saleId: own.id, amount: TOTAL }),
        expect.objectContaining({ kind: 'capture', saleId: duplicateSale, amount: TOTAL }),
        expect.objectContaining({ kind: 'refund', saleId: duplicateSale, amount: TOTAL }),
      ]),
    );
    expect(books1.refunds).toHaveLength(1);
    expect((await suite.env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('paid');

    // The back office lists it as a duplicate payment given back.
    const items = (await suite.env.admin.client.backoffice.reconciliation.list.query({ limit: 500 })).items.filter((d) => d.orderId === order.id);
    expect(items).toEqual([
      expect.objectContaining({
        kind: 'duplicate_refunded',
        id: `duplicate_refunded:${first.attemptId}`,
        attemptId: first.attemptId,
        orderStatus: 'paid',
        amount: TOTAL,
        detail: expect.stringContaining(duplicateSale),
      }),
    ]);

    // The first tab's buyer retries the lost return: never executed again, and told what became of
    // that payment (given back), not that it was received.
    await a.unroute('**/checkoutnow/decision');
    await a.goto(lostReturn);
    const retried = await shown(a);
    await shot(a, 'duplicate-link-after-refund');
    expect(retried.title).toBe('This payment was refunded');
    expect(retried.detail).toContain(`order #${order.number} was paid with another payment`);
    await settled();
    const again = await books(order.id);
    expect(again.sales).toHaveLength(2);
    expect(again.refunds).toHaveLength(1);
    expect(again.net).toBe(TOTAL);
  });
});
