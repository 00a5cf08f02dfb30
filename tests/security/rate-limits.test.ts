import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import { createLogger } from '@orders/server/logger.ts';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { SECRETS, SECRETS_ADMIN, SECRETS_PAYPAL } from './support.ts';

const ADMIN = SECRETS_ADMIN;

let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let server: RunningServer;
let pool: pg.Pool;

beforeAll(async () => {
  bed = await openTestBed({ paypal: SECRETS_PAYPAL, poolMax: 2 });
  ({ sim, pool } = bed);
  server = await bed.startServer(
    { BOOTSTRAP_SERVICE_API_KEY: SECRETS.serviceKey, BOOTSTRAP_ADMIN_EMAIL: ADMIN, BOOTSTRAP_ADMIN_PASSWORD: SECRETS.adminPassword, LOGIN_RATE_LIMIT: '3', IPN_RATE_LIMIT: '5' },
    { logger: createLogger('silent') },
  );
});
afterAll(async () => {
  await bed?.close();
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
    // The browser build's cookie login shares the budget; its "who am I" (a GET on the same path) is no login.
    const cookieLogin = await fetch(`${server.url}/backoffice/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-orders-csrf': '1' },
      body: JSON.stringify({ email: ADMIN, password: SECRETS.adminPassword }),
    });
    expect(cookieLogin.status).toBe(429);
    const whoAmI = await fetch(`${server.url}/backoffice/api/session`);
    expect(whoAmI.status).toBe(200);
    expect(await whoAmI.json()).toEqual({ staff: null });
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

