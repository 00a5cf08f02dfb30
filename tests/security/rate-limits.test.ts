import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { createLogger } from '@orders/server/logger.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { startPaypalSimulator, type PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { externalPaypalEnv } from '../support/paypal-server.ts';

const SECRETS = {
  serviceKey: 'secret-service-key-QWERTY-0123456789',
  adminPassword: 'hunter2-but-longer-Passw0rd',
  clientSecret: 'paypal-client-secret-ZXCVBN-987654',
};
const ADMIN = 'admin@limits.example';
const RECEIVER = 'limits@orders.example';

let sim: PaypalSimulator;
let db: TestDatabase;
let server: RunningServer;
let pool: pg.Pool;

beforeAll(async () => {
  sim = await startPaypalSimulator({ clientId: 'limits-client', clientSecret: SECRETS.clientSecret, receiverEmail: RECEIVER });
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  server = await startServer(
    loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      ...externalPaypalEnv(sim, { clientId: 'limits-client', clientSecret: SECRETS.clientSecret, receiverEmail: RECEIVER }),
      BOOTSTRAP_SERVICE_API_KEY: SECRETS.serviceKey,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      BOOTSTRAP_ADMIN_PASSWORD: SECRETS.adminPassword,
      LOGIN_RATE_LIMIT: '3',
      IPN_RATE_LIMIT: '5',
    }),
    { logger: createLogger('silent') },
  );
});
afterAll(async () => {
  await pool.end();
  await server.close();
  await sim.close();
  await db.drop();
});

describe('rate limits', () => {
  it('auth.login: the fourth attempt in a minute is refused with TOO_MANY_REQUESTS, even with the right password', async () => {
    const anonymous = createOrdersClient({ url: server.trpcUrl });
    for (let i = 0; i < 3; i++) {
      await expect(anonymous.auth.login.mutate({ email: ADMIN, password: 'wrong-password-guess' })).rejects.toMatchObject({
        data: { code: 'UNAUTHORIZED' },
      });
    }
    await expect(anonymous.auth.login.mutate({ email: ADMIN, password: SECRETS.adminPassword })).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 },
    });
  });

  it('the IPN listener: past the limit it answers 429 and stores nothing more', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await fetch(`${server.url}/paypal/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `txn_id=FLOOD${String(i).padStart(12, '0')}&payment_status=Completed`,
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const { rows } = await pool.query(`select count(*)::int as n from payment_event where txn_id like 'FLOOD%'`);
    expect(rows[0].n).toBe(5);
  });
});

