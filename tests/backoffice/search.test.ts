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
