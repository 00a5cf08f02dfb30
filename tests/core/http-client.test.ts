import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CUSTOMER_SCOPES, createOrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { TABLES } from '@orders/server/testing/harness.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';

/* The real server on a loopback port, and the published client over real HTTP. */

const SERVICE_KEY = 'test-service-key-0123456789abcdef';
const ADMIN = { email: 'Admin@Example.com', password: 'correct horse battery staple' };

let db: TestDatabase;
let server: RunningServer;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
  });
  server = await startServer(config);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined); // connections cut when the database is dropped at the end
});

afterAll(async () => {
  await server?.close();
  await pool?.end();
  await db?.drop();
});

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from "${table}"`);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

/** Resolves to the rejection, so its fields can be matched; fails if the call succeeded. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected an error, got ${JSON.stringify(value).slice(0, 200)}`);
    },
    (error: unknown) => error,
  );
}

describe('over HTTP with createOrdersClient', () => {
  it('the README example: a product, a cart, an item, an order, read back', async () => {
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const alice = { type: 'user', id: 'alice' } as const;

    await orders.catalog.upsertProduct.mutate({ sku: 'MUG-1', name: 'Mug', unitPrice: 1250, currency: 'USD', stock: 10 });
    const cart = await orders.carts.create.mutate({ customer: alice });
    await orders.carts.setItem.mutate({ customer: alice, cartId: cart.id, sku: 'MUG-1', quantity: 2 });
    const order = await orders.orders.create.mutate({ customer: alice, cartId: cart.id });
    const readBack = await orders.orders.get.query({ customer: alice, orderId: order.id });

    expect(readBack).toMatchObject({ id: order.id, status: 'pending', total: 2500, currency: 'USD' });
    expect(readBack.lines).toEqual([{ sku: 'MUG-1', name: 'Mug', quantity: 2, unitPrice: 1250, lineTotal: 2500, currency: 'USD' }]);
  });

  it('GET /healthz answers 200', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', uptimeSeconds: expect.any(Number) });
  });

  it('no tRPC answer may be cached: a query, a batch, a mutation and a refusal all say no-store', async () => {
    const trpc = `${server.url}/trpc`;
    const auth = { authorization: `Bearer ${SERVICE_KEY}` };
    const customer = { type: 'anonymous', id: 'cache-check' };
    const created = await fetch(`${trpc}/carts.create`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ customer }) });
    const cartId = ((await created.clone().json()) as { result: { data: { id: string } } }).result.data.id;
    const input = encodeURIComponent(JSON.stringify({ customer, cartId }));
    const batch = encodeURIComponent(JSON.stringify({ 0: { customer, cartId }, 1: { customer, cartId } }));
    const answers = [
      await fetch(`${trpc}/carts.get?input=${input}`, { headers: auth }),
      await fetch(`${trpc}/carts.get,carts.get?batch=1&input=${batch}`, { headers: auth }),
      created,
      await fetch(`${trpc}/carts.get?input=${input}`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 401]);
    expect(answers.map((r) => r.headers.get('cache-control'))).toEqual(['no-store', 'no-store', 'no-store', 'no-store']);
  });

  it('batches queries made in the same tick into one request; one failing query fails alone', async () => {
    const setup = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const bob = { type: 'anonymous', id: 'bob' } as const;
    await setup.catalog.upsertProduct.mutate({ sku: 'BATCH-1', name: 'Batch', unitPrice: 700, currency: 'EUR', stock: 10 });
    const cart = await setup.carts.create.mutate({ customer: bob });
    await setup.carts.setItem.mutate({ customer: bob, cartId: cart.id, sku: 'BATCH-1', quantity: 1 });
    const order = await setup.orders.create.mutate({ customer: bob, cartId: cart.id });

    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY, fetch: counting });
    const [got, list, toPay, missing] = await Promise.allSettled([
      orders.orders.get.query({ customer: bob, orderId: order.id }),
      orders.orders.list.query({ customer: bob }),
      orders.orders.getToPay.query({ orderId: order.id }),
      orders.carts.get.query({ customer: { type: 'user', id: 'bob' }, cartId: cart.id }),
    ]);

    expect(requests).toHaveLength(1);
    expect(requests[0]).toContain('batch=1');
    expect(got).toMatchObject({ status: 'fulfilled', value: { id: order.id, total: 700 } });
    expect(list).toMatchObject({ status: 'fulfilled', value: { total: 1, items: [{ id: order.id }] } });
    expect(toPay).toMatchObject({ status: 'fulfilled', value: { id: order.id, status: 'pending' } });
    expect(missing).toMatchObject({ status: 'rejected', reason: { data: { code: 'NOT_FOUND', httpStatus: 404 } } });
  });
});

describe('credentials over HTTP', () => {
  const who = { type: 'user', id: 'credentials' } as const;

  it('no key → UNAUTHORIZED (401)', async () => {
    const before = await rowCounts();
    const anonymous = createOrdersClient({ url: server.trpcUrl });
    expect(await rejection(anonymous.carts.create.mutate({ customer: who }))).toMatchObject({
      data: { code: 'UNAUTHORIZED', httpStatus: 401 },
    });
    const response = await fetch(`${server.trpcUrl}/carts.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: who }),
    });
    expect(response.status).toBe(401);
    expect(await rowCounts()).toEqual(before);
  });

  it('a wrong key, or a header that is not a bearer token → 401', async () => {
    const before = await rowCounts();
    const wrong = createOrdersClient({ url: server.trpcUrl, apiKey: `${SERVICE_KEY}-not-quite` });
    expect(await rejection(wrong.carts.create.mutate({ customer: who }))).toMatchObject({
      data: { code: 'UNAUTHORIZED', httpStatus: 401 },
    });
    for (const authorization of [`Basic ${SERVICE_KEY}`, `Bearer ${'k'.repeat(600)}`, 'Bearer']) {
      const response = await fetch(`${server.trpcUrl}/carts.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ customer: who }),
      });
      expect(response.status, authorization.slice(0, 20)).toBe(401);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('a key with only orders:read calling carts.create → FORBIDDEN (403)', async () => {
    const { key } = await server.services.staff.createApiKey('read-only', ['orders:read']);
    const before = await rowCounts();
    const readOnly = createOrdersClient({ url: server.trpcUrl, apiKey: key });
    expect(await rejection(readOnly.carts.create.mutate({ customer: who }))).toMatchObject({
      data: { code: 'FORBIDDEN', httpStatus: 403 },
    });
    // What the scope does allow still works.
    expect(await readOnly.orders.list.query({ customer: who })).toMatchObject({ total: 0 });
    expect(await rowCounts()).toEqual(before);
  });

  it('a disabled key → 401', async () => {
    const { id, key } = await server.services.staff.createApiKey('soon-disabled', [...CUSTOMER_SCOPES]);
    const client = createOrdersClient({ url: server.trpcUrl, apiKey: key });
    await client.carts.create.mutate({ customer: who });
    await server.services.staff.setApiKeyDisabled(id, true);
    const before = await rowCounts();
    expect(await rejection(client.carts.create.mutate({ customer: who }))).toMatchObject({
      data: { code: 'UNAUTHORIZED', httpStatus: 401 },
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('a staff session token from auth.login calling a service procedure → FORBIDDEN (403)', async () => {
    const session = await createOrdersClient({ url: server.trpcUrl }).auth.login.mutate({
      email: ADMIN.email.toLowerCase(),
      password: ADMIN.password,
    });
    expect(session.staff).toMatchObject({ email: 'admin@example.com', role: 'admin' });
    const staff = createOrdersClient({ url: server.trpcUrl, apiKey: session.token });
    const before = await rowCounts();
    expect(await rejection(staff.carts.create.mutate({ customer: who }))).toMatchObject({
      data: { code: 'FORBIDDEN', httpStatus: 403 },
    });
    expect(await rejection(staff.orders.list.query({ customer: who }))).toMatchObject({
      data: { code: 'FORBIDDEN', httpStatus: 403 },
    });
    expect(await rowCounts()).toEqual(before);
  });
});

describe('bad requests over HTTP', () => {
  const carol = { type: 'user', id: 'carol' } as const;

  it('bad input → 400 with data.field naming the field, and nothing stored', async () => {
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const cart = await orders.carts.create.mutate({ customer: carol });
    const before = await rowCounts();
    const error = await rejection(orders.carts.setItem.mutate({ customer: carol, cartId: cart.id, sku: 'MUG-1', quantity: -1 }));
    expect(error).toMatchObject({ data: { code: 'BAD_REQUEST', httpStatus: 400, field: 'quantity' } });
    expect((error as Error).message).toMatch(/^quantity: /);

    const response = await fetch(`${server.trpcUrl}/catalog.upsertProduct`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_KEY}` },
      body: JSON.stringify({ sku: 'BAD-1', name: 'Bad', unitPrice: 12.5, currency: 'USD', stock: 1 }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; data: { code: string; field: string } } };
    expect(body.error.data).toMatchObject({ code: 'BAD_REQUEST', field: 'unitPrice' });
    expect(body.error.message).toContain('unitPrice');
    expect(await rowCounts()).toEqual(before);
  });

  it('a domain refusal names its field too: an empty cart → 400, field cartId', async () => {
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const cart = await orders.carts.create.mutate({ customer: carol });
    const before = await rowCounts();
    expect(await rejection(orders.orders.create.mutate({ customer: carol, cartId: cart.id }))).toMatchObject({
      data: { code: 'BAD_REQUEST', httpStatus: 400, field: 'cartId' },
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('malformed JSON → 400, not a 500', async () => {
    const before = await rowCounts();
    const response = await fetch(`${server.trpcUrl}/carts.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_KEY}` },
      body: '{"customer": {"type": "user", "id": "carol"',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'carts.create' } } });
    expect(await rowCounts()).toEqual(before);
  });

  it('an oversized body (> 1 MiB) → 413, and nothing stored', async () => {
    const before = await rowCounts();
    const body = JSON.stringify({ sku: 'HUGE-1', name: 'x'.repeat(1024 * 1024 + 100), unitPrice: 100, currency: 'USD', stock: 1 });
    const response = await fetch(`${server.trpcUrl}/catalog.upsertProduct`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_KEY}` },
      body,
    });
    expect(response.status).toBe(413);

    // The typed client surfaces the same refusal as an error, not a hang or a success.
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const error = await rejection(
      orders.catalog.upsertProduct.mutate({ sku: 'HUGE-2', name: 'x'.repeat(1024 * 1024 + 100), unitPrice: 100, currency: 'USD', stock: 1 }),
    );
    expect(error).toMatchObject({ name: 'TRPCClientError' });
    expect((error as { meta?: { response?: Response } }).meta?.response?.status).toBe(413);
    // With tRPC's code and a message, like any other refusal (it was "Unable to transform response from server", no code).
    expect(error).toMatchObject({ message: 'Request body is too large', data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, path: 'catalog.upsertProduct' } });
    // A batch gets one error per call, the shape a batching client reads.
    const batch = await fetch(`${server.trpcUrl}/catalog.upsertProduct,catalog.upsertProduct?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_KEY}` },
      body: JSON.stringify({ 0: { pad: 'x'.repeat(1024 * 1024) }, 1: {} }),
    });
    expect(batch.status).toBe(413);
    expect(((await batch.json()) as { error: { data: { code: string } } }[]).map((item) => item.error.data.code)).toEqual(['PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE']);

    expect(await rowCounts()).toEqual(before);
    const { rows } = await pool.query(`select 1 from product where sku like 'HUGE-%'`);
    expect(rows).toEqual([]);
    // The server is still fine afterwards.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
