import type { MikroORM } from '@mikro-orm/postgresql';
import { CUSTOMER_SCOPES, type ApiKeyScope, type Customer } from '@orders/shared';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { initOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { createServices, type Services } from '../services.js';
import { JobQueue } from '../jobs/queue.js';
import { setupPaypal, type PaypalSetup } from '../paypal/setup.js';
import type { Principal } from '../modules/staff/staff.service.js';
import { createContextInner } from '../trpc/init.js';
import { createCaller } from '../trpc/root.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const ALL_SERVICE_SCOPES: ApiKeyScope[] = [...CUSTOMER_SCOPES, 'catalog:write', 'payments:settle'];

export interface TestHarness {
  db: TestDatabase;
  orm: MikroORM;
  services: Services;
  /** A plain pg pool for assertions that must not go through the code under test. */
  pool: pg.Pool;
  paypal: PaypalSetup;
  queue: JobQueue;
  caller(principal?: Principal): ReturnType<typeof createCaller>;
  serviceCaller(scopes?: ApiKeyScope[]): ReturnType<typeof createCaller>;
  rowCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export const TABLES = [
  'product', 'cart', 'cart_line', 'order', 'order_line', 'order_payment_attempt', 'payment_event',
  'staff_user', 'staff_session', 'api_key', 'audit_entry', 'order_refund', 'reconciliation_resolution', 'money_movement',
] as const;

export function customer(type: Customer['type'] = 'user', id = `c-${randomUUID()}`): Customer {
  return { type, id };
}

/** A database of its own, the real services on it, and tRPC callers with chosen credentials. */
export async function createHarness(): Promise<TestHarness> {
  const db = await createTestDatabase();
  const orm = await initOrm(db.url);
  const logger = createLogger('silent');
  const paypal = await setupPaypal({ mode: 'simulator', clientId: undefined, clientSecret: undefined, apiBase: undefined, ipnVerifyUrl: undefined, receiverEmail: undefined, webhookId: undefined, timeoutMs: 5_000, ipnVerifyTimeoutMs: 10_000, refundDuplicates: true }, logger);
  const queue = await JobQueue.start(db.url, logger, { poolMax: 2 });
  const services = createServices({
    orm,
    gateway: paypal.gateway,
    queue,
    logger,
    // No HTTP listener in this harness: PayPal is given an address nothing answers on.
    payments: { publicBaseUrl: () => 'http://127.0.0.1:9', receiverEmail: paypal.receiverEmail, ipnVerifyUrl: paypal.ipnVerifyUrl, executeClaimMs: 10_000, ipnVerifyTimeoutMs: 10_000 },
    webhooks: { webhookId: paypal.webhookId },
    refundDuplicates: true,
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const caller = (principal?: Principal) => createCaller(createContextInner({ services, principal, logger }));
  return {
    db,
    orm,
    services,
    pool,
    paypal,
    queue,
    caller,
    serviceCaller: (scopes = ALL_SERVICE_SCOPES) =>
      caller({ kind: 'service', apiKeyId: randomUUID(), name: 'test harness', scopes: new Set(scopes) }),
    async rowCounts() {
      const counts: Record<string, number> = {};
      for (const table of TABLES) {
        const result = await pool.query<{ n: string }>(`select count(*) as n from "${table}"`);
        counts[table] = Number(result.rows[0]!.n);
      }
      return counts;
    },
    async close() {
      await pool.end();
      await queue.stop();
      await paypal.close();
      await orm.close();
      await db.drop();
    },
  };
}
