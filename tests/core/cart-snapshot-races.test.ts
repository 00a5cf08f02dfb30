import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';
import { sleep } from '../support/timing.ts';

/*
 * orders.create and carts.setItem are one statement each: its snapshot is taken before it waits for the
 * cart's row lock. A change committed to the cart while it waits must not be missed — here the change
 * is made by hand inside a transaction holding the cart's lock, committed while the call waits.
 */

let h: TestHarness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

/** Runs `change` in a transaction that holds the cart's row lock while `call` starts and waits for it. */
async function whileCallWaits<T>(cartId: string, call: () => Promise<T>, change: (q: (text: string, values: unknown[]) => Promise<unknown>) => Promise<void>) {
  const client = await h.pool.connect();
  try {
    await client.query('begin');
    await client.query('select 1 from cart where id = $1 for update', [cartId]);
    const pending = call();
    // The call's statement is now blocked on the cart lock (its snapshot already taken).
    for (let i = 0; i < 50; i++) {
      const { rows } = await h.pool.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
      if (rows[0].n > 0) break;
      await sleep(20);
    }
    await change((text, values) => client.query(text, values));
    await client.query('commit');
    return await pending;
  } finally {
    client.release();
  }
}

it('orders.create waiting on the cart sees a quantity changed meanwhile: total and reserved stock follow the new lines', async () => {
  const api = h.serviceCaller();
  const who = customer();
  await api.catalog.upsertProduct({ sku: 'RACE-Q', name: 'Racy', unitPrice: 1000, currency: 'EUR', stock: 10 });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'RACE-Q', quantity: 1 });
  const order = await whileCallWaits(cart.id, () => api.orders.create({ customer: who, cartId: cart.id }), async (q) => {
    await q(`update cart_line set quantity = 3 where cart_id = $1`, [cart.id]);
    await q(`update cart set updated_at = now() where id = $1`, [cart.id]);
  });
  expect(order.total).toBe(3000);
  expect(order.lines).toMatchObject([{ sku: 'RACE-Q', quantity: 3, lineTotal: 3000 }]);
  const { rows } = await h.pool.query(`select stock from product where sku = 'RACE-Q'`);
  expect(rows[0].stock).toBe(7);
});

it('carts.setItem waiting on the cart sees a line added meanwhile: a second currency is refused, the cart stays in one', async () => {
  const api = h.serviceCaller();
  const who = customer();
  await api.catalog.upsertProduct({ sku: 'RACE-USD', name: 'Dollar thing', unitPrice: 500, currency: 'USD', stock: 10 });
  await api.catalog.upsertProduct({ sku: 'RACE-JPY', name: 'Yen thing', unitPrice: 500, currency: 'JPY', stock: 10 });
  const cart = await api.carts.create({ customer: who });
  const refused = whileCallWaits(cart.id, () => api.carts.setItem({ customer: who, cartId: cart.id, sku: 'RACE-JPY', quantity: 1 }), async (q) => {
    await q(`insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity) values (gen_random_uuid(), now(), now(), $1, 'RACE-USD', 1)`, [cart.id]);
    await q(`update cart set updated_at = now() where id = $1`, [cart.id]);
  });
  await expect(refused).rejects.toMatchObject({ code: 'CONFLICT' });
  const { rows } = await h.pool.query(`select sku from cart_line where cart_id = $1`, [cart.id]);
  expect(rows).toEqual([{ sku: 'RACE-USD' }]);
});

it('a second orders.create of one cart waiting on the first: CONFLICT, one order, stock taken once', async () => {
  const api = h.serviceCaller();
  const who = customer();
  await api.catalog.upsertProduct({ sku: 'RACE-TWICE', name: 'Twice', unitPrice: 700, currency: 'EUR', stock: 5 });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'RACE-TWICE', quantity: 2 });
  const results = await Promise.allSettled([1, 2, 3].map(() => api.orders.create({ customer: who, cartId: cart.id })));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
  const { rows } = await h.pool.query(`select stock from product where sku = 'RACE-TWICE'`);
  expect(rows[0].stock).toBe(3);
});
