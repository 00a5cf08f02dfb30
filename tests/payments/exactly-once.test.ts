import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { executeUnrecorded, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * Issue 8, from outside: the public API, the simulator's buyer page (its redirect back to us) and
 * POST /paypal/ipn. What is asserted is what a merchant's accountant would check: the simulator's
 * own ledger (sales captured, refunds made) against our order and reconciliation.
 */

let env: BackofficeTestEnv;
let manual: BackofficeTestEnv;
let operator: StaffSession;

beforeAll(async () => {
  [env, manual] = await Promise.all([startBackofficeEnv(), startBackofficeEnv({ AUTO_REFUND_DUPLICATES: '0' })]);
  operator = await env.staff('operator');
});
afterAll(async () => {
  await env?.close();
  await manual?.close();
});

/** The simulator's truth about an order's payments: each sale and how much of it went back. */
function paypalLedger(e: BackofficeTestEnv, paymentIds: string[]) {
  const state = e.sim.control.getState();
  const sales = state.sales.filter((s) => paymentIds.includes(s.paymentId));
  return {
    sales,
    captured: sales.reduce((sum, s) => sum + s.amount, 0),
    refunded: sales.reduce((sum, s) => sum + s.refunded, 0),
  };
}

async function orderRow(e: BackofficeTestEnv, orderId: string) {
  const { rows } = await e.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string | null };
}

async function attemptRow(e: BackofficeTestEnv, attemptId: string) {
  const { rows } = await e.pool.query('select status, payer_id, sale_id, sale_state from order_payment_attempt where id = $1', [attemptId]);
  return rows[0] as { status: string; payer_id: string | null; sale_id: string | null; sale_state: string | null };
}

async function settled(e: BackofficeTestEnv, what: string) {
  await e.sim.control.settleIpns();
  await waitFor(async () => (await ipnEvents(e.pool, "processing = 'received'")).length === 0, 20_000, what);
}

/** Two attempts for one order; the first executed at PayPal with its answer lost, the second paid by the buyer. */
async function doublePaid(e: BackofficeTestEnv) {
  const { customer, order } = await pendingOrder(e.client);
  const first = await e.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const a = e.sim.control.approve(first.externalId, 'approve');
  e.sim.control.setIpnMode({ paused: true });
  const lost = await executeUnrecorded(e, a.redirectUrl);
  const second = await e.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const b = e.sim.control.approve(second.externalId, 'approve');
  const back = await fetch(b.redirectUrl, { redirect: 'manual' });
  expect(await back.text()).toContain('Payment received');
  e.sim.control.setIpnMode({ paused: false });
  e.sim.control.flushIpns();
  await settled(e, 'the lost execution’s IPN');
  return { order, customer, first, second, firstReturn: a.redirectUrl, secondReturn: b.redirectUrl, duplicateSale: lost.sale!.id, payments: [first.externalId, second.externalId] };
}

describe('one live attempt per order, at PayPal’s door', () => {
  it('two attempts approved in two tabs: one is executed, the other link says it was replaced, PayPal captured once', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const a = env.sim.control.approve(first.externalId, 'approve');
    const b = env.sim.control.approve(second.externalId, 'approve');
    const old = await fetch(a.redirectUrl, { redirect: 'manual' });
    const oldPage = await old.text();
    expect(oldPage).toContain('This payment link was replaced');
    expect(oldPage).toMatch(/nothing was charged/i);
    const current = await fetch(b.redirectUrl, { redirect: 'manual' });
    expect(await current.text()).toContain('Payment received');
    // The old link again, now that the order is paid: still not executed.
    expect(await (await fetch(a.redirectUrl, { redirect: 'manual' })).text()).toMatch(/This payment link was replaced|This order is already paid/);
    await settled(env, 'IPNs of the purchase');

    const paypal = paypalLedger(env, [first.externalId, second.externalId]);
    expect(paypal.sales).toHaveLength(1);
    expect(paypal.sales[0]!.paymentId).toBe(second.externalId);
    expect(await orderRow(env, order.id)).toMatchObject({ status: 'paid', refunded_amount: 0, payment_transaction_id: paypal.sales[0]!.id });
    expect(await attemptRow(env, first.attemptId)).toMatchObject({ status: 'cancelled', sale_id: null });
  });

  it('reload and back button on the paid link show the payment, without a second execution', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
    for (let i = 0; i < 3; i++) expect(await (await fetch(redirectUrl, { redirect: 'manual' })).text()).toContain('Payment received');
    await settled(env, 'IPNs');
    expect(paypalLedger(env, [attempt.externalId]).sales).toHaveLength(1);
    expect((await orderRow(env, order.id)).status).toBe('paid');
  });

  it('a return naming someone else’s payment without its EC token: 404, nothing recorded, nothing of the order shown, before and after it is paid', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id, returnUrl: 'http://shop.test/thanks' });
    const events = async () => (await env.pool.query(`select count(*)::int as n from payment_event where attempt_id = $1 and source in ('return', 'provider')`, [attempt.attemptId])).rows[0].n as number;
    const before = await events();
    const forge = (query: string) => fetch(`${env.server.url}/paypal/return?paymentId=${attempt.externalId}&${query}`, { redirect: 'manual' });
    const realToken = new URL(attempt.approvalUrl).searchParams.get('token')!;
    const wrongTokens = ['PayerID=ATTACKER123&token=EC-0', 'PayerID=ATTACKER123', `PayerID=ATTACKER123&token=${realToken.slice(0, -1)}`, `PayerID=ATTACKER123&token=${realToken}x`];
    for (const query of wrongTokens) {
      const forged = await forge(query);
      const page = await forged.text();
      expect(forged.status, query).toBe(404);
      expect(page, query).toContain('This link does not match any payment');
      expect(page, query).not.toContain(String(order.number));
    }
    expect(await events()).toBe(before);
    expect(await attemptRow(env, attempt.attemptId)).toMatchObject({ status: 'created', payer_id: null });
    // The real buyer still pays, through PayPal's own return URL (its EC token), and is sent to the shop.
    const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
    const back = await fetch(redirectUrl, { redirect: 'manual' });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toContain(`orderId=${order.id}`);
    expect((await orderRow(env, order.id)).status).toBe('paid');
    // Paid: the buyer's own link (a reload) still leads to the order; the payment id with her PayerID but not her token does not.
    const payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
    const reload = await fetch(redirectUrl, { redirect: 'manual' });
    expect(reload.headers.get('location')).toContain(`orderId=${order.id}`);
    const settledEvents = await events();
    for (const query of [`PayerID=${payerId}&token=EC-0`, `PayerID=${payerId}`]) {
      const forged = await forge(query);
      const page = await forged.text();
      expect(forged.status, query).toBe(404);
      expect(forged.headers.get('location'), query).toBeNull();
      expect(page, query).not.toContain(order.id);
      expect(page, query).not.toContain(String(order.number));
    }
    expect(await events()).toBe(settledEvents);
  });

  it('a cancelled order’s link is refused; a new attempt is refused while PayPal executes the current one', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
    await operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'the buyer changed their mind' });
    expect(await (await fetch(redirectUrl, { redirect: 'manual' })).text()).toContain('This order was cancelled');
    expect(paypalLedger(env, [attempt.externalId]).sales).toHaveLength(0);

    const other = await pendingOrder(env.client);
    const current = await env.client.payments.attemptToPay.mutate({ customer: other.customer, orderId: other.order.id });
    // As /paypal/return leaves it while PayPal's execute call is out.
    await env.pool.query('update order_payment_attempt set execute_started_at = now() where id = $1', [current.attemptId]);
    await expect(env.client.payments.attemptToPay.mutate({ customer: other.customer, orderId: other.order.id })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    await env.pool.query(`update order_payment_attempt set execute_started_at = now() - interval '1 hour' where id = $1`, [current.attemptId]);
    await expect(env.client.payments.attemptToPay.mutate({ customer: other.customer, orderId: other.order.id })).resolves.toMatchObject({
      externalId: expect.stringMatching(/^PAY-/),
    });
  });

  it('Cancel on an old link of an order another payment already paid: told the order is already paid, not "Payment received"', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const paid = env.sim.control.approve(second.externalId, 'approve');
    expect(await (await fetch(paid.redirectUrl, { redirect: 'manual' })).text()).toContain('Payment received');
    const { redirectUrl } = env.sim.control.approve(first.externalId, 'cancel');
    const page = await (await fetch(redirectUrl, { redirect: 'manual' })).text();
    expect(page).toContain('This order is already paid');
    expect(page).not.toContain('Payment received');
    expect(paypalLedger(env, [first.externalId, second.externalId]).sales).toHaveLength(1);
  });

  it('Cancel, Back, then Pay Now on the same PayPal page: told the buyer cancelled it (not "replaced"), nothing charged; the order pays again', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const cancel = env.sim.control.approve(attempt.externalId, 'cancel');
    await fetch(cancel.redirectUrl, { redirect: 'manual' });
    expect(await attemptRow(env, attempt.attemptId)).toMatchObject({ status: 'cancelled' });
    // Back to PayPal's page, and Pay Now: PayPal sends the buyer to the return URL of the cancelled payment.
    const back = env.sim.control.approve(attempt.externalId, 'approve');
    const page = await (await fetch(back.redirectUrl, { redirect: 'manual' })).text();
    expect(page).toContain('You cancelled this payment');
    expect(page).toContain('Nothing was charged through this link: you cancelled it at PayPal');
    expect(page).not.toContain('replaced');
    expect(paypalLedger(env, [attempt.externalId]).sales).toHaveLength(0);
    // A link replaced by a newer attempt still says so; one that expired says that.
    const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const third = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(await (await fetch(env.sim.control.approve(second.externalId, 'approve').redirectUrl, { redirect: 'manual' })).text()).toContain('This payment link was replaced');
    await env.pool.query(`update order_payment_attempt set status = 'expired', failure_reason = 'no answer from the buyer in time' where id = $1`, [third.attemptId]);
    expect(await (await fetch(env.sim.control.approve(third.externalId, 'approve').redirectUrl, { redirect: 'manual' })).text()).toContain('This payment link expired');
    // The order is still there to pay.
    const fourth = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(await (await fetch(env.sim.control.approve(fourth.externalId, 'approve').redirectUrl, { redirect: 'manual' })).text()).toContain('Payment received');
    expect(paypalLedger(env, [attempt.externalId, second.externalId, third.externalId, fourth.externalId]).sales).toHaveLength(1);
  });

  it("a caller's reported success pays neither a cancelled order nor a paid one a second time: CONFLICT, nothing changed, nothing listed", async () => {
    const items = async (orderId: string) => (await env.admin.client.backoffice.reconciliation.list.query({ limit: 500 })).items.filter((d) => d.orderId === orderId).map((d) => d.kind);
    // Cancelled by staff, then reported succeeded by a service: the buyer was later told "Payment received" for nothing charged.
    const cancelled = await pendingOrder(env.client);
    const link = await env.client.payments.attemptToPay.mutate({ customer: cancelled.customer, orderId: cancelled.order.id });
    await operator.client.backoffice.orders.cancel.mutate({ orderId: cancelled.order.id, reason: 'out of stock' });
    const report = { externalId: link.externalId, status: 'succeeded' as const, amount: cancelled.order.total, currency: cancelled.order.currency };
    await expect(env.client.payments.updateAttempt.mutate(report)).rejects.toMatchObject({ data: { code: 'CONFLICT' }, message: 'order is cancelled; it cannot become paid' });
    expect(await attemptRow(env, link.attemptId)).toMatchObject({ status: 'cancelled', sale_id: null });
    const page = await (await fetch(env.sim.control.approve(link.externalId, 'approve').redirectUrl, { redirect: 'manual' })).text();
    expect(page).toContain('This order was cancelled');
    expect(page).not.toContain('Payment received');
    expect(await items(cancelled.order.id)).toEqual([]);

    // Settled by processOrderToPaid, then the attempt reported succeeded: it was listed as paid twice.
    const settled = await pendingOrder(env.client);
    const open = await env.client.payments.attemptToPay.mutate({ customer: settled.customer, orderId: settled.order.id });
    await env.client.payments.processOrderToPaid.mutate({ orderId: settled.order.id });
    const paidReport = { externalId: open.externalId, status: 'succeeded' as const, amount: settled.order.total, currency: settled.order.currency };
    for (let i = 0; i < 2; i++) {
      await expect(env.client.payments.updateAttempt.mutate(paidReport)).rejects.toMatchObject({ data: { code: 'CONFLICT' }, message: 'order is already paid; a reported success adds no payment' });
    }
    expect(await attemptRow(env, open.attemptId)).toMatchObject({ sale_id: null, sale_state: null });
    expect(await items(settled.order.id)).not.toContain('multiple_successes');
    const { rows } = await env.pool.query(`select processing, outcome from payment_event where attempt_id = $1 and source = 'update_attempt'`, [open.attemptId]);
    expect(rows).toEqual([
      { processing: 'ignored', outcome: 'refused: order is already paid; a reported success adds no payment' },
      { processing: 'ignored', outcome: 'refused: order is already paid; a reported success adds no payment' },
    ]);
  });

  it('an order of 0.00 is not sent to PayPal (it refused with VALIDATION_ERROR, answered 502): CONFLICT naming processOrderToPaid, no attempt left', async () => {
    const free = await pendingOrder(env.client, { unitPrice: 0 });
    expect(free.order.total).toBe(0);
    await expect(env.client.payments.attemptToPay.mutate({ customer: free.customer, orderId: free.order.id })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
      message: expect.stringContaining('processOrderToPaid'),
    });
    const { rows } = await env.pool.query('select count(*)::int as n from order_payment_attempt where order_id = $1', [free.order.id]);
    expect(rows[0].n).toBe(0);
    await env.client.payments.processOrderToPaid.mutate({ orderId: free.order.id });
    expect((await orderRow(env, free.order.id)).status).toBe('paid');
  });

  it('an execution whose answer was lost is asked about before a new attempt: captured at PayPal, the order is paid and the buyer cannot pay twice', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
    env.sim.control.setIpnMode({ paused: true });
    try {
      // PayPal executed it; our call's answer never came back (timeout, crash), long enough ago.
      await executeUnrecorded(env, redirectUrl);
      await env.pool.query(`update order_payment_attempt set execute_started_at = now() - interval '1 hour' where id = $1`, [attempt.attemptId]);
      const paymentsBefore = env.sim.control.getState().payments.length;
      await expect(env.client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toMatchObject({
        data: { code: 'CONFLICT' },
        message: expect.stringMatching(/already paid \(PayPal had captured the earlier payment\)/),
      });
      // No second payment at PayPal, the order paid from the first one's sale, the question audited.
      expect(env.sim.control.getState().payments.length).toBe(paymentsBefore);
      const ledger = paypalLedger(env, [attempt.externalId]);
      expect(ledger.sales).toHaveLength(1);
      expect(await orderRow(env, order.id)).toMatchObject({ status: 'paid', payment_transaction_id: ledger.sales[0]!.id, refunded_amount: 0 });
      expect(await attemptRow(env, attempt.attemptId)).toMatchObject({ status: 'succeeded', sale_id: ledger.sales[0]!.id });
      const { rows } = await env.pool.query(`select reason from audit_entry where order_id = $1 and action = 'payment.resynced'`, [order.id]);
      expect(rows.map((r) => r.reason)).toEqual([expect.stringMatching(/no answer came/)]);
    } finally {
      env.sim.control.setIpnMode({ paused: false });
      await settled(env, 'the lost execution’s IPN');
    }
    expect(await orderRow(env, order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
  });
});

describe('a duplicate capture is given back', () => {
  it('automatically: PayPal refunds the second sale in full, the order stays paid, audited, listed as refunded', async () => {
    const made = await doublePaid(env);
    await waitFor(async () => paypalLedger(env, made.payments).refunded === 2500, 20_000, 'the automatic refund at PayPal');
    await settled(env, 'the refund’s IPN');
    const paypal = paypalLedger(env, made.payments);
    expect(paypal).toMatchObject({ captured: 5000, refunded: 2500 });
    expect(paypal.sales.find((s) => s.id === made.duplicateSale)).toMatchObject({ refunded: 2500 });
    expect(await orderRow(env, made.order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    expect(await attemptRow(env, made.first.attemptId)).toMatchObject({ sale_id: made.duplicateSale, sale_state: 'refunded' });

    const { rows: audit } = await env.pool.query(`select actor_type, after from audit_entry where order_id = $1 and action = 'payment.duplicate_refunded'`, [made.order.id]);
    expect(audit).toEqual([{ actor_type: 'system', after: expect.objectContaining({ saleId: made.duplicateSale, amount: 2500, status: 'paid' }) }]);
    const items = (await env.admin.client.backoffice.reconciliation.list.query({ limit: 500 })).items.filter((d) => d.orderId === made.order.id);
    expect(items.map((d) => d.kind)).toEqual(['duplicate_refunded']);
    expect(items[0]).toMatchObject({ attemptId: made.first.attemptId, amount: 2500 });

    // A staff re-sync of the duplicate (PayPal says its sale is refunded) reopens nothing and refunds nothing more.
    await operator.client.backoffice.payments.resync.mutate({ attemptId: made.first.attemptId, reason: 'checking' });
    expect(await attemptRow(env, made.first.attemptId)).toMatchObject({ sale_state: 'refunded' });
    const again = (await env.admin.client.backoffice.reconciliation.list.query({ limit: 500 })).items.filter((d) => d.orderId === made.order.id);
    expect(again.map((d) => d.kind)).toEqual(['duplicate_refunded']);
    expect(paypalLedger(env, made.payments)).toMatchObject({ captured: 5000, refunded: 2500 });
  });

  it('the duplicate’s own return link, reloaded once it was given back, says this payment was refunded, never that it was received', async () => {
    const made = await doublePaid(env);
    await waitFor(async () => paypalLedger(env, made.payments).refunded === 2500, 20_000, 'the automatic refund at PayPal');
    await settled(env, 'the refund’s IPN');
    const page = async (url: string) => {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(200);
      const html = await response.text();
      return {
        html,
        title: /<h1 data-testid="payment-title">([^<]*)<\/h1>/.exec(html)?.[1],
        detail: /<p data-testid="payment-detail">(.*?)<\/p>/s.exec(html)?.[1],
      };
    };
    // The buyer reloads attempt A's return page (and its status page): its sale was captured as a duplicate and refunded.
    for (const url of [made.firstReturn, `${env.server.url}/paypal/status/${made.first.attemptId}`]) {
      const shown = await page(url);
      expect(shown.title).toBe('This payment was refunded');
      expect(shown.detail).toBe(`This payment of $25.00 was refunded in full: order #${made.order.number} was paid with another payment.`);
      expect(shown.html).not.toContain('Payment received');
      expect(shown.html).not.toContain(made.order.id);
    }
    // The link that paid the order still says so; nothing more was charged or refunded by the reloads.
    const paying = await page(made.secondReturn);
    expect(paying.title).toBe('Payment received');
    expect(paying.detail).toBe(`Order #${made.order.number} is paid.`);
    expect(paypalLedger(env, made.payments)).toMatchObject({ captured: 5000, refunded: 2500 });
    expect(await orderRow(env, made.order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
  });

  it('by staff when automatic refunds are off: "Refund duplicate" refunds exactly that sale, the order keeps its own', async () => {
    const made = await doublePaid(manual);
    const open = (await manual.admin.client.backoffice.reconciliation.list.query({ kind: 'multiple_successes' })).items.find((d) => d.orderId === made.order.id);
    expect(open).toMatchObject({ attemptId: made.first.attemptId, amount: 2500, orderStatus: 'paid' });
    expect(paypalLedger(manual, made.payments).refunded).toBe(0);

    const operatorHere = await manual.staff('operator');
    await expect(
      operatorHere.client.backoffice.payments.refundDuplicate.mutate({ attemptId: made.first.attemptId, reason: 'second payment' }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    // The sale that paid the order is not a duplicate.
    await expect(
      manual.admin.client.backoffice.payments.refundDuplicate.mutate({ attemptId: made.second.attemptId, reason: 'wrong one' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT' } });

    const refund = await manual.admin.client.backoffice.payments.refundDuplicate.mutate({ attemptId: made.first.attemptId, reason: 'the buyer paid twice' });
    expect(refund).toMatchObject({ orderId: made.order.id, status: 'paid', refundedAmount: 0, amount: 2500, currency: 'USD' });
    await settled(manual, 'the refund’s IPN');
    const paypal = paypalLedger(manual, made.payments);
    expect(paypal.sales.find((s) => s.id === made.duplicateSale)).toMatchObject({ refunded: 2500 });
    expect(paypal.sales.find((s) => s.id !== made.duplicateSale)).toMatchObject({ refunded: 0 });
    expect(await orderRow(manual, made.order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    await expect(
      manual.admin.client.backoffice.payments.refundDuplicate.mutate({ attemptId: made.first.attemptId, reason: 'again' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
    const kinds = (await manual.admin.client.backoffice.reconciliation.list.query({ limit: 500 })).items.filter((d) => d.orderId === made.order.id).map((d) => d.kind);
    expect(kinds).toEqual(['duplicate_refunded']);

    // Refunding the order afterwards refunds the order's own sale, not the duplicate again.
    await manual.admin.client.backoffice.payments.refund.mutate({ orderId: made.order.id, reason: 'returned the goods' });
    await settled(manual, 'the order refund’s IPN');
    expect(paypalLedger(manual, made.payments)).toMatchObject({ captured: 5000, refunded: 5000 });
    expect(await orderRow(manual, made.order.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 });
  });
});

describe('what a service asserts is checked against PayPal', () => {
  it('an order marked paid by processOrderToPaid, with no PayPal sale, is listed as paid without a PayPal sale', async () => {
    const { customer, order } = await pendingOrder(env.client);
    await env.client.payments.processOrderToPaid.mutate({ orderId: order.id });
    expect((await env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('paid');
    const items = (await env.admin.client.backoffice.reconciliation.list.query({ kind: 'paid_without_paypal_sale' })).items;
    expect(items.find((d) => d.orderId === order.id)).toMatchObject({ id: `paid_without_paypal_sale:${order.id}`, amount: 2500, orderStatus: 'paid' });
    // A PayPal-paid order is not.
    const paid = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer: paid.customer, orderId: paid.order.id });
    await fetch(env.sim.control.approve(attempt.externalId, 'approve').redirectUrl, { redirect: 'manual' });
    const after = (await env.admin.client.backoffice.reconciliation.list.query({ kind: 'paid_without_paypal_sale' })).items;
    expect(after.some((d) => d.orderId === paid.order.id)).toBe(false);
  });
});
