import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';
import { sleep } from '../support/timing.ts';

let h: TestHarness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());


async function stockOf(sku: string): Promise<number> {
  const { rows } = await h.pool.query<{ stock: number }>('select stock from product where sku = $1', [sku]);
  return rows[0]!.stock;
}

async function cartWith(who: Customer, lines: [sku: string, quantity: number][]): Promise<string> {
  const api = h.serviceCaller();
  const cart = await api.carts.create({ customer: who });
  for (const [sku, quantity] of lines) await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity });
  return cart.id;
}

async function placeOrder(who: Customer, sku: string): Promise<string> {
  const cartId = await cartWith(who, [[sku, 1]]);
  return (await h.serviceCaller().orders.create({ customer: who, cartId })).id;
}

describe('the last unit in stock', () => {
  it.each([1, 2, 3, 4])('round %i: 8 customers check out at once; one order, seven CONFLICTs, stock 0', async (round) => {
    const sku = `LAST-${round}`;
    await h.serviceCaller().catalog.upsertProduct({ sku, name: 'Last one', unitPrice: 4200, currency: 'EUR', stock: 1 });
    const buyers = Array.from({ length: 8 }, () => customer(round % 2 ? 'user' : 'anonymous'));
    // Every cart holds the unit before anyone checks out: setItem only compares with current stock.
    const carts = await Promise.all(buyers.map((who) => cartWith(who, [[sku, 1]])));

    const results = await Promise.allSettled(
      buyers.map((who, i) => h.serviceCaller().orders.create({ customer: who, cartId: carts[i]! })),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect(r.reason).toMatchObject({ code: 'CONFLICT' });
    expect(await stockOf(sku)).toBe(0);

    const { rows: orders } = await h.pool.query<{ cart_id: string; total: number }>(
      'select cart_id, total from "order" where cart_id = any($1::uuid[])',
      [carts],
    );
    expect(orders).toHaveLength(1);
    expect(orders[0]!.total).toBe(4200);
    // The losers' transactions rolled back whole: their carts are still open and unquoted.
    const { rows: open } = await h.pool.query<{ n: number }>(
      `select count(*)::int as n from cart c join cart_line l on l.cart_id = c.id
        where c.id = any($1::uuid[]) and c.checked_out_at is null and l.quoted_unit_price is null`,
      [carts],
    );
    expect(open[0]!.n).toBe(7);
    const { rows: audit } = await h.pool.query<{ n: number }>(
      `select count(*)::int as n from audit_entry a join "order" o on o.id = a.order_id
        where o.cart_id = any($1::uuid[]) and a.action = 'order.created'`,
      [carts],
    );
    expect(audit[0]!.n).toBe(1);
  });

  it('two checkouts of the same cart at once: one order, one CONFLICT', async () => {
    await h.serviceCaller().catalog.upsertProduct({ sku: 'TWICE', name: 'Twice', unitPrice: 100, currency: 'USD', stock: 10 });
    const who = customer();
    const cartId = await cartWith(who, [['TWICE', 2]]);
    const results = await Promise.allSettled([1, 2].map(() => h.serviceCaller().orders.create({ customer: who, cartId })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
    expect(await stockOf('TWICE')).toBe(8);
  });

  it('processOrderToPaid raced 8 times: paid once, one snapshot, one audit entry', async () => {
    await h.serviceCaller().catalog.upsertProduct({ sku: 'RACE-PAY', name: 'Race', unitPrice: 999, currency: 'USD', stock: 5 });
    const orderId = await placeOrder(customer(), 'RACE-PAY');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => h.serviceCaller().payments.processOrderToPaid({ orderId })),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ status: 'paid', total: 999, linesFrozen: true });
    const { rows } = await h.pool.query<{ lines: number; paid: number }>(
      `select (select count(*)::int from order_line where order_id = $1) as lines,
              (select count(*)::int from audit_entry where order_id = $1 and action = 'order.paid') as paid`,
      [orderId],
    );
    expect(rows[0]).toEqual({ lines: 1, paid: 1 });
    expect(await stockOf('RACE-PAY')).toBe(4);
  });
});

describe('orders.list paging while orders keep arriving', () => {
  const pager = customer('user', 'pager');
  const PAGE = 7;

  beforeAll(async () => {
    await h.serviceCaller().catalog.upsertProduct({ sku: 'PAGE-1', name: 'Page', unitPrice: 100, currency: 'USD', stock: 100_000 });
    // 60 orders, a few at a time: created_at ties are possible and must be broken by id.
    for (let i = 0; i < 60; i += 6) await Promise.all(Array.from({ length: 6 }, () => placeOrder(pager, 'PAGE-1')));
  });

  async function idsNewestFirst(): Promise<string[]> {
    const { rows } = await h.pool.query<{ id: string }>(
      `select id from "order" where customer_type = $1 and customer_id = $2 order by created_at desc, id desc`,
      [pager.type, pager.id],
    );
    return rows.map((r) => r.id);
  }

  it('walks every order that existed when paging started exactly once, and never a new one', async () => {
    const api = h.serviceCaller();
    const existing = await idsNewestFirst();
    expect(existing.length).toBeGreaterThanOrEqual(60);

    const first = await api.orders.list({ customer: pager, pageSize: PAGE });
    const created: string[] = [];
    let stop = false;
    const creator = (async () => {
      while (!stop) created.push(await placeOrder(pager, 'PAGE-1'));
    })();

    const seen = first.items.map((o) => o.id);
    const totals = [first.total];
    let cursor = first.nextCursor;
    let pages = 1;
    try {
      while (cursor) {
        // At least one new order lands between any two pages.
        const target = created.length + 1;
        for (let waited = 0; created.length < target; waited += 5) {
          if (waited > 10_000) throw new Error('the concurrent creator made no progress');
          await sleep(5);
        }
        const page = await api.orders.list({ customer: pager, pageSize: PAGE, cursor });
        expect(page.items.length).toBeLessThanOrEqual(PAGE);
        seen.push(...page.items.map((o) => o.id));
        totals.push(page.total);
        cursor = page.nextCursor;
        pages++;
        if (pages > 100) throw new Error('paging does not end');
      }
    } finally {
      stop = true;
      await creator;
    }

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(existing);
    for (const id of created) expect(seen).not.toContain(id);
    expect(created.length).toBeGreaterThanOrEqual(pages - 1);
    // `total` is a live count, so it grew while the walk itself stayed put.
    expect(totals.at(-1)).toBeGreaterThan(totals[0]!);
  });

  it('without a cursor, `page` is an offset and the result keeps its original { items, page, pageSize, total } shape', async () => {
    const api = h.serviceCaller();
    const all = await idsNewestFirst();
    const page2 = await api.orders.list({ customer: pager, page: 2, pageSize: PAGE });
    expect(page2).toEqual({
      items: expect.any(Array),
      page: 2,
      pageSize: PAGE,
      total: all.length,
      nextCursor: expect.any(String),
    });
    expect(page2.items.map((o) => o.id)).toEqual(all.slice(PAGE, 2 * PAGE));
    expect(page2.items[0]).toMatchObject({ customer: pager, status: 'pending', total: 100, currency: 'USD' });
    expect(page2.items[0]).not.toHaveProperty('lines');

    const lastPage = Math.ceil(all.length / PAGE);
    const tail = await api.orders.list({ customer: pager, page: lastPage, pageSize: PAGE });
    expect(tail.items.map((o) => o.id)).toEqual(all.slice((lastPage - 1) * PAGE));
    const beyond = await api.orders.list({ customer: pager, page: lastPage + 1, pageSize: PAGE });
    expect(beyond).toMatchObject({ items: [], page: lastPage + 1, total: all.length, nextCursor: null });

    // Defaults: page 1, 20 a page.
    const defaults = await api.orders.list({ customer: pager });
    expect(defaults).toMatchObject({ page: 1, pageSize: 20, total: all.length });
    expect(defaults.items.map((o) => o.id)).toEqual(all.slice(0, 20));
  });
});

describe('multi-line carts in opposite sku orders', () => {
  const SKUS = ['DL-A', 'DL-B', 'DL-C', 'DL-D', 'DL-E'];

  it.each([1, 2, 3])('round %i: 8 carts, half forwards and half backwards, all check out; stock adds up', async () => {
    for (const sku of SKUS) {
      await h.serviceCaller().catalog.upsertProduct({ sku, name: sku, unitPrice: 250, currency: 'GBP', stock: 1000 });
    }
    const before = await Promise.all(SKUS.map(stockOf));
    const buyers = Array.from({ length: 8 }, () => customer());
    const carts = await Promise.all(
      buyers.map((who, i) => {
        const order = i % 2 === 0 ? SKUS : [...SKUS].reverse();
        return cartWith(who, order.map((sku, n): [string, number] => [sku, n + 1]));
      }),
    );

    const results = await Promise.allSettled(
      buyers.map((who, i) => h.serviceCaller().orders.create({ customer: who, cartId: carts[i]! })),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    expect(failures).toEqual([]);

    // Forward carts take 1..5 of A..E, backward carts 5..1: 4 of each.
    const after = await Promise.all(SKUS.map(stockOf));
    const taken = before.map((b, i) => b - after[i]!);
    expect(taken).toEqual(SKUS.map((_, i) => 4 * (i + 1) + 4 * (SKUS.length - i)));
  });
});
