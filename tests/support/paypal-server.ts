import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createOrdersClient, type Currency, type Customer, type OrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { SIMULATOR_RECEIVER_EMAIL } from '@orders/server/paypal/setup.ts';

export const SERVICE_KEY = 'test-service-key-0123456789abcdef';

export interface PaypalTestEnv {
  db: TestDatabase;
  server: RunningServer;
  sim: PaypalSimulator;
  client: OrdersClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface SimulatorAccount {
  clientId: string;
  clientSecret: string;
  receiverEmail: string;
}

/**
 * The PayPal part of a server's environment when the simulator runs elsewhere (in the test process),
 * so it outlives a killed server or is shared by several instances.
 */
export function externalPaypalEnv(sim: PaypalSimulator, account: SimulatorAccount): Record<string, string> {
  return {
    PAYPAL_MODE: 'simulator',
    PAYPAL_API_BASE: sim.baseUrl,
    PAYPAL_CLIENT_ID: account.clientId,
    PAYPAL_CLIENT_SECRET: account.clientSecret,
    PAYPAL_RECEIVER_EMAIL: account.receiverEmail,
    PAYPAL_IPN_VERIFY_URL: sim.ipnVerifyUrl,
  };
}

/**
 * A server's stop that runs on is told on stderr, whatever the log level: a hook that times out
 * then says which step it waited on.
 */
export function reportSlowShutdownStep(step: string, waitedMs: number): void {
  process.stderr.write(`server stop: still waiting on ${step} after ${Math.round(waitedMs / 1000)} s\n`);
}

/** The real server on its own database, with the in-process PayPal simulator, reached over HTTP. */
export async function startPaypalTestEnv(env: Record<string, string> = {}): Promise<PaypalTestEnv> {
  const db = await createTestDatabase();
  const server = await startServer(
    loadConfig({ DATABASE_URL: db.url, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env }),
    { onSlowShutdownStep: reportSlowShutdownStep },
  );
  const sim = server.paypal.simulator!;
  const client = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  return {
    db,
    server,
    sim,
    client,
    pool,
    async close() {
      await pool.end();
      await server.close();
      await db.drop();
    },
  };
}

export function newCustomer(): Customer {
  return { type: 'user', id: `buyer-${randomUUID()}` };
}

/** A pending order for `quantity` units at `unitPrice`. */
export async function pendingOrder(
  client: OrdersClient,
  options: { unitPrice?: number; currency?: Currency; quantity?: number; stock?: number; customer?: Customer } = {},
) {
  const customer = options.customer ?? newCustomer();
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  await client.catalog.upsertProduct.mutate({
    sku,
    name: `Thing ${sku}`,
    unitPrice: options.unitPrice ?? 1250,
    currency: options.currency ?? 'USD',
    stock: options.stock ?? 100,
  });
  const cart = await client.carts.create.mutate({ customer });
  await client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: options.quantity ?? 2 });
  const order = await client.orders.create.mutate({ customer, cartId: cart.id });
  return { customer, sku, cart, order };
}

/** What a buyer's browser does at PayPal: choose, then follow the redirect back to us. */
export async function buyerChooses(env: PaypalTestEnv, paymentId: string, action: 'approve' | 'decline' | 'cancel') {
  const { redirectUrl } = env.sim.control.approve(paymentId, action);
  const response = await fetch(redirectUrl, { redirect: 'manual' });
  return { redirectUrl, response, body: await response.text() };
}

/**
 * PayPal executes an approved payment whose answer we never recorded (our process was killed while
 * PayPal executed it): from then on only PayPal's notifications tell us. `redirectUrl` is the
 * buyer's way back from the approval page, which carries the payment and payer ids.
 */
export async function executeUnrecorded(env: PaypalTestEnv, redirectUrl: string) {
  const back = new URL(redirectUrl);
  const paymentId = back.searchParams.get('paymentId')!;
  const payerId = back.searchParams.get('PayerID')!;
  return env.server.paypal.gateway.executePayment({ requestId: `lost-${paymentId}`, paymentId, payerId });
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type StoredEvent = { id: string; txn_id: string | null; provider_status: string | null; verification: string; processing: string; outcome: string | null; flag_kind: string | null; order_id: string | null; raw_body: Buffer };

async function storedEvents(pool: pg.Pool, source: 'ipn' | 'webhook', where: string, params: unknown[]): Promise<StoredEvent[]> {
  const { rows } = await pool.query(
    `select id, txn_id, provider_status, verification, processing, outcome, flag_kind, order_id, raw_body from payment_event where source = '${source}' and ${where} order by created_at`,
    params,
  );
  return rows as StoredEvent[];
}

export async function ipnEvents(pool: pg.Pool, where = 'true', params: unknown[] = []) {
  return storedEvents(pool, 'ipn', where, params);
}

/** The stored IPNs of `txnId` once each has been handled (none still `received`). */
export async function processedIpns(pool: pg.Pool, txnId: string, timeoutMs = 20_000): Promise<StoredEvent[]> {
  return waitFor(async () => {
    const events = await ipnEvents(pool, 'txn_id = $1', [txnId]);
    return events.length > 0 && events.every((e) => e.processing !== 'received') ? events : undefined;
  }, timeoutMs, `the IPN for ${txnId}`);
}

/** A Completed express-checkout IPN to the simulator's receiver, as PayPal words one, with `overrides`. */
export function ipnFields(overrides: Record<string, string>): Record<string, string> {
  return {
    mc_gross: '25.00',
    mc_currency: 'USD',
    payment_status: 'Completed',
    txn_type: 'express_checkout',
    receiver_email: SIMULATOR_RECEIVER_EMAIL,
    business: SIMULATOR_RECEIVER_EMAIL,
    payer_email: 'buyer@example.com',
    charset: 'UTF-8',
    notify_version: '3.9',
    ...overrides,
  };
}

/**
 * A `new_case` IPN: PayPal opened a case on `sale`. The fields, in their order, of a real one quoted in
 * public code (a Java project's test, "Example of real request": a chargeback, PP-623-555-536); the
 * case, its type, its reason and the sale are the caller's, and `owner` (custom, invoice) where that
 * one has them.
 */
export function newCaseIpnFields(
  sale: string,
  the: { caseId: string; caseType: string; reason: string; owner?: { orderId: string; attemptId: string } },
): Record<string, string> {
  return {
    receipt_id: '1499-3285-7253-3801',
    ...(the.owner ? { custom: the.owner.orderId } : {}),
    case_id: the.caseId,
    charset: 'windows-1252',
    ...(the.owner ? { invoice: the.owner.attemptId } : {}),
    business: SIMULATOR_RECEIVER_EMAIL,
    case_type: the.caseType,
    receiver_id: '3PMW4KN575AVY',
    txn_type: 'new_case',
    verify_sign: 'AFcWxV21C7fd0v3bYYYRCpSSRl31AVMHOHg5tHX34S8qsXjTbVAcUnrn',
    payer_id: '2BD4NV5EXXXV96',
    notify_version: '2.6',
    receiver_email: SIMULATOR_RECEIVER_EMAIL,
    case_creation_date: '22:24:05 Jan 23, 2009 PST',
    payer_email: 'payer@example.com',
    reason_code: the.reason,
    txn_id: sale,
    payment_date: '15:05:34 Dec 16, 2008 PST',
  };
}

export async function webhookEvents(pool: pg.Pool, where = 'true', params: unknown[] = []) {
  return storedEvents(pool, 'webhook', where, params);
}
