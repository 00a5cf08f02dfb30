import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';
import { applyPaymentOutcome } from '@orders/server/modules/payments/payment-outcome.ts';

/*
 * A sale's lock (lockSale, an advisory lock) comes before its order's row lock on every path. A refund's
 * IPN or webhook takes the sale's lock before it can find the sale's order; a capture being recorded
 * used to hold the order and then ask for the sale: each waited for the other, and PostgreSQL killed
 * one ("deadlock detected": a staff refund queued behind them answered 500). Here the notification's
 * side is played by hand, in that order, while the capture is applied through the real code.
 */

const PRICE = 2400;
let h: TestHarness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

it("a capture being recorded waits for the sale's lock before it takes the order: a refund notification holding the sale gets the order", async () => {
  const api = h.serviceCaller();
  const who = customer();
  const sku = `LOCK-${randomUUID().slice(0, 8)}`;
  await api.catalog.upsertProduct({ sku, name: 'Lock order', unitPrice: PRICE, currency: 'USD', stock: 5 });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity: 1 });
  const order = await api.orders.create({ customer: who, cartId: cart.id });
  const attemptId = randomUUID();
  await h.pool.query(
    `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, external_id)
     values ($1, now(), now(), $2, 'paypal', 'approved', $3, 'USD', $4)`,
    [attemptId, order.id, PRICE, `PAY-${attemptId}`],
  );
  const saleId = randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase();

  // The notification's transaction: the sale first (as notification-inbox takes it), held.
  const notification = await h.pool.connect();
  try {
    await notification.query('begin');
    await notification.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`sale:${saleId}`]);

    // PayPal's capture of that sale, applied meanwhile through the real path.
    const capture = h.orm.em.fork().transactional((tx) =>
      applyPaymentOutcome(tx, attemptId, { kind: 'completed', saleId, amount: PRICE, currency: 'USD' }, { type: 'paypal', id: null }),
    );
    const settled = capture.then(
      (applied) => ({ ok: true as const, result: applied.result }),
      (error: Error) => ({ ok: false as const, error: error.message }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Then the order, as the notification's applyPaymentOutcome would: free, because the capture is
    // still waiting for the sale. (Before, the capture held the order: this waited, and one of the two
    // was chosen as the deadlock's victim after deadlock_timeout.)
    await notification.query(`set local lock_timeout = '3s'`);
    const started = performance.now();
    await notification.query(`select 1 from "order" where id = $1 for no key update`, [order.id]);
    expect(performance.now() - started).toBeLessThan(1_000);
    await notification.query('commit');

    expect(await settled).toEqual({ ok: true, result: 'paid' });
  } finally {
    await notification.query('rollback').catch(() => undefined);
    notification.release();
  }
  const { rows } = await h.pool.query(`select status, payment_transaction_id from "order" where id = $1`, [order.id]);
  expect(rows[0]).toEqual({ status: 'paid', payment_transaction_id: saleId });
});
