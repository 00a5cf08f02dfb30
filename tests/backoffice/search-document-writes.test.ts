import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, waitFor } from '../support/paypal-server.ts';

/*
 * What keeping the search document current costs a payment (issue 10: IPN processing got slower).
 * Every write of an order's document is recorded by a trigger of this test's own on order_search,
 * so the count is exact (pg_stat_user_tables' n_tup_upd is flushed late and counts every order).
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  await env.pool.query(`
    create table test_search_writes (order_id uuid not null, op text not null);
    create function test_search_writes_fn() returns trigger as $$
      begin insert into test_search_writes values (new.order_id, tg_op); return null; end; $$ language plpgsql;
    create trigger test_search_writes after insert or update on order_search for each row execute function test_search_writes_fn();`);
});
afterAll(() => env.close());

async function writes(orderId: string): Promise<number> {
  const { rows } = await env.pool.query<{ n: number }>('select count(*)::int as n from test_search_writes where order_id = $1', [orderId]);
  return rows[0]!.n;
}

async function newOrder(customer: Customer) {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: `Lamp ${sku}`, unitPrice: 1800, currency: 'USD', stock: 10 });
  const cart = await env.client.carts.create.mutate({ customer });
  await env.client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: 1 });
  return env.client.orders.create.mutate({ customer, cartId: cart.id });
}

describe('search document writes', () => {
  it('a payment’s success rewrites the document once, and the order is still found by its payer and sale id', async () => {
    const customer: Customer = { type: 'user', id: `writes-${randomUUID()}` };
    const order = await newOrder(customer);
    expect(await writes(order.id)).toBe(1); // the insert
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const beforeSuccess = await writes(order.id);

    await buyerChooses(env, attempt.externalId, 'approve');
    const paid = await waitFor(async () => {
      const { rows } = await env.pool.query('select status, payment_transaction_id, payer_email from "order" where id = $1', [order.id]);
      return rows[0].status === 'paid' && rows[0];
    }, 15_000, 'the order paid');
    const { rows } = await env.pool.query('select sale_id, payer_email, payer_name from order_payment_attempt where id = $1', [attempt.attemptId]);
    const sale = rows[0];
    // The order copies the paying attempt's sale id and payer: the document has them once, from the attempt.
    expect(paid.payment_transaction_id).toBe(sale.sale_id);
    expect(paid.payer_email).toBe(sale.payer_email);
    await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1', [sale.sale_id])).some((e) => e.processing !== 'received'), 15_000, 'the IPN');

    expect(await writes(order.id)).toBe(beforeSuccess + 1);

    for (const q of [sale.sale_id, sale.sale_id.slice(3, 12).toLowerCase(), sale.payer_email, sale.payer_email.slice(1, 9), sale.payer_name.slice(2), attempt.externalId]) {
      const result = await viewer.client.backoffice.orders.search.query({ q, limit: 50 });
      expect(result.items.map((r) => r.id), q).toContain(order.id);
    }
  });

  it('a status change does not touch the document', async () => {
    const customer: Customer = { type: 'user', id: `writes-${randomUUID()}` };
    const order = await newOrder(customer);
    const operator = await env.staff('operator');
    await operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'customer asked us to' });
    const { rows } = await env.pool.query('select status from "order" where id = $1', [order.id]);
    expect(rows[0].status).toBe('cancelled');
    expect(await writes(order.id)).toBe(1);
  });
});
