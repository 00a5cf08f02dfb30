import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PromptClient } from './pg-client.js';
import { Product } from '../modules/catalog/product.entity.js';
import { Cart, CartLine } from '../modules/carts/cart.entity.js';
import { Order, OrderLine } from '../modules/orders/order.entity.js';
import { OrderNote } from '../modules/orders/order-note.entity.js';
import { OrderPaymentAttempt, PaymentEvent } from '../modules/payments/payment.entity.js';
import { OrderRefund } from '../modules/payments/refund.entity.js';
import { OrderRefundLine } from '../modules/payments/refund-line.entity.js';
import { MoneyMovement } from '../modules/payments/money-movement.entity.js';
import { SALE_LEDGER_TABLE } from '../modules/payments/sale-ledger.js';
import { UNPAID_SALE_TABLE } from '../modules/reconciliation/unpaid-sales.js';
import { ReconciliationResolution } from '../modules/reconciliation/reconciliation.entity.js';
import { ApiKey, StaffSession, StaffUser } from '../modules/staff/staff.entity.js';
import { AuditEntry } from '../modules/audit/audit.entity.js';
import { OrderSearch } from '../modules/backoffice/order-search.entity.js';
import { SEARCH_VALUE_TABLES } from '../modules/backoffice/search-values.js';
import { migrations } from './migrations/index.js';

/*
 * Every entity, typed by name: an inferred type of this list is too long for TypeScript to write into
 * the client package's bundled declarations (TS7056), which reach it through the router's types.
 */
export const entities: [
  typeof Product, typeof Cart, typeof CartLine, typeof Order, typeof OrderLine, typeof OrderPaymentAttempt, typeof PaymentEvent,
  typeof OrderRefund, typeof MoneyMovement, typeof StaffUser, typeof StaffSession, typeof ApiKey, typeof AuditEntry,
  typeof ReconciliationResolution, typeof OrderRefundLine, typeof OrderNote, typeof OrderSearch,
] = [
  Product, Cart, CartLine, Order, OrderLine, OrderPaymentAttempt, PaymentEvent, OrderRefund, MoneyMovement,
  StaffUser, StaffSession, ApiKey, AuditEntry, ReconciliationResolution, OrderRefundLine, OrderNote,
  OrderSearch,
];

/** Request connections kept open when idle. */
const IDLE_CONNECTIONS = 3;

/** How long a query waits for a free pooled connection by default (DATABASE_POOL_WAIT_SECONDS). */
export const POOL_WAIT_MS = 30_000;

export function ormConfig(clientUrl: string, overrides: { poolMax?: number; poolWaitMs?: number } = {}): Options {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    // A few connections stay open when idle (pg closes the rest after 10 s): a new one costs a backend
    // and a SCRAM exchange, and the first search after a pause opened up to three (its page, count and
    // estimate side by side). At 1M orders the first search after 11 s idle took 11–20 ms, 5–14 kept.
    // pg's clients, but with results let go as soon as they are read (pg-client.ts). The URL is handed to
    // pg whole as well: MikroORM reads only its host, port, user, password and database, so without it
    // the request pool alone ignored what else the URL says (a Unix socket's directory in `?host=`,
    // `sslmode`, `application_name`, `options`) while the job queue and the live feed, which give the
    // URL to pg, honoured it: `postgresql://…@localhost/orders?host=/cloudsql/…` had requests go over
    // TCP to localhost. pg reads the URL over the fields MikroORM set.
    // A query that finds every connection taken waits at most poolWaitMs, then fails (503, "busy"):
    // pg's default is to wait for ever, so a pool exhausted (or a path waiting on the pool while holding
    // one of its connections) hung requests, jobs and the server's stop with nothing said.
    driverOptions: { Client: PromptClient, connectionString: clientUrl, connectionTimeoutMillis: overrides.poolWaitMs ?? POOL_WAIT_MS },
    pool: { min: Math.min(IDLE_CONNECTIONS, overrides.poolMax ?? 10), max: overrides.poolMax ?? 10 },
    migrations: {
      path: fileURLToPath(new URL('./migrations', import.meta.url)),
      // An explicit list: migrations run the same from tsx, vitest or a bundle, no file globbing.
      migrationsList: migrations,
      silent: true,
      // Applying migrations at start must not write into the source tree; only migration:create does.
      snapshotOnMigrate: false,
      // Each migration in its own transaction, not all pending ones in one: a migration that builds an
      // index `concurrently` (isTransactional() false) cannot run inside a transaction.
      allOrNothing: false,
    },
    // sale_ledger and the search values are the database's own (kept by triggers, never written or read
    // through the ORM): their migrations define them, and migration:create leaves them alone.
    schemaGenerator: { skipTables: [SALE_LEDGER_TABLE, UNPAID_SALE_TABLE, ...SEARCH_VALUE_TABLES] },
    // A missing database is reported, not created (migrate() below; the embedded PostgreSQL creates its own).
    ensureDatabase: false,
    // Entities are defined with defineEntity; there is nothing to discover or reflect.
    discovery: { warnWhenNoEntities: false },
    debug: false,
  });
}

export type Orm = MikroORM;

export async function initOrm(clientUrl: string, overrides: { poolMax?: number; poolWaitMs?: number } = {}): Promise<MikroORM> {
  return MikroORM.init(ormConfig(clientUrl, overrides));
}

/**
 * Whether PostgreSQL would JIT-compile a costly statement on one of `orm`'s connections: JIT built in
 * and on. Orders' migrations turn it off for its role (Migration20261202070000); this tells when that
 * did not take (a role that may not change its defaults, or requests arriving as another role).
 */
export async function compilesWithJit(orm: MikroORM): Promise<boolean> {
  const [row] = await orm.em.fork().getConnection().execute<{ jit: boolean }[]>(`select pg_jit_available() and current_setting('jit')::boolean as jit`);
  return row?.jit === true;
}

/** MikroORM's connection pool (the request traffic), as node-postgres counts it. */
export async function requestPoolCounts(orm: MikroORM): Promise<{ max: number; total: number; idle: number; waiting: number }> {
  const pool = (await orm.em.getConnection().getNativeClient()) as pg.Pool;
  return { max: pool.options.max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * Pending migrations, in order. Give it a session connection (DATABASE_DIRECT_URL), never a
 * transaction pooler: DDL and `create index concurrently` (which must run outside a transaction)
 * need one session from start to end.
 */
export async function migrate(orm: MikroORM): Promise<void> {
  // The migrator creates a missing database on its own (MikroORM's ensureDatabase, whatever the
  // config says), silently with a role that may, with a stack trace without. A DATABASE_URL naming a
  // database that does not exist is a mistake to report (3D000: start-up.ts says it in one line): the
  // lock's session below connects to it before the migrator runs. The embedded PostgreSQL creates
  // its database itself.
  // Several instances started together (a deploy) would each apply the same migrations at once: one
  // at a time, on a session of its own (the migrator's pool may hold a single connection), and the
  // next finds nothing pending. The lock is tried, not waited for: a statement waiting for it holds a
  // snapshot, and `create index concurrently` in the holder's migrations waits for every snapshot
  // older than its own (a deadlock PostgreSQL cannot see: it went unnoticed until the test's timeout).
  const lock = new pg.Client({ connectionString: orm.config.get('clientUrl') });
  await lock.connect();
  try {
    while (!(await lock.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [MIGRATION_LOCK])).rows[0]!.locked) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await orm.migrator.up();
  } finally {
    await lock.end();
  }
}

/** The advisory lock key migrations run under (any constant no other code of this database uses). */
const MIGRATION_LOCK = 7_246_118_401;
