import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';

/*
 * orders.create in one call from items (for services that keep their own cart) and order numbers
 * (#1001) for people, over HTTP through the public client.
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
});
afterAll(() => env?.close());

async function product(unitPrice: number, stock = 10, currency: 'USD' | 'EUR' = 'USD') {
  const sku = `ONE-${randomUUID().slice(0, 8)}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: `Thing ${sku}`, unitPrice, currency, stock });
  return sku;
}

const buyer = (): Customer => ({ type: 'user', id: `one-${randomUUID()}` });

async function counts() {
  const { rows } = await env.pool.query<{ carts: number; lines: number; orders: number; stock: number }>(
    `select (select count(*) from cart)::int as carts, (select count(*) from cart_line)::int as lines,
            (select count(*) from "order")::int as orders, (select coalesce(sum(stock), 0) from product)::int as stock`,
  );
  return rows[0]!;
}

describe('orders.create from items, in one call', () => {
  it('prices from the catalog, stock reserved, a frozen cart kept, the same order as the cart form', async () => {
    const [mug, tea] = [await product(1250, 10), await product(300, 5)];
    const who = buyer();
    const order = await env.client.orders.create.mutate({ customer: who, items: [{ sku: mug, quantity: 2 }, { sku: tea, quantity: 3 }] });
    expect(order).toMatchObject({ status: 'pending', total: 2 * 1250 + 3 * 300, currency: 'USD', linesFrozen: false, customer: who });
    expect(order.lines.map((l) => [l.sku, l.quantity, l.unitPrice, l.lineTotal]).sort()).toEqual(
      [[mug, 2, 1250, 2500], [tea, 3, 300, 900]].sort(),
    );
    const { rows } = await env.pool.query(
      `select c.customer_id, c.checked_out_at is not null as frozen, (select sum(stock)::int from product where sku = any($2)) as stock
         from "order" o join cart c on c.id = o.cart_id where o.id = $1`,
      [order.id, [mug, tea]],
    );
    expect(rows[0]).toEqual({ customer_id: who.id, frozen: true, stock: 10 - 2 + (5 - 3) });
    // It pays like any order: the snapshot freezes the quoted lines.
    const paid = await env.client.payments.processOrderToPaid.mutate({ orderId: order.id });
    expect(paid).toMatchObject({ status: 'paid', linesFrozen: true, total: 3400 });
    expect(await env.client.orders.get.query({ customer: who, orderId: order.id })).toMatchObject({ number: order.number, status: 'paid' });
  });

  it('bad items are refused with the field named, and nothing is left behind', async () => {
    const sku = await product(500, 3);
    const who = buyer();
    const before = await counts();
    const refusals: [unknown, string, string | undefined][] = [
      [{ customer: who, items: [{ sku, quantity: 1 }, { sku: 'NO-SUCH-SKU', quantity: 1 }] }, 'BAD_REQUEST', 'items.1.sku'],
      [{ customer: who, items: [{ sku, quantity: 1 }, { sku, quantity: 2 }] }, 'BAD_REQUEST', 'items'],
      [{ customer: who, items: [] }, 'BAD_REQUEST', 'items'],
      [{ customer: who, items: [{ sku, quantity: 0 }] }, 'BAD_REQUEST', 'items.0.quantity'],
      [{ customer: who }, 'BAD_REQUEST', 'cartId'],
      [{ customer: who, cartId: randomUUID(), items: [{ sku, quantity: 1 }] }, 'BAD_REQUEST', 'items'],
      [{ customer: who, items: [{ sku, quantity: 4 }] }, 'CONFLICT', undefined],
      [{ customer: who, items: [{ sku, quantity: 1 }, { sku: await product(100, 5, 'EUR'), quantity: 1 }] }, 'CONFLICT', 'items'],
    ];
    const afterSetup = await counts();
    for (const [input, code, field] of refusals) {
      const refused = env.client.orders.create.mutate(input as never);
      await expect(refused, JSON.stringify(input)).rejects.toMatchObject({ data: { code } });
      if (field) await expect(refused).rejects.toMatchObject({ data: { field } });
    }
    expect(await counts()).toEqual(afterSetup);
    expect(afterSetup.orders).toBe(before.orders);
  });
});

describe('order numbers', () => {
  it('sequential from #1001, returned to the service, and searchable by staff as #n or n', async () => {
    const sku = await product(100, 100);
    const who = buyer();
    const first = await env.client.orders.create.mutate({ customer: who, items: [{ sku, quantity: 1 }] });
    const second = await env.client.orders.create.mutate({ customer: who, items: [{ sku, quantity: 1 }] });
    expect(first.number).toBeGreaterThanOrEqual(1001);
    expect(second.number).toBeGreaterThan(first.number);
    const listed = await env.client.orders.list.query({ customer: who });
    expect(listed.items.map((o) => o.number)).toEqual([second.number, first.number]);
    for (const q of [`#${first.number}`, String(first.number)]) {
      const found = await viewer.client.backoffice.orders.search.query({ q });
      expect(found.items.map((o) => [o.id, o.number])).toEqual([[first.id, first.number]]);
    }
    const detail = await viewer.client.backoffice.orders.get.query({ orderId: second.id });
    expect(detail.order.number).toBe(second.number);
  });
});
