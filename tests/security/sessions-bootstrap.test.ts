import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { createOrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { createLogger } from '@orders/server/logger.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { SESSION_CHECK_INTERVAL_MS } from '@orders/server/trpc/init.ts';
import { hashPassword, hashSecret } from '@orders/server/modules/staff/credentials.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { openSse, type SseStream } from '../support/sse.ts';

const SERVICE_KEY = 'sessions-bootstrap-key-0123456789abc';
const ADMIN = 'boot-admin@sessions.example';
const ADMIN_PASSWORD = 'bootstrap-admin-password-1';
const PASSWORD = 'member-password-0123456789';

let db: TestDatabase;
let server: RunningServer;
let pool: pg.Pool;
const env = (extra: Record<string, string> = {}) =>
  loadConfig({ DATABASE_URL: db.url, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, BOOTSTRAP_ADMIN_EMAIL: ADMIN, BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, LOGIN_RATE_LIMIT: '0', ...extra });
const start = async (extra: Record<string, string> = {}) => (server = await startServer(env(extra), { logger: createLogger('silent') }));

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await start();
});
afterAll(async () => {
  await pool?.end();
  await server?.close();
  await db?.drop();
});

async function member(role: 'viewer' | 'admin' = 'viewer'): Promise<{ email: string; token: string; staffId: string }> {
  const email = `${role}-${randomUUID().slice(0, 8)}@sessions.example`;
  const created = await server.services.staff.ensureStaff(email, PASSWORD, role);
  return { email, token: (await server.services.staff.login(email, PASSWORD)).token, staffId: created.id };
}

/** A pending order for one unit of `sku`, through a cart. */
async function pendingOrder(apiKey: string, sku: string): Promise<{ id: string }> {
  const client = createOrdersClient({ url: server.trpcUrl, apiKey });
  const customer = { type: 'user' as const, id: `buyer-${randomUUID()}` };
  await client.catalog.upsertProduct.mutate({ sku, name: sku, unitPrice: 700, currency: 'USD', stock: 10 });
  const cart = await client.carts.create.mutate({ customer });
  await client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: 1 });
  return client.orders.create.mutate({ customer, cartId: cart.id });
}

async function liveStream(token: string): Promise<SseStream> {
  const stream = await openSse(`${server.trpcUrl}/backoffice.events.onChange`, { authorization: `Bearer ${token}` });
  await stream.next((e) => e.event === 'connected');
  return stream;
}

/** Waits (bounded) for the stream to end; returns how long that took and whether it said UNAUTHORIZED. */
async function endOf(stream: SseStream, since: number): Promise<{ ms: number; unauthorized: boolean }> {
  const bound = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 8 * SESSION_CHECK_INTERVAL_MS + 5_000).unref());
  const outcome = await Promise.race([stream.ended.then(() => 'ended' as const), bound]);
  expect(outcome).toBe('ended');
  return { ms: performance.now() - since, unauthorized: stream.events.some((e) => e.event === 'serialized-error' && e.data.includes('UNAUTHORIZED')) };
}

describe('live streams end with their session', () => {
  it('logout, expiry and a disabled member each end their stream within seconds; a colleague’s stream stays and keeps receiving', async () => {
    const admin = await member('admin');
    const bystander = await member();
    const bystanderStream = await liveStream(bystander.token);
    const cases: [string, (m: { token: string; staffId: string }) => Promise<unknown>][] = [
      ['logout', (m) => createOrdersClient({ url: server.trpcUrl, apiKey: m.token }).auth.logout.mutate()],
      ['expiry', (m) => pool.query(`update staff_session set expires_at = now() - interval '1 second' where token_hash = $1`, [hashSecret(m.token)])],
      ['member disabled', (m) => createOrdersClient({ url: server.trpcUrl, apiKey: admin.token }).backoffice.staff.setDisabled.mutate({ staffId: m.staffId, disabled: true })],
    ];
    for (const [what, end] of cases) {
      const m = await member();
      const stream = await liveStream(m.token);
      const since = performance.now();
      await end(m);
      const { ms, unauthorized } = await endOf(stream, since);
      console.log(`stream after ${what}: ended in ${ms.toFixed(0)} ms (checked every ${SESSION_CHECK_INTERVAL_MS} ms)`);
      expect(unauthorized, `${what}: ${JSON.stringify(stream.events)}`).toBe(true);
      // Nothing was delivered to it after its session ended (it saw only connection events).
      expect(stream.events.filter((e) => e.event !== 'connected' && e.event !== 'ping' && e.event !== 'serialized-error')).toEqual([]);
    }
    // The colleague's stream is still open and still gets changes.
    const order = await pendingOrder(SERVICE_KEY, 'LIVE-1');
    await bystanderStream.next((e) => e.data.includes(order.id), 10_000);
    bystanderStream.close();
  });
});

describe('payments:settle', () => {
  it('the bootstrap key has every scope; each settle call that changes something is audited with its name; a customer key is refused and leaves no entry', async () => {
    const client = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const order = await pendingOrder(SERVICE_KEY, 'SETTLE-1');
    const customerKey = (await server.services.staff.createApiKey('storefront')).key;
    await expect(createOrdersClient({ url: server.trpcUrl, apiKey: customerKey }).payments.processOrderToPaid.mutate({ orderId: order.id })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    const audited = async () =>
      (await pool.query<{ after: { apiKeyName: string; procedure: string } }>(`select after from audit_entry where action = 'payments.settle_call' and order_id = $1 order by created_at`, [order.id])).rows;
    expect(await audited()).toEqual([]);
    await client.payments.processOrderToPaid.mutate({ orderId: order.id });
    expect((await audited()).map((r) => [r.after.apiKeyName, r.after.procedure])).toEqual([['bootstrap', 'payments.processOrderToPaid']]);
    // An idempotent repeat changes nothing, the audit trail included.
    expect(await client.payments.processOrderToPaid.mutate({ orderId: order.id })).toMatchObject({ changed: false });
    expect(await audited()).toHaveLength(1);
    const { rows } = await pool.query<{ scopes: string[] }>(`select scopes from api_key where key_hash = $1`, [hashSecret(SERVICE_KEY)]);
    expect(rows[0]!.scopes).toContain('payments:settle');
  });
});

describe('bootstrap creates what is missing and never undoes what staff did', () => {
  it('a disabled bootstrap key and admin stay disabled across a restart; a changed password is kept; an explicit reset sets only the password', async () => {
    const other = await member('admin');
    const asOther = createOrdersClient({ url: server.trpcUrl, apiKey: other.token });
    const bootstrapAdmin = (await asOther.backoffice.staff.list.query()).find((s) => s.email === ADMIN)!;
    const bootstrapKey = (await asOther.backoffice.apiKeys.list.query()).find((k) => k.name === 'bootstrap')!;
    // The admin chooses a new password; then another admin disables the account and the key.
    await pool.query(`update staff_user set password_hash = $1 where id = $2`, [await hashPassword('changed-by-the-admin-1'), bootstrapAdmin.id]);
    await asOther.backoffice.staff.setDisabled.mutate({ staffId: bootstrapAdmin.id, disabled: true });
    await asOther.backoffice.apiKeys.setDisabled.mutate({ apiKeyId: bootstrapKey.id, disabled: true });

    await server.close();
    await start();
    const login = (password: string) => createOrdersClient({ url: server.trpcUrl }).auth.login.mutate({ email: ADMIN, password });
    await expect(createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY }).orders.list.query({ customer: { type: 'user', id: 'x' } })).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
    await expect(login(ADMIN_PASSWORD)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const disabled = await pool.query<{ disabled: boolean }>(`select disabled from staff_user where id = $1`, [bootstrapAdmin.id]);
    expect(disabled.rows[0]!.disabled).toBe(true);

    // Re-enabled by staff: the password is still the one the admin chose, not the bootstrap one.
    await createOrdersClient({ url: server.trpcUrl, apiKey: other.token }).backoffice.staff.setDisabled.mutate({ staffId: bootstrapAdmin.id, disabled: false });
    await server.close();
    await start();
    await expect(login(ADMIN_PASSWORD)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect((await login('changed-by-the-admin-1')).staff.email).toBe(ADMIN);

    // A forgotten password, reset on purpose: only the password changes, and the old sessions end.
    const oldSession = (await login('changed-by-the-admin-1')).token;
    await server.close();
    await start({ BOOTSTRAP_RESET_ADMIN_PASSWORD: '1' });
    expect((await login(ADMIN_PASSWORD)).staff.role).toBe('admin');
    await expect(createOrdersClient({ url: server.trpcUrl, apiKey: oldSession }).auth.me.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const key = await pool.query<{ disabled: boolean }>(`select disabled from api_key where id = $1`, [bootstrapKey.id]);
    expect(key.rows[0]!.disabled).toBe(true);
    const actions = (await pool.query<{ action: string }>(`select action from audit_entry where order_id is null and reason in ('bootstrap', 'BOOTSTRAP_RESET_ADMIN_PASSWORD') order by created_at`)).rows.map((r) => r.action);
    expect(actions).toEqual(['api_key.created', 'staff.created', 'staff.password_reset']);
  });

  it('an existing bootstrap key from before payments:settle gains the scope (and nothing is re-enabled)', async () => {
    const oldKey = 'an-old-bootstrap-key-0123456789abcdef';
    await pool.query(
      `insert into api_key (id, created_at, updated_at, name, prefix, key_hash, scopes, disabled) values ($1, now(), now(), 'bootstrap', 'an-old-b', $2, $3, false)`,
      [randomUUID(), hashSecret(oldKey), ['carts:write', 'orders:read', 'orders:write', 'payments:write', 'catalog:write']],
    );
    await server.close();
    await start({ BOOTSTRAP_SERVICE_API_KEY: oldKey });
    const { rows } = await pool.query<{ scopes: string[]; disabled: boolean }>(`select scopes, disabled from api_key where key_hash = $1`, [hashSecret(oldKey)]);
    expect(rows[0]).toMatchObject({ disabled: false });
    expect(rows[0]!.scopes).toContain('payments:settle');
    const added = await pool.query(`select 1 from audit_entry where action = 'api_key.scopes_added'`);
    expect(added.rowCount).toBe(1);
  });
});
