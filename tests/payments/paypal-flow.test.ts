import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyerChooses, ipnEvents, pendingOrder, startPaypalTestEnv, waitFor, type PaypalTestEnv } from '../support/paypal-server.ts';

let env: PaypalTestEnv;
beforeAll(async () => {
  env = await startPaypalTestEnv();
});
afterAll(() => env.close());

async function orderRow(orderId: string) {
  const { rows } = await env.pool.query(
    'select status, payment_transaction_id, total, refunded_amount, payment_status from "order" where id = $1',
    [orderId],
  );
  return rows[0];
}

async function countWhere(sql: string, params: unknown[]) {
  const { rows } = await env.pool.query(sql, params);
  return Number(rows[0].n);
}

describe('PayPal purchase end to end', () => {
  it('order → attempt → approve in the simulator → return → paid with snapshot; the IPN changes nothing more', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(attempt.externalId).toMatch(/^PAY(ID)?-/);
    expect(attempt.approvalUrl).toContain(`${env.sim.pagesUrl}/cgi-bin/webscr?cmd=_express-checkout&token=EC-`);

    // The approval page a buyer would see renders the order total.
    const page = await fetch(attempt.approvalUrl).then((r) => r.text());
    expect(page).toContain('25.00');

    const { response, body } = await buyerChooses(env, attempt.externalId, 'approve');
    expect(response.status).toBe(200);
    expect(body).toContain('Payment received');

    const paid = await env.client.orders.get.query({ customer, orderId: order.id });
    expect(paid.status).toBe('paid');
    expect(paid.linesFrozen).toBe(true);
    expect(paid.paymentTransactionId).toMatch(/^[A-Z0-9]{17}$/);
    expect(paid.lines.reduce((sum, l) => sum + l.lineTotal, 0)).toBe(paid.total);

    // PayPal's IPN for the same sale arrives after: processed, but it pays nothing twice.
    const events = await waitFor(async () => {
      const list = await ipnEvents(env.pool, 'txn_id = $1', [paid.paymentTransactionId]);
      return list.length > 0 && list.every((e) => e.processing !== 'received') ? list : undefined;
    }, 15_000, 'the IPN to be processed');
    expect(events[0]).toMatchObject({ verification: 'verified', processing: 'processed' });
    expect(await countWhere(`select count(*) as n from audit_entry where order_id = $1 and action = 'order.paid'`, [order.id])).toBe(1);
    expect(await countWhere('select count(*) as n from order_line where order_id = $1', [order.id])).toBe(1);
  });

  it('redirects to the caller’s returnUrl with the order id and status', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({
      customer,
      orderId: order.id,
      returnUrl: 'https://shop.example/thanks?x=1',
      cancelUrl: 'https://shop.example/cart',
    });
    const { response } = await buyerChooses(env, attempt.externalId, 'approve');
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('https://shop.example/thanks');
    expect(location.searchParams.get('orderId')).toBe(order.id);
    expect(location.searchParams.get('status')).toBe('paid');
  });

  it('decline → attempt and order failed, stock released → a new attempt pays', async () => {
    const { customer, order, sku } = await pendingOrder(env.client, { stock: 5 });
    const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const declined = await buyerChooses(env, first.externalId, 'decline');
    expect(declined.body).toContain('Payment failed');
    expect((await orderRow(order.id)).status).toBe('failed');
    const { rows: stock } = await env.pool.query('select stock from product where sku = $1', [sku]);
    expect(stock[0].stock).toBe(5);
    const { rows: failedAttempt } = await env.pool.query('select status, failure_reason from order_payment_attempt where id = $1', [first.attemptId]);
    expect(failedAttempt[0].status).toBe('failed');
    expect(failedAttempt[0].failure_reason).toContain('INSTRUMENT_DECLINED');

    const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, second.externalId, 'approve');
    expect((await orderRow(order.id)).status).toBe('paid');
    const { rows: after } = await env.pool.query('select stock from product where sku = $1', [sku]);
    expect(after[0].stock).toBe(3);
  });

  it('cancel at PayPal marks the attempt cancelled and leaves the order payable', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { body } = await buyerChooses(env, attempt.externalId, 'cancel');
    expect(body).toContain('Payment cancelled');
    const { rows } = await env.pool.query('select status from order_payment_attempt where id = $1', [attempt.attemptId]);
    expect(rows[0].status).toBe('cancelled');
    expect((await orderRow(order.id)).status).toBe('pending');
  });

  it('a new attempt supersedes the open one', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { rows } = await env.pool.query('select status from order_payment_attempt where id = $1', [first.attemptId]);
    expect(rows[0].status).toBe('cancelled');
  });

  it('refuses paid, cancelled and foreign orders', async () => {
    const { customer, order } = await pendingOrder(env.client);
    await expect(
      env.client.payments.attemptToPay.mutate({ customer: { type: 'anonymous', id: customer.id }, orderId: order.id }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await env.client.payments.processOrderToPaid.mutate({ orderId: order.id });
    await expect(env.client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
  });

  it('pending sale: the return says PayPal is reviewing it (no second payment needed), the Completed IPN then pays', async () => {
    const { customer, order } = await pendingOrder(env.client);
    env.sim.control.setPendingSales(true);
    try {
      const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      const { body } = await buyerChooses(env, attempt.externalId, 'approve');
      expect(body).toContain('PayPal is reviewing your payment');
      expect(body).toContain('you do not need to pay again');
      expect(body).toContain('<meta http-equiv="refresh" content="30;');
      expect((await orderRow(order.id)).status).toBe('pending');
      const { rows } = await env.pool.query('select sale_id, sale_state from order_payment_attempt where id = $1', [attempt.attemptId]);
      expect(rows[0].sale_state).toBe('pending');
      env.sim.control.completePendingSale(rows[0].sale_id);
      await waitFor(async () => (await orderRow(order.id)).status === 'paid', 15_000, 'the order to be paid by IPN');
      // The status page now says so.
      const status = await fetch(`${env.server.url}/paypal/status/${attempt.attemptId}`).then((r) => r.text());
      expect(status).toContain('Payment received');
    } finally {
      env.sim.control.setPendingSales(false);
    }
  });

  it('a sale PayPal holds blocks a second payment: no new attempt, its cancel URL cancels nothing; one capture in the end', async () => {
    const { customer, order } = await pendingOrder(env.client);
    env.sim.control.setPendingSales(true);
    try {
      const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await buyerChooses(env, attempt.externalId, 'approve');
      const { rows } = await env.pool.query('select sale_id, sale_state, status from order_payment_attempt where id = $1', [attempt.attemptId]);
      expect(rows[0].sale_state).toBe('pending');
      // Paying again while PayPal holds the first sale would capture twice once it completes.
      await expect(env.client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toMatchObject({
        data: { code: 'CONFLICT' },
        message: expect.stringContaining('pending at PayPal'),
      });
      // The cancel URL of that attempt (its EC token) does not end it, and never says nothing was charged.
      const token = new URL(attempt.approvalUrl).searchParams.get('token')!;
      const cancel = await fetch(`${env.server.url}/paypal/cancel?attemptId=${attempt.attemptId}&token=${token}`, { redirect: 'manual' });
      expect(await cancel.text()).not.toContain('othing was charged');
      const after = await env.pool.query('select status from order_payment_attempt where order_id = $1', [order.id]);
      expect(after.rows.map((r) => r.status)).toEqual([rows[0].status]);
      env.sim.control.completePendingSale(rows[0].sale_id);
      await waitFor(async () => (await orderRow(order.id)).status === 'paid', 15_000, 'the order to be paid by IPN');
      expect(env.sim.control.getState().sales.filter((sale) => sale.paymentId === attempt.externalId && sale.state === 'completed')).toHaveLength(1);
    } finally {
      env.sim.control.setPendingSales(false);
    }
  });

  it('zero-decimal currency: a JPY total goes to PayPal as "1500" and is paid', async () => {
    const { customer, order } = await pendingOrder(env.client, { unitPrice: 750, currency: 'JPY', quantity: 2 });
    expect(order.total).toBe(1500);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { rows } = await env.pool.query(`select raw_create -> 'transactions' -> 0 -> 'amount' ->> 'total' as total from order_payment_attempt where id = $1`, [
      attempt.attemptId,
    ]);
    expect(rows[0].total).toBe('1500');
    await buyerChooses(env, attempt.externalId, 'approve');
    expect((await orderRow(order.id)).status).toBe('paid');
  });
});

describe('PayPal failures', () => {
  it('5xx on create: a clear error, the attempt failed, the order untouched; a retry works', async () => {
    const { customer, order } = await pendingOrder(env.client);
    env.sim.control.failNext({ count: 1, status: 500, path: '/v1/payments/payment' });
    await expect(env.client.payments.attemptToPay.mutate({ customer, orderId: order.id })).rejects.toMatchObject({
      data: { code: 'SERVICE_UNAVAILABLE' },
      message: expect.stringContaining('INTERNAL_SERVICE_ERROR'),
    });
    const { rows } = await env.pool.query('select status from order_payment_attempt where order_id = $1', [order.id]);
    expect(rows.map((r) => r.status)).toEqual(['failed']);
    expect((await orderRow(order.id)).status).toBe('pending');
    const retry = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, retry.externalId, 'approve');
    expect((await orderRow(order.id)).status).toBe('paid');
  });

  it('5xx on execute: the buyer sees “reload”, the reload pays', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    env.sim.control.failNext({ count: 1, status: 503, path: `/v1/payments/payment/${attempt.externalId}/execute` });
    const first = await buyerChooses(env, attempt.externalId, 'approve');
    expect(first.response.status).toBe(502);
    expect(first.body).toContain('reload');
    expect((await orderRow(order.id)).status).toBe('pending');
    const reload = await fetch(first.redirectUrl, { redirect: 'manual' });
    expect(await reload.text()).toContain('Payment received');
    expect((await orderRow(order.id)).status).toBe('paid');
  });

  it('PayPal’s own error bodies are kept with their debug id', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'decline');
    const { rows } = await env.pool.query(
      `select payload from payment_event where attempt_id = $1 and source = 'provider' and provider_status = 'failed'`,
      [attempt.attemptId],
    );
    expect(rows[0].payload).toMatchObject({ name: 'INSTRUMENT_DECLINED', httpStatus: 400 });
    expect(rows[0].payload.debugId).toBeTruthy();
  });
});

describe('payments.updateAttempt', () => {
  it('amount mismatch → PRECONDITION_FAILED, recorded, order untouched; a matching success pays', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 1, currency: 'USD' }),
    ).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 2500, currency: 'EUR' }),
    ).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    expect((await orderRow(order.id)).status).toBe('pending');
    expect(
      await countWhere(`select count(*) as n from payment_event where attempt_id = $1 and source = 'update_attempt' and processing = 'flagged'`, [
        attempt.attemptId,
      ]),
    ).toBe(2);
    const ok = await env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 2500, currency: 'USD' });
    expect(ok).toMatchObject({ status: 'succeeded', orderStatus: 'paid', changed: true });
    const again = await env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 2500, currency: 'USD' });
    expect(again.changed).toBe(false);
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'failed', amount: 2500, currency: 'USD' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
  });

  it('unknown external id → NOT_FOUND', async () => {
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: 'PAY-NOPE', status: 'succeeded', amount: 1, currency: 'USD' }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });
});
