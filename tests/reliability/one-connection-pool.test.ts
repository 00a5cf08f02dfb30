import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestPoolCounts } from '@orders/server/db/orm.ts';
import { startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { buyerChooses, newCustomer, processedIpns } from '../support/paypal-server.ts';

/*
 * No path holds a request connection while it waits for another: with DATABASE_POOL_MAX=1 the
 * server still takes an order to paid through PayPal, refunds a line with restock, runs the sweep and
 * answers the back office, many of them at once. A path that nested a second checkout of the pool
 * inside a first would wait for itself here for ever; under load, with every connection held that
 * way, it would on any pool size. (Measured when this was written: the payments, back-office, core and
 * reliability suites, 458 tests, all pass on a pool of one.)
 */

let env: BackofficeTestEnv;
beforeAll(async () => {
  env = await startBackofficeEnv({ DATABASE_POOL_MAX: '1' });
});
afterAll(() => env.close());

const today = () => new Date().toISOString().slice(0, 10);

it('one request connection: payment, IPN, line refund with restock, the sweep and the back office, side by side', { timeout: 60_000 }, async () => {
  expect((await requestPoolCounts(env.server.orm)).max).toBe(1);
  const tag = randomUUID().slice(0, 8);
  const sku = `CUP-${tag}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: 'Cup', unitPrice: 900, currency: 'EUR', stock: 20 });
  const pay = async () => {
    const customer = newCustomer();
    const order = await env.client.orders.create.mutate({ customer, items: [{ sku, quantity: 2 }] });
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    return order;
  };
  // Four buyers at once, while staff read.
  const [orders] = await Promise.all([
    Promise.all(Array.from({ length: 4 }, pay)),
    env.admin.client.backoffice.dashboard.query({ from: today(), to: today() }),
    env.admin.client.backoffice.orders.search.query({ q: 'cup' }),
    env.admin.client.backoffice.reconciliation.list.query({}),
  ]);
  const { rows: sales } = await env.pool.query<{ payment_transaction_id: string }>(`select payment_transaction_id from "order" where id = any($1::uuid[])`, [orders.map((o) => o.id)]);
  await Promise.all(sales.map((s) => processedIpns(env.pool, s.payment_transaction_id)));

  // Line refunds, notes, the sweep and every read at once.
  const [refunds] = await Promise.all([
    Promise.all(orders.slice(0, 2).map((o) => env.admin.client.backoffice.payments.refundLines.mutate({ orderId: o.id, lines: [{ sku, quantity: 1 }], restock: true, reason: 'one cup back' }))),
    env.admin.client.backoffice.orders.addNote.mutate({ orderId: orders[2]!.id, body: 'called the buyer' }),
    env.server.services.refunds.resumeInterrupted({ olderThanMs: 0 }),
    env.server.services.payments.expireStaleAttempts(60),
    env.admin.client.backoffice.orders.get.query({ orderId: orders[3]!.id }),
    env.admin.client.backoffice.dashboard.query({ from: today(), to: today() }),
    env.admin.client.backoffice.orders.search.query({ q: tag.slice(0, 5).toUpperCase() }),
    env.admin.client.backoffice.reconciliation.summary.query(),
  ]);
  expect(refunds).toHaveLength(2);

  const { rows: after } = await env.pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from "order" where id = any($1::uuid[]) group by status order by status`, [orders.map((o) => o.id)]);
  expect(after).toEqual([
    { status: 'paid', n: 2 },
    { status: 'partially_refunded', n: 2 },
  ]);
  const { rows: stock } = await env.pool.query<{ stock: number }>('select stock from product where sku = $1', [sku]);
  expect(stock[0]!.stock).toBe(20 - 8 + 2);
  const detail = await env.admin.client.backoffice.orders.get.query({ orderId: orders[2]!.id });
  expect(detail.notes.map((n) => n.body)).toEqual(['called the buyer']);
});

describe('DATABASE_POOL_WAIT_SECONDS', () => {
  let busy: BackofficeTestEnv;
  beforeAll(async () => {
    busy = await startBackofficeEnv({ DATABASE_POOL_MAX: '1', DATABASE_POOL_WAIT_SECONDS: '1' });
  });
  afterAll(() => busy.close());

  it('every connection taken for longer than the wait: a request is refused with 503 "busy" (pg would wait for ever), and served again once one is free', { timeout: 30_000 }, async () => {
    await expect(busy.admin.client.backoffice.orders.search.query({ limit: 1 })).resolves.toBeTruthy();
    const held = busy.server.orm.em.fork().getConnection().execute('select pg_sleep(4)');
    await expect.poll(async () => (await requestPoolCounts(busy.server.orm)).idle, { timeout: 5_000 }).toBe(0);
    const started = Date.now();
    await expect(busy.admin.client.backoffice.orders.search.query({ limit: 1 })).rejects.toMatchObject({
      message: 'the server is busy: no database connection came free in time; try again',
      data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await held;
    await expect(busy.admin.client.backoffice.orders.search.query({ limit: 1 })).resolves.toBeTruthy();
  });
});
