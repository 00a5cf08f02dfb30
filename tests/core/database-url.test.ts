import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { compilesWithJit, initOrm } from '@orders/server/db/orm.ts';
import { TABLES } from '@orders/server/testing/harness.ts';

/*
 * DATABASE_URL pointing at an existing PostgreSQL (the machine's own, trust auth) instead of the
 * embedded one. Skipped, with the reason printed, where no such server answers.
 */

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const SERVICE_KEY = 'database-url-test-key-0123456789';
/** The machine's PostgreSQL's Unix socket directory (Debian's). */
const SOCKET_DIR = '/var/run/postgresql';
const MIGRATIONS_DIR = fileURLToPath(new URL('../../server/src/db/migrations/', import.meta.url));

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000, query_timeout: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
const reachable = unreachable === undefined;
if (!reachable) {
  console.log(`database-url.test.ts skipped: no PostgreSQL answers at ${ADMIN_URL} within 2 s (${unreachable})`);
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!reachable)('DATABASE_URL: an existing PostgreSQL instead of the embedded one', () => {
  const scratch = `orders_scratch_${randomBytes(6).toString('hex')}`;
  const databaseUrl = `postgresql://postgres@127.0.0.1:5432/${scratch}`;
  const config = () => loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' });
  // MikroORM's migrator names its schema snapshot after the database.
  const snapshotFile = `${MIGRATIONS_DIR}.snapshot-${scratch}.json`;
  let server: RunningServer | undefined;
  let created = false;

  afterAll(async () => {
    await server?.close();
    if (created) await admin((c) => c.query(`drop database if exists ${scratch} with (force)`));
    // Whatever the assertion below found, the source tree is left as it was.
    rmSync(snapshotFile, { force: true });
  });

  it('starts on a fresh database, runs the migrations, and serves a product → cart → order flow', async () => {
    await admin((c) => c.query(`create database ${scratch}`));
    created = true;
    server = await startServer(config());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client
      .query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public'`)
      .finally(() => client.end());
    const tables = rows.map((r) => r.table_name);
    for (const table of TABLES) expect(tables).toContain(table);
    expect(tables.some((t) => t.includes('migrations'))).toBe(true);

    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const dana = { type: 'user', id: 'dana' } as const;
    await orders.catalog.upsertProduct.mutate({ sku: 'PG15-1', name: 'Kettle', unitPrice: 3999, currency: 'CHF', stock: 3 });
    const cart = await orders.carts.create.mutate({ customer: dana });
    await orders.carts.setItem.mutate({ customer: dana, cartId: cart.id, sku: 'PG15-1', quantity: 3 });
    const order = await orders.orders.create.mutate({ customer: dana, cartId: cart.id });
    expect(order).toMatchObject({ status: 'pending', total: 11997, currency: 'CHF' });
    expect(await orders.orders.get.query({ customer: dana, orderId: order.id })).toMatchObject({ id: order.id, total: 11997 });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('its request connections compile nothing with JIT (Debian builds PostgreSQL with it, on by default)', async () => {
    // Any statement costed above jit_above_cost is compiled first: at 1M orders the dashboard's and the
    // reconciliation's aggregates took seconds instead of milliseconds. Their role in this database has
    // jit = off, and the server's own request connections (opened after the migrations) run with it.
    const [own] = await server!.orm.em.fork().getConnection().execute<{ jit: string }[]>(`select current_setting('jit') as jit`);
    expect(own?.jit).toBe('off');
    expect(await compilesWithJit(server!.orm)).toBe(false);
    // What the start-up warning asks: true on a database where the role kept PostgreSQL's default.
    const elsewhere = await initOrm('postgresql://postgres@127.0.0.1:5432/postgres', { poolMax: 1 });
    try {
      expect(await compilesWithJit(elsewhere)).toBe(true);
    } finally {
      await elsewhere.close();
    }
    const settings = await admin(async (c) =>
      (await c.query<{ rolname: string; setconfig: string[] }>(
        `select r.rolname, s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole join pg_database d on d.oid = s.setdatabase where d.datname = $1`,
        [scratch],
      )).rows,
    );
    expect(settings).toEqual([{ rolname: 'postgres', setconfig: ['jit=off'] }]);
  });

  it('a URL naming a Unix socket (`?host=/var/run/postgresql`) is where every connection goes: requests, the job queue, the live feed', async () => {
    // MikroORM reads only host, port, user, password and database from a URL: the request pool alone went
    // to localhost over TCP while the job queue and the live feed used the socket (on a machine where
    // TCP reaches another server, or none, requests would read and write elsewhere, or fail).
    // The only server on this database while it runs (the restart below starts one again).
    await server?.close();
    server = undefined;
    // As libpq and pg read it: `?host=` over the URL's host (which a URL with a user must have).
    const socketUrl = `postgresql://postgres@localhost/${scratch}?host=${encodeURIComponent(SOCKET_DIR)}`;
    const socketServer = await startServer(loadConfig({ DATABASE_URL: socketUrl, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' }));
    try {
      const orders = createOrdersClient({ url: socketServer.trpcUrl, apiKey: SERVICE_KEY });
      // Several requests at once: the pool opens more than its first connection.
      await Promise.all(Array.from({ length: 4 }, () => orders.orders.list.query({ customer: { type: 'user', id: 'dana' } })));
      const [own] = await socketServer.orm.em.fork().getConnection().execute<{ addr: string | null }[]>(`select inet_client_addr()::text as addr`);
      expect(own?.addr).toBeNull();
      const backends = await admin(async (c) =>
        (await c.query<{ application_name: string; client_port: number }>(
          `select application_name, client_port from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [scratch],
        )).rows,
      );
      expect(backends.length).toBeGreaterThanOrEqual(3);
      // A Unix socket's client_port is -1; a TCP connection's is its port.
      expect(backends.filter((b) => b.client_port !== -1)).toEqual([]);
    } finally {
      await socketServer.close();
    }
  });

  it('`?sslmode=require` is never dropped: the request pool asks for TLS too, and refuses a server without it', async () => {
    // This machine's PostgreSQL has ssl = off: a pool that honours the URL cannot connect; one that read only
    // host, port, user and database (MikroORM's own parsing, before) connected in the clear.
    const orm = await initOrm(`${databaseUrl}?sslmode=require`, { poolMax: 1 });
    try {
      await expect(orm.em.fork().getConnection().execute('select 1')).rejects.toThrow(/SSL/i);
    } finally {
      await orm.close();
    }
  });

  it('running the migrations at start writes nothing into the source tree', () => {
    expect(existsSync(snapshotFile), snapshotFile).toBe(false);
  });

  it('a restart on the same, already migrated database keeps the data', async () => {
    await server?.close();
    server = await startServer(config());
    const orders = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
    const list = await orders.orders.list.query({ customer: { type: 'user', id: 'dana' } });
    expect(list).toMatchObject({ total: 1, items: [{ total: 11997, currency: 'CHF' }] });
    await server.close();
    server = undefined;
  });
});
