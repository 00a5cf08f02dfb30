import pg from 'pg';
import { loadConfig } from '@orders/server/config.ts';
import { createLogger } from '@orders/server/logger.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { startPaypalSimulator, type PaypalSimulator, type PaypalSimulatorOptions } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { externalPaypalEnv, reportSlowShutdownStep } from './paypal-server.ts';

/**
 * What a suite that starts whole servers stands on: a database of its own (cloned from the migrated
 * template), a pool for assertions, and — when asked — a PayPal simulator running outside the servers
 * (it outlives them, as PayPal would). Servers started through the bed, and whatever is handed to
 * `onClose`, are closed with it: first those (last started first), then the pool, the simulator and
 * the database.
 */
export interface TestBed<Sim extends PaypalSimulator | undefined = PaypalSimulator | undefined> {
  db: TestDatabase;
  /** For assertions; survives PostgreSQL going away (an idle client's error must not crash the test). */
  pool: pg.Pool;
  sim: Sim;
  /**
   * An in-process server on this database: `DATABASE_URL`, `PORT=0`, the simulator as an external
   * PayPal (when there is one), then `env`. Logs go nowhere unless TEST_LOG_LEVEL says otherwise.
   */
  startServer(env?: Record<string, string>, options?: Parameters<typeof startServer>[1]): Promise<RunningServer>;
  onClose(close: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export interface TestBedOptions {
  /** A PayPal simulator with these options; none without. */
  paypal?: PaypalSimulatorOptions;
  /** Connections of the assertion pool (default 3). */
  poolMax?: number;
}

export async function openTestBed(options: TestBedOptions & { paypal: PaypalSimulatorOptions }): Promise<TestBed<PaypalSimulator>>;
export async function openTestBed(options?: TestBedOptions): Promise<TestBed<undefined>>;
export async function openTestBed(options: TestBedOptions = {}): Promise<TestBed> {
  const sim = options.paypal ? await startPaypalSimulator(options.paypal) : undefined;
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: options.poolMax ?? 3 });
  pool.on('error', () => {});
  const closers: (() => Promise<unknown>)[] = [];
  const paypal = options.paypal;
  return {
    db,
    pool,
    sim,
    async startServer(env = {}, serverOptions = {}) {
      const config = loadConfig({
        DATABASE_URL: db.url,
        PORT: '0',
        ...(sim && paypal ? externalPaypalEnv(sim, { clientId: paypal.clientId, clientSecret: paypal.clientSecret, receiverEmail: paypal.receiverEmail }) : {}),
        ...env,
      });
      const server = await startServer(config, { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), onSlowShutdownStep: reportSlowShutdownStep, ...serverOptions });
      closers.push(() => server.close());
      return server;
    },
    onClose(close) {
      closers.push(close);
    },
    async close() {
      for (const close of closers.reverse()) await close();
      await pool.end();
      await sim?.close();
      await db.drop();
    },
  };
}
