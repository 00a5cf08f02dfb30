import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackofficeOrderRow, Currency, Customer, OrderSearchInput } from '@orders/shared';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, waitFor } from '../support/paypal-server.ts';

let env: BackofficeTestEnv;
let viewer: StaffSession;
let all: BackofficeOrderRow[];
let paid: { orderId: string; attemptId: string; externalId: string; saleId: string; payerEmail: string };

async function orderFor(customer: Customer, unitPrice: number, currency: Currency = 'USD', quantity = 1) {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: `Thing ${sku}`, unitPrice, currency, stock: 100 });
  const cart = await env.client.carts.create.mutate({ customer });
  await env.client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity });
  return env.client.orders.create.mutate({ customer, cartId: cart.id });
}

const search = (input: OrderSearchInput) => viewer.client.backoffice.orders.search.query(input);

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  const operator = await env.staff('operator');
  const alice: Customer = { type: 'user', id: `alice-${randomUUID()}` };
  const anon: Customer = { type: 'anonymous', id: `anon-${randomUUID()}` };
  // Equal totals on purpose: sorting by total must break ties by id, across pages.
  for (const price of [1000, 2500, 2500, 2500, 4000]) await orderFor({ type: 'user', id: `c-${randomUUID()}` }, price);
  await orderFor(alice, 1500);
  await orderFor(alice, 700, 'EUR', 3);
  await orderFor(anon, 1200, 'JPY');
  await orderFor(anon, 99_000, 'JPY');

  const toPay = await orderFor(alice, 1250, 'USD', 2);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer: alice, orderId: toPay.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  const { rows } = await env.pool.query('select sale_id, payer_email from order_payment_attempt where id = $1', [attempt.attemptId]);
  paid = { orderId: toPay.id, attemptId: attempt.attemptId, externalId: attempt.externalId, saleId: rows[0].sale_id, payerEmail: rows[0].payer_email };
  await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1', [paid.saleId])).some((e) => e.processing !== 'received'), 15_000, 'the IPN');

  const toCancel = await orderFor(anon, 300, 'EUR');
  await operator.client.backoffice.orders.cancel.mutate({ orderId: toCancel.id, reason: 'customer asked us to' });
  const toFail = await orderFor(alice, 800);
  const failing = await env.client.payments.attemptToPay.mutate({ customer: alice, orderId: toFail.id });
  await buyerChooses(env, failing.externalId, 'decline');

  all = (await search({ limit: 500 })).items;
});
afterAll(() => env.close());

/** The search with `filter` answers exactly the rows of the full list that satisfy `keep`, in order. */
async function expectFilter(filter: OrderSearchInput, keep: (row: BackofficeOrderRow) => boolean) {
  const expected = all.filter(keep);
  expect(expected.length).toBeGreaterThan(0);
  const result = await search({ ...filter, limit: 500 });
  expect(result.items.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  expect(result.total).toEqual({ value: expected.length, exact: true });
}

describe('backoffice.orders.search', () => {
  it('lists every order newest first, with the latest attempt’s PayPal id and payer email', async () => {
    expect(all).toHaveLength(12);
    const times = all.map((r) => Date.parse(r.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const row = all.find((r) => r.id === paid.orderId)!;
    expect(row).toMatchObject({
      status: 'paid',
      total: 2500,
      currency: 'USD',
      refundedAmount: 0,
      paymentTransactionId: paid.saleId,
      externalId: paid.externalId,
      payerEmail: paid.payerEmail,
      paymentStatus: 'completed',
    });
    expect(row.paidAt).toMatch(/Z$/);
    expect((await search({})).total).toEqual({ value: 12, exact: true });
  });

  it('filters by one status or several', async () => {
    await expectFilter({ status: ['paid'] }, (r) => r.status === 'paid');
    await expectFilter({ status: ['cancelled', 'failed', 'paid'] }, (r) => ['cancelled', 'failed', 'paid'].includes(r.status));
    await expectFilter({ status: ['pending'] }, (r) => r.status === 'pending');
  });

  it('filters by date range [from, to)', async () => {
    const from = all[8]!.createdAt;
    const to = all[2]!.createdAt;
    await expectFilter({ createdFrom: from, createdTo: to }, (r) => r.createdAt >= from && r.createdAt < to);
  });

  it('filters by customer type and id', async () => {
    await expectFilter({ customerType: 'anonymous' }, (r) => r.customer.type === 'anonymous');
    const alice = all.find((r) => r.customer.id.startsWith('alice-'))!.customer;
    await expectFilter({ customerType: 'user', customerId: alice.id }, (r) => r.customer.id === alice.id);
    await expectFilter({ customerId: alice.id }, (r) => r.customer.id === alice.id);
  });

  it('filters by amount range and currency', async () => {
    await expectFilter({ amountMin: 1200, amountMax: 2500 }, (r) => r.total >= 1200 && r.total <= 2500);
    await expectFilter({ currency: 'JPY' }, (r) => r.currency === 'JPY');
    await expectFilter({ currency: 'USD', amountMin: 2500 }, (r) => r.currency === 'USD' && r.total >= 2500);
    // Amounts far beyond any int4 total are no database error, just nothing.
    expect((await search({ amountMin: 9_000_000_000_000 })).items).toEqual([]);
  });

  it.each([
    ['created', 'desc'],
    ['created', 'asc'],
    ['total', 'desc'],
    ['total', 'asc'],
  ] as const)('sorts by %s %s; keyset pages have no duplicates and no gaps', async (sort, direction) => {
    const whole = (await search({ sort, direction, limit: 500 })).items;
    const key = (r: BackofficeOrderRow) => (sort === 'created' ? Date.parse(r.createdAt) : r.total);
    for (let i = 1; i < whole.length; i++) {
      const [a, b] = [whole[i - 1]!, whole[i]!];
      const cmp = key(a) === key(b) ? (a.id < b.id ? -1 : 1) : key(a) < key(b) ? -1 : 1;
      expect(cmp).toBe(direction === 'asc' ? -1 : 1);
    }
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await search({ sort, direction, limit: 3, ...(cursor ? { cursor } : {}) });
      paged.push(...result.items.map((r) => r.id));
      expect(result.total.value).toBe(12);
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(paged).toEqual(whole.map((r) => r.id));
  });

  it('keyset pages of a filter stay within it', async () => {
    const first = await search({ status: ['pending', 'failed'], sort: 'total', direction: 'desc', limit: 2 });
    const second = await search({ status: ['pending', 'failed'], sort: 'total', direction: 'desc', limit: 2, cursor: first.nextCursor! });
    const expected = all.filter((r) => r.status === 'pending' || r.status === 'failed').sort((a, b) => b.total - a.total || (a.id < b.id ? 1 : -1));
    expect([...first.items, ...second.items].map((r) => r.id)).toEqual(expected.slice(0, 4).map((r) => r.id));
  });

  it('free text finds an order by its id, attempt id, PayPal payment id, sale id or payer email', async () => {
    for (const q of [paid.orderId, paid.orderId.toUpperCase(), paid.attemptId, paid.externalId, paid.externalId.toLowerCase(), paid.saleId, paid.payerEmail.toUpperCase()]) {
      const result = await search({ q });
      expect(result.items.map((r) => r.id), q).toEqual([paid.orderId]);
    }
    expect((await search({ q: 'PAY-NOTHING-LIKE-THIS' })).items).toEqual([]);
    expect((await search({ q: 'nobody@nowhere.example' })).total).toEqual({ value: 0, exact: true });
  });

  it('a cursor that was not issued for this query is BAD_REQUEST, never a 500', async () => {
    const { nextCursor } = await search({ limit: 2 });
    const decoded = JSON.parse(Buffer.from(nextCursor!, 'base64url').toString());
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const bad = [
      'not-a-cursor',
      '!!!',
      forge({ ...decoded, k: "2026-01-01 00:00:00+00'; drop table \"order\"; --" }),
      forge({ ...decoded, k: '2026-13-45 99:00:00+00' }),
      forge({ ...decoded, id: 'not-a-uuid' }),
      forge({ ...decoded, extra: 1 }),
      forge({ ...decoded, o: 'total:desc' }),
    ];
    for (const cursor of bad) {
      await expect(search({ limit: 2, cursor }), cursor).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', httpStatus: 400, field: 'cursor' } });
    }
    // A cursor of one sort used with another.
    await expect(search({ sort: 'total', cursor: nextCursor! })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });

  it('rejects malformed filters with the field named', async () => {
    await expect(search({ status: ['shipped' as never] })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'status.0' } });
    await expect(search({ createdFrom: 'yesterday' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'createdFrom' } });
    await expect(search({ limit: 501 })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'limit' } });
  });
});

describe('search as you type: fragments of any identifier', () => {
  const token = randomUUID().slice(0, 6);
  let mugs: { id: string; number: number }[];
  let special: { id: string };
  let named: { id: string };
  let payer: { name: string | null; email: string };

  /** A product of its own, one order of it (from items: the one-call checkout). */
  async function orderOf(customer: Customer, sku: string, name: string, extra: { customerEmail?: string; customerName?: string } = {}) {
    await env.client.catalog.upsertProduct.mutate({ sku, name, unitPrice: 990, currency: 'USD', stock: 100 });
    return env.client.orders.create.mutate({ customer, items: [{ sku, quantity: 1 }], ...extra });
  }

  const ids = async (input: OrderSearchInput) => (await search({ limit: 500, ...input })).items.map((r) => r.id);
  const everything = async () => (await search({ limit: 500 })).items;

  beforeAll(async () => {
    mugs = [];
    for (const [i, colour] of ['Blue', 'Red', 'Green'].entries()) {
      mugs.push(await orderOf({ type: 'user', id: `user-101${i}-${token}` }, `MUG-${token}-${i}`, `${colour} Ceramic Mug ${token}`));
    }
    named = await orderOf({ type: 'user', id: `c-${token}` }, `TEE-${token}`, `Linen Tee ${token}`, { customerEmail: `Zoe.Quimby.${token}@Shop.Example`, customerName: `Zoë Quimby ${token}` });
    special = await orderOf({ type: 'anonymous', id: `anon-${token}` }, `PCT-${token}`, `50% off_sale\\back ${token}`);
    const { rows } = await env.pool.query('select payer_name, payer_email from order_payment_attempt where id = $1', [paid.attemptId]);
    payer = { name: rows[0].payer_name, email: rows[0].payer_email };
  });

  it('order number: #1001 and 1001 by prefix, 100 as a prefix of many; one or two digits exactly', async () => {
    const rows = await everything();
    const target = rows.find((r) => r.id === mugs[0]!.id)!;
    const prefix = String(target.number).slice(0, 3);
    const expected = rows.filter((r) => String(r.number).startsWith(prefix)).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(1);
    expect(await ids({ q: prefix })).toEqual(expected);
    expect(await ids({ q: `#${prefix}` })).toEqual(expected);
    expect(await ids({ q: `#${target.number}` })).toEqual(rows.filter((r) => String(r.number).startsWith(String(target.number))).map((r) => r.id));
    expect(await ids({ q: String(target.number) })).toContain(target.id);
    // Two digits are an exact number (none so small here), not a prefix of a tenth of all orders.
    expect((await search({ q: prefix.slice(0, 2) })).total).toEqual({ value: 0, exact: true });
    // Beyond any order number, and '#0…': nothing, and no database error.
    expect(await ids({ q: '#99999999999' })).toEqual([]);
    expect(await ids({ q: '#0100' })).toEqual([]);
  });

  it('order number: the exact number comes first, before newer orders it prefixes; never twice', async () => {
    const rows = await everything();
    const target = rows.find((r) => r.id === mugs[0]!.id)!;
    const newest = rows[0]!;
    // The newest order gets a number that #target prefixes: newest first, it would be listed before #target.
    const { rows: [before] } = await env.pool.query<{ number: number }>('select number from "order" where id = $1', [newest.id]);
    await env.pool.query('update "order" set number = $2 where id = $1', [newest.id, target.number * 10 + 7]);
    try {
      expect(await ids({ q: String(target.number) })).toEqual([target.id, newest.id]);
      expect(await ids({ q: `#${target.number}` })).toEqual([target.id, newest.id]);
      // Pages of 2 then 1: each row once. (Pages of one row list them in plain date order.)
      const first = await search({ q: String(target.number), limit: 2 });
      expect(first.items.map((r) => r.id)).toEqual([target.id, newest.id]);
      const one = await search({ q: String(target.number), limit: 1 });
      const next = await search({ q: String(target.number), limit: 1, cursor: one.nextCursor! });
      expect([...one.items, ...next.items].map((r) => r.id)).toEqual([newest.id, target.id]);
      // Exact number with a cursor of a bigger page: never listed again.
      const big = await search({ q: String(target.number).slice(0, 3), limit: 3 });
      if (big.nextCursor) expect((await ids({ q: String(target.number).slice(0, 3), cursor: big.nextCursor })).filter((id) => big.items.some((r) => r.id === id))).toEqual([]);
      // A filter it fails still leaves it out.
      expect(await ids({ q: String(target.number), status: ['refunded'] })).not.toContain(target.id);
    } finally {
      await env.pool.query('update "order" set number = $2 where id = $1', [newest.id, before!.number]);
    }
  });

  it('a whole payer email is looked up exactly, any case', async () => {
    expect(await ids({ q: paid.payerEmail.toUpperCase() })).toContain(paid.orderId);
    // A whole email no payer has is still a fragment of the documents: the customer's email here.
    expect(await ids({ q: `zoe.quimby.${token}@shop.example` })).toEqual([named.id]);
  });

  it('order id: a fragment, with or without its dashes, any case', async () => {
    const id = mugs[1]!.id;
    for (const q of [id.slice(0, 8), id.slice(9, 23), id.slice(24).toUpperCase(), id.slice(4, 12)]) {
      expect(await ids({ q }), q).toContain(id);
    }
    expect(await ids({ q: id.slice(9, 23) })).toHaveLength(1);
  });

  it('PayPal payment id, sale id, payer email and payer name: prefix and infix', async () => {
    const cases = [paid.externalId.slice(0, 12), paid.externalId.slice(8, 20).toLowerCase(), paid.saleId.slice(0, 6), paid.saleId.slice(5).toLowerCase()];
    for (const q of cases) expect(await ids({ q }), q).toContain(paid.orderId);
    expect(await ids({ q: paid.externalId.slice(8, 20) })).toEqual([paid.orderId]);
    const local = payer.email.split('@')[0]!;
    expect(await ids({ q: local.slice(1).toUpperCase() })).toContain(paid.orderId);
    // The payer's name as the attempt's writers record it (PayPal's first and last name).
    await env.pool.query('update order_payment_attempt set payer_name = $2 where id = $1', [paid.attemptId, `Ada Lovelace ${token}`]);
    expect(await ids({ q: `LOVELACE ${token}` })).toEqual([paid.orderId]);
    expect(await ids({ q: `da lovel` })).toEqual([paid.orderId]);
    await env.pool.query('update order_payment_attempt set payer_name = $2 where id = $1', [paid.attemptId, payer.name]);
    expect(await ids({ q: `LOVELACE ${token}` })).toEqual([]);
  });

  it('customer id, customer email and name (as orders.create gave them)', async () => {
    expect(await ids({ q: `user-101` })).toEqual(expect.arrayContaining(mugs.map((m) => m.id)));
    expect(await ids({ q: `user-1011-${token}` })).toEqual([mugs[1]!.id]);
    expect(await ids({ q: `quimby.${token}@shop` })).toEqual([named.id]);
    expect(await ids({ q: `QUIMBY ${token}` })).toEqual([named.id]);
    expect(await ids({ q: `zoë` })).toEqual([named.id]);
  });

  it('sku and product name of the order’s lines', async () => {
    expect(await ids({ q: `mug-${token}` })).toEqual([...mugs].reverse().map((m) => m.id));
    expect(await ids({ q: `MUG-${token}-2` })).toEqual([mugs[2]!.id]);
    expect(await ids({ q: `Ceramic Mug ${token}` })).toEqual([...mugs].reverse().map((m) => m.id));
    expect(await ids({ q: `red ceramic` })).toEqual([mugs[1]!.id]);
    expect(await ids({ q: `linen tee ${token}` })).toEqual([named.id]);
  });

  it('every list filter applies together with the text, and keyset pages walk the matches', async () => {
    const q = `mug ${token}`;
    await operatorCancels(mugs[0]!.id);
    expect(await ids({ q, status: ['cancelled'] })).toEqual([mugs[0]!.id]);
    expect(await ids({ q, status: ['pending'] })).toEqual([mugs[2]!.id, mugs[1]!.id]);
    expect(await ids({ q, status: ['pending', 'cancelled'] })).toEqual([mugs[2]!.id, mugs[1]!.id, mugs[0]!.id]);
    expect(await ids({ q, customerType: 'user', customerId: `user-1011-${token}` })).toEqual([mugs[1]!.id]);
    expect(await ids({ q, currency: 'EUR' })).toEqual([]);
    expect(await ids({ q, currency: 'USD', amountMin: 990, amountMax: 990 })).toHaveLength(3);
    expect(await ids({ q, amountMin: 991 })).toEqual([]);
    const newest = (await everything()).find((r) => r.id === mugs[2]!.id)!;
    expect(await ids({ q, createdTo: newest.createdAt })).toEqual([mugs[1]!.id, mugs[0]!.id]);
    for (const [sort, direction] of [['created', 'desc'], ['created', 'asc'], ['total', 'desc']] as const) {
      const whole = await ids({ q, sort, direction });
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const result = await search({ q, sort, direction, limit: 1, ...(cursor ? { cursor } : {}) });
        expect(result.total).toEqual({ value: 3, exact: true });
        paged.push(...result.items.map((r) => r.id));
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
      }
      expect(paged).toEqual(whole);
      expect(whole).toHaveLength(3);
    }
  });

  it('% _ and \\ are literal characters, never wildcards', async () => {
    expect(await ids({ q: '50% off' })).toEqual([special.id]);
    expect(await ids({ q: 'f_sale' })).toEqual([special.id]);
    expect(await ids({ q: 'sale\\back' })).toEqual([special.id]);
    // As wildcards these would match "50% off" and every "mug" order.
    expect(await ids({ q: '50%ff' })).toEqual([]);
    expect(await ids({ q: 'ff_ale' })).toEqual([]);
    expect(await ids({ q: `m_g-${token}` })).toEqual([]);
    expect(await ids({ q: `mug%${token}` })).toEqual([]);
  });

  it('a fragment of several words is found as typed, never its words each somewhere in the order', async () => {
    // The trigram index is asked for the words only ('%mug%ceramic%'); the whole fragment decides.
    expect(await ids({ q: `mug ceramic` })).toEqual([]);
    expect(await ids({ q: `ceramic ${token}` })).toEqual([]);
    expect(await ids({ q: `blue.ceramic` })).toEqual([]);
    expect(await ids({ q: `blue ceramic` })).toEqual([mugs[0]!.id]);
    expect(await ids({ q: `ceramic mug ${token}`, sort: 'total', direction: 'desc' })).toHaveLength(3);
  });

  it('a fragment without three letters or digits in a row matches nothing, quickly', async () => {
    for (const q of ['mu', 'a', '%', '%%%', '___', '\\\\\\', '@.', 'a-b', '#']) {
      expect((await search({ q })).total, q).toEqual({ value: 0, exact: true });
    }
  });

  it('no match, and injection attempts, are only text', async () => {
    expect((await search({ q: `no-such-thing-${token}` })).total).toEqual({ value: 0, exact: true });
    for (const q of [`'; drop table "order"; --`, `%' or '1'='1`, `mug' or 1=1 --`, `$1`, `') union select * from staff_user --`]) {
      expect((await search({ q })).items, q).toEqual([]);
    }
    expect((await search({})).total.value).toBe((await env.pool.query('select count(*)::int as n from "order"')).rows[0].n);
  });

  it('the document follows the order: the PayPal ids and payer once known, and nothing else changes it', async () => {
    const { rows } = await env.pool.query('select document from order_search where order_id = $1', [paid.orderId]);
    expect(rows[0].document).toContain(paid.saleId.toLowerCase());
    expect(rows[0].document).toContain(paid.externalId.toLowerCase());
    expect(rows[0].document).toContain(payer.email.toLowerCase());
    // Every order has exactly one document.
    const missing = await env.pool.query('select count(*)::int as n from "order" o where not exists (select 1 from order_search s where s.order_id = o.id)');
    expect(missing.rows[0].n).toBe(0);
  });
});

async function operatorCancels(orderId: string) {
  const operator = await env.staff('operator');
  await operator.client.backoffice.orders.cancel.mutate({ orderId, reason: 'search test' });
}
