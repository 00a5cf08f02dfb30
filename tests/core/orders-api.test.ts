import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';

let h: TestHarness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

async function productWithStock(sku: string, stock = 10, unitPrice = 1250) {
  return h.serviceCaller().catalog.upsertProduct({ sku, name: `Product ${sku}`, unitPrice, currency: 'USD', stock });
}

async function orderFor(who = customer(), sku = `SKU-${Math.random().toString(36).slice(2, 8)}`, quantity = 2) {
  const api = h.serviceCaller();
  await productWithStock(sku);
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity });
  const order = await api.orders.create({ customer: who, cartId: cart.id });
  return { api, who, sku, cart, order };
}

describe('catalog.upsertProduct', () => {
  it('inserts, then updates by sku', async () => {
    const api = h.serviceCaller();
    const created = await api.catalog.upsertProduct({ sku: 'UP-1', name: 'Cup', unitPrice: 500, currency: 'EUR', stock: 3 });
    const updated = await api.catalog.upsertProduct({ sku: 'UP-1', name: 'Cup v2', unitPrice: 550, currency: 'EUR', stock: 7 });
    expect(updated.id).toBe(created.id);
    expect(updated).toMatchObject({ name: 'Cup v2', unitPrice: 550, stock: 7 });
    const { rows } = await h.pool.query(`select count(*)::int as n from product where sku = 'UP-1'`);
    expect(rows[0].n).toBe(1);
  });
});

describe('carts', () => {
  it('creates a cart, sets, changes and removes items priced from the catalog', async () => {
    const api = h.serviceCaller();
    const who = customer('anonymous');
    await productWithStock('CART-A', 5, 300);
    await productWithStock('CART-B', 5, 1000);
    const cart = await api.carts.create({ customer: who });
    expect(cart).toMatchObject({ customer: who, lines: [], subtotal: 0, checkedOut: false });
    expect(cart.id).toMatch(/^[0-9a-f-]{36}$/);
    await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CART-A', quantity: 2 });
    await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CART-B', quantity: 1 });
    await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CART-A', quantity: 3 });
    let got = await api.carts.get({ customer: who, cartId: cart.id });
    expect(got.lines.map((l) => [l.sku, l.quantity, l.lineTotal])).toEqual([
      ['CART-A', 3, 900],
      ['CART-B', 1, 1000],
    ]);
    expect(got.subtotal).toBe(1900);
    await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CART-B', quantity: 0 });
    got = await api.carts.get({ customer: who, cartId: cart.id });
    expect(got.lines.map((l) => l.sku)).toEqual(['CART-A']);
  });

  it('refuses a second currency in one cart', async () => {
    const api = h.serviceCaller();
    const who = customer();
    await productWithStock('CUR-USD');
    await api.catalog.upsertProduct({ sku: 'CUR-JPY', name: 'Yen thing', unitPrice: 1500, currency: 'JPY', stock: 5 });
    const cart = await api.carts.create({ customer: who });
    await api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CUR-USD', quantity: 1 });
    await expect(api.carts.setItem({ customer: who, cartId: cart.id, sku: 'CUR-JPY', quantity: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('orders', () => {
  it('creates a pending order, reserves stock and freezes the cart', async () => {
    const { api, who, sku, cart, order } = await orderFor();
    expect(order).toMatchObject({ status: 'pending', total: 2500, currency: 'USD', paymentTransactionId: null, linesFrozen: false });
    const { rows } = await h.pool.query('select stock from product where sku = $1', [sku]);
    expect(rows[0].stock).toBe(8);
    await expect(api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(api.orders.create({ customer: who, cartId: cart.id })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('gets an order with its timestamps and lines', async () => {
    const { api, who, order } = await orderFor();
    const got = await api.orders.get({ customer: who, orderId: order.id });
    expect(got).toMatchObject({ id: order.id, status: 'pending', total: 2500, currency: 'USD' });
    expect(got.lines).toHaveLength(1);
    expect(new Date(got.createdAt).toISOString()).toBe(got.createdAt);
  });

  it('lists a user’s and an anonymous customer’s orders newest first, paged', async () => {
    const api = h.serviceCaller();
    const user = customer('user', 'shared-id-list');
    const anon = customer('anonymous', 'shared-id-list');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await orderFor(user)).order.id);
    await orderFor(anon);
    const page1 = await api.orders.list({ customer: user, page: 1, pageSize: 2 });
    const page3 = await api.orders.list({ customer: user, page: 3, pageSize: 2 });
    expect(page1).toMatchObject({ page: 1, pageSize: 2, total: 5 });
    expect(page1.items.map((o) => o.id)).toEqual([ids[4], ids[3]]);
    expect(page3.items.map((o) => o.id)).toEqual([ids[0]]);
    const anonList = await api.orders.list({ customer: anon, page: 1, pageSize: 10 });
    expect(anonList.total).toBe(1);
  });

  it('getToPay returns an unpaid order and CONFLICT once paid', async () => {
    const { api, order } = await orderFor();
    const toPay = await api.orders.getToPay({ orderId: order.id });
    expect(toPay).toMatchObject({ id: order.id, total: 2500, currency: 'USD', status: 'pending' });
    expect(toPay.lines[0]).toMatchObject({ quantity: 2, unitPrice: 1250 });
    await api.payments.processOrderToPaid({ orderId: order.id });
    await expect(api.orders.getToPay({ orderId: order.id })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses an empty cart with BAD_REQUEST naming the cart', async () => {
    const api = h.serviceCaller();
    const who = customer();
    const cart = await api.carts.create({ customer: who });
    await expect(api.orders.create({ customer: who, cartId: cart.id })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('ownership', () => {
  it('another user and an anonymous customer with the same id string get NOT_FOUND', async () => {
    const owner = customer('user', 'same-id');
    const { api, cart, order } = await orderFor(owner);
    for (const intruder of [customer('user', 'someone-else'), customer('anonymous', 'same-id')]) {
      await expect(api.orders.get({ customer: intruder, orderId: order.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(api.carts.get({ customer: intruder, cartId: cart.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(api.carts.setItem({ customer: intruder, cartId: cart.id, sku: 'X', quantity: 1 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(api.orders.create({ customer: intruder, cartId: cart.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const list = await api.orders.list({ customer: intruder, page: 1, pageSize: 50 });
      expect(list.items.map((o) => o.id)).not.toContain(order.id);
    }
  });
});

describe('payments.processOrderToPaid', () => {
  it('freezes the lines; later product changes change nothing; a second call changes nothing', async () => {
    const { api, who, sku, order } = await orderFor();
    const first = await api.payments.processOrderToPaid({ orderId: order.id });
    expect(first).toMatchObject({ status: 'paid', changed: true, linesFrozen: true });
    expect(first.lines).toEqual([{ sku, name: `Product ${sku}`, unitPrice: 1250, quantity: 2, lineTotal: 2500, currency: 'USD' }]);

    await api.catalog.upsertProduct({ sku, name: 'Renamed', unitPrice: 9999, currency: 'USD', stock: 1 });
    const after = await api.orders.get({ customer: who, orderId: order.id });
    expect(after.lines).toEqual(first.lines);
    expect(after.total).toBe(2500);

    const before = await h.rowCounts();
    const second = await api.payments.processOrderToPaid({ orderId: order.id });
    expect(second).toMatchObject({ status: 'paid', changed: false });
    expect(await h.rowCounts()).toEqual(before);
    const { rows } = await h.pool.query(`select count(*)::int as n from audit_entry where order_id = $1 and action = 'order.paid'`, [
      order.id,
    ]);
    expect(rows[0].n).toBe(1);
  });
});

describe('auth.login', () => {
  it('returns a session token that authenticates as staff, and refuses a wrong password', async () => {
    await h.services.staff.ensureStaff('Admin@Example.com', 'correct horse battery', 'admin');
    const api = h.caller();
    const session = await api.auth.login({ email: 'admin@example.com', password: 'correct horse battery' });
    expect(session.staff).toMatchObject({ email: 'admin@example.com', role: 'admin' });
    expect(new Date(session.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const principal = await h.services.staff.authenticate(session.token);
    expect(principal).toMatchObject({ kind: 'staff', role: 'admin' });
    const { rows } = await h.pool.query('select token_hash from staff_session');
    expect(rows.map((r) => r.token_hash)).not.toContain(session.token);
    await expect(api.auth.login({ email: 'admin@example.com', password: 'wrong password!' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(api.auth.login({ email: 'nobody@example.com', password: 'whatever123' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});
