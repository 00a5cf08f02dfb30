import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createLogger } from '@orders/server/logger.ts';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { loginRequest, median, rawRequest, type RawAnswer } from './raw-http.ts';

/**
 * The limits attacked as issue 9 found them bypassed: over real HTTP, with the raw paths an attacker
 * sends, each from its own client address (127.0.0.x). Limits here: 4 logins and 4 IPN posts per
 * address per minute, 6 failed logins lock an email.
 */
const LOGIN_LIMIT = 4;
const IPN_LIMIT = 4;
const LOCK_AFTER = 6;
const SERVICE_KEY = 'limit-bypass-service-key-0123456789';
const PASSWORD = 'correct-horse-battery-staple';
const WRONG = 'wrong-password-guess';
const ACCOUNT = { clientId: 'bypass-client', clientSecret: 'bypass-secret-0123456789', receiverEmail: 'bypass@orders.example' };

/**
 * Paths tRPC resolves to auth.login: Fastify decodes the path parameter, tRPC decodes it once more
 * (so double encoding resolves too); `batch=1` is read from the query.
 */
const RESOLVING = [
  '/trpc/auth.login',
  '/trpc/auth%252Elogin',
  '/trpc/%2561uth%252elogin',
  '/trpc/auth%2Elogin',
  '/trpc/auth%2elogin',
  '/trpc/%61uth.login',
  '/trpc/auth.logi%6E',
  '/trpc/%61%75%74%68%2E%6C%6F%67%69%6E',
  '/trpc/auth.login?batch=1',
  '/trpc/auth%2Elogin?batch=1',
  '/trpc/auth.login?batch=1&batch=0',
  '/trpc/auth.login?%62atch=1',
];
/** Paths that name no procedure (case, triple encoding, slashes, dot segments, bad escapes): never a password check. */
const NOT_RESOLVING = [
  '/trpc/AUTH.LOGIN',
  '/trpc/Auth.Login',
  '/TRPC/auth.login',
  '/trpc/auth%25252Elogin',
  '/trpc/auth%25E0login',
  '/trpc/auth.login/',
  '/trpc/auth.login%2F',
  '/trpc//auth.login',
  '/trpc/./auth.login',
  '/trpc/auth.login%00',
];

let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let server: RunningServer;
let pool: pg.Pool;
let addressCounter = 10;
/** A client address of its own for each scenario. */
const freshAddress = () => `127.0.${Math.floor(addressCounter / 250)}.${(addressCounter++ % 250) + 2}`;
let userCounter = 0;
async function newStaff(): Promise<string> {
  const email = `member-${userCounter++}@bypass.example`;
  await server.services.staff.ensureStaff(email, PASSWORD, 'viewer');
  return email;
}
const sessionsOf = async (email: string) =>
  (await pool.query<{ n: number }>(`select count(*)::int as n from staff_session s join staff_user u on u.id = s.staff_id where u.email = $1`, [email])).rows[0]!.n;
const gaveToken = (answer: RawAnswer) => answer.text.includes('"token":"oss_');

beforeAll(async () => {
  bed = await openTestBed({ paypal: ACCOUNT, poolMax: 2 });
  ({ sim, pool } = bed);
  server = await bed.startServer(
    {
      PAYPAL_WEBHOOK_ID: 'WH-BYPASS-1',
      BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
      LOGIN_RATE_LIMIT: String(LOGIN_LIMIT),
      IPN_RATE_LIMIT: String(IPN_LIMIT),
      LOGIN_LOCK_AFTER_FAILURES: String(LOCK_AFTER),
    },
    { logger: createLogger('silent') },
  );
});
afterAll(async () => {
  await bed?.close();
});

describe('the login limit counts what tRPC resolves', () => {
  for (const path of RESOLVING) {
    it(`${path}: counted as auth.login — ${LOGIN_LIMIT} guesses answered, then 429 even with the right password`, async () => {
      const email = await newStaff();
      const from = freshAddress();
      for (let i = 0; i < LOGIN_LIMIT; i++) {
        const answer = await loginRequest(server.url, path, { email, password: WRONG }, from);
        // UNAUTHORIZED proves tRPC ran auth.login for this path (and checked the password).
        expect(answer.text, `${path} #${i + 1}: ${answer.status} ${answer.text.slice(0, 200)}`).toContain('UNAUTHORIZED');
      }
      const refused = await loginRequest(server.url, path, { email, password: PASSWORD }, from);
      expect(refused.status, refused.text.slice(0, 200)).toBe(429);
      expect(refused.text).toContain('TOO_MANY_REQUESTS');
      expect(gaveToken(refused)).toBe(false);
      expect(await sessionsOf(email)).toBe(0);
    });
  }

  it('while the plain path answers 429, no encoded, mixed-case, double-encoded, slashed or batched variant gets a token or a password check', async () => {
    const email = await newStaff();
    const from = freshAddress();
    for (let i = 0; i < LOGIN_LIMIT; i++) expect((await loginRequest(server.url, '/trpc/auth.login', { email, password: WRONG }, from)).status).toBe(401);
    expect((await loginRequest(server.url, '/trpc/auth.login', { email, password: PASSWORD }, from)).status).toBe(429);
    const answers: [string, RawAnswer][] = [];
    for (const path of [...RESOLVING, ...NOT_RESOLVING]) answers.push([path, await loginRequest(server.url, path, { email, password: PASSWORD }, from)]);
    for (const [path, answer] of answers) {
      expect(gaveToken(answer), `${path}: ${answer.text.slice(0, 200)}`).toBe(false);
      // A password check answers UNAUTHORIZED (wrong) or a token (right): neither may happen now.
      expect(answer.text, path).not.toContain('UNAUTHORIZED');
      expect(answer.status, `${path}: ${answer.text.slice(0, 200)}`).toBe(RESOLVING.includes(path) ? 429 : answer.status === 400 ? 400 : 404);
    }
    expect(await sessionsOf(email)).toBe(0);
  });

  it('a batch counts each call: one request of five (or fifty, or %2C-separated) logins is refused whole', async () => {
    const email = await newStaff();
    const five = Array.from({ length: 5 }, () => 'auth.login');
    for (const path of [`/trpc/${five.join(',')}?batch=1`, `/trpc/${five.join('%2C')}?batch=1`, `/trpc/${Array.from({ length: 50 }, () => 'auth.login').join(',')}?batch=1`]) {
      const answer = await loginRequest(server.url, path, { email, password: PASSWORD }, freshAddress());
      expect(answer.status, `${path.slice(0, 60)}: ${answer.text.slice(0, 200)}`).toBe(429);
      expect(gaveToken(answer)).toBe(false);
      // The batch answer keeps tRPC's batch shape: one error per call.
      const body = JSON.parse(answer.text) as unknown[];
      expect(Array.isArray(body) && body.every((item) => JSON.stringify(item).includes('TOO_MANY_REQUESTS'))).toBe(true);
    }
    expect(await sessionsOf(email)).toBe(0);

    // Three in a batch plus one alone use the four; the fifth is refused.
    const from = freshAddress();
    const batch = await loginRequest(server.url, '/trpc/auth.login,auth.login,auth.login?batch=1', { email, password: WRONG }, from);
    expect(batch.text.match(/UNAUTHORIZED/g)).toHaveLength(3);
    expect((await loginRequest(server.url, '/trpc/auth.login', { email, password: WRONG }, from)).status).toBe(401);
    const fifth = await loginRequest(server.url, '/trpc/auth%2Elogin', { email, password: PASSWORD }, from);
    expect(fifth.status).toBe(429);
    expect(await sessionsOf(email)).toBe(0);
  });
});

describe('the account lock: guesses from many addresses', () => {
  it(`${LOCK_AFTER} failures lock the email whatever the address; staff see the lock; a colleague logs in meanwhile`, async () => {
    const victim = await newStaff();
    const colleague = await newStaff();
    for (let i = 0; i < LOCK_AFTER; i++) {
      // Two guesses per address: far below the per-address limit.
      const answer = await loginRequest(server.url, '/trpc/auth.login', { email: victim, password: WRONG }, i % 2 === 0 ? freshAddress() : `127.0.${Math.floor((addressCounter - 1) / 250)}.${((addressCounter - 1) % 250) + 2}`);
      expect(answer.status, answer.text.slice(0, 200)).toBe(401);
    }
    const locked = await loginRequest(server.url, '/trpc/auth.login', { email: victim.toUpperCase(), password: PASSWORD }, freshAddress());
    expect(locked.status, locked.text.slice(0, 200)).toBe(429);
    expect(locked.text).toContain('TOO_MANY_REQUESTS');
    expect(gaveToken(locked)).toBe(false);
    expect(await sessionsOf(victim)).toBe(0);

    const other = await loginRequest(server.url, '/trpc/auth.login', { email: colleague, password: PASSWORD }, freshAddress());
    expect(gaveToken(other), other.text.slice(0, 200)).toBe(true);

    // The lock is an audit entry an admin can list.
    await server.services.staff.ensureStaff('lock-admin@bypass.example', PASSWORD, 'admin');
    const admin = await server.services.staff.login('lock-admin@bypass.example', PASSWORD);
    const events = await fetch(`${server.trpcUrl}/backoffice.staff.securityEvents`, { headers: { authorization: `Bearer ${admin.token}` } });
    const listed = (await events.json()) as { result: { data: { action: string; after: { email: string; failures: number } }[] } };
    expect(listed.result.data.filter((e) => e.action === 'staff.login_locked' && e.after.email === victim)).toMatchObject([{ after: { failures: LOCK_AFTER } }]);
  });

  it('an email nobody has locks the same way (a lock does not reveal whether an account exists)', async () => {
    const ghost = `nobody-${Date.now()}@bypass.example`;
    for (let i = 0; i < LOCK_AFTER; i++) expect((await loginRequest(server.url, '/trpc/auth.login', { email: ghost, password: WRONG }, freshAddress())).status).toBe(401);
    const answer = await loginRequest(server.url, '/trpc/auth.login', { email: ghost, password: WRONG }, freshAddress());
    expect(answer.status).toBe(429);
    expect(answer.text).toContain('TOO_MANY_REQUESTS');
  });
});

describe('other users stay fast while one address attacks', () => {
  it('a burst of encoded and batched logins is refused without password checks; a colleague’s login and a service call stay near their baseline', async () => {
    const target = await newStaff();
    const colleague = await newStaff();
    const colleagueLogin = () => loginRequest(server.url, '/trpc/auth.login', { email: colleague, password: PASSWORD }, freshAddress());
    const serviceCall = () =>
      rawRequest(server.url, {
        method: 'GET',
        path: `/trpc/orders.list?input=${encodeURIComponent(JSON.stringify({ customer: { type: 'user', id: 'bystander' }, page: 1, pageSize: 10 }))}`,
        headers: { authorization: `Bearer ${SERVICE_KEY}` },
      });
    // Baseline, measured now on this machine: the same calls with nobody attacking.
    const baselineLogin: number[] = [];
    const baselineService: number[] = [];
    for (let i = 0; i < 3; i++) {
      const login = await colleagueLogin();
      expect(gaveToken(login)).toBe(true);
      baselineLogin.push(login.ms);
      baselineService.push((await serviceCall()).ms);
    }

    const attacker = freshAddress();
    const paths = [...RESOLVING, '/trpc/auth.login,auth.login,auth.login,auth.login,auth.login,auth.login?batch=1'];
    const attack = Promise.all(
      Array.from({ length: 60 }, (_, i) => loginRequest(server.url, paths[i % paths.length]!, { email: target, password: i % 2 ? PASSWORD : WRONG }, attacker)),
    );
    const during = await Promise.all([colleagueLogin(), serviceCall()]);
    const answers = await attack;

    expect(gaveToken(during[0]), during[0].text.slice(0, 200)).toBe(true);
    expect(during[1].status).toBe(200);
    // Password checks the attacker got: answers that are not a refusal by the limit. At most the limit.
    const checked = answers.filter((a) => a.status !== 429);
    expect(checked.length).toBeLessThanOrEqual(LOGIN_LIMIT);
    expect(answers.filter(gaveToken).length + (await sessionsOf(target))).toBeLessThanOrEqual(LOGIN_LIMIT);
    const loginBase = median(baselineLogin);
    const serviceBase = median(baselineService);
    console.log(
      `colleague login: baseline ${loginBase.toFixed(0)} ms, during the attack ${during[0].ms.toFixed(0)} ms; service call: baseline ${serviceBase.toFixed(0)} ms, during ${during[1].ms.toFixed(0)} ms; attacker: ${answers.length} requests, ${checked.length} password checks`,
    );
    // Relative to the baseline (with slack for a loaded 2-core machine), not a fixed wall clock.
    expect(during[0].ms).toBeLessThan(loginBase * 8 + 2_000);
    expect(during[1].ms).toBeLessThan(serviceBase * 8 + 2_000);
  });
});

describe('IPN and webhook limits key on the decoded route', () => {
  const ipn = (path: string, from: string, txn: string) =>
    rawRequest(server.url, { method: 'POST', path, from, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `txn_id=${txn}&payment_status=Completed` });

  it('/paypal/%69pn counts as /paypal/ipn; past the limit every variant is refused or unknown, nothing more is stored; other senders unaffected', async () => {
    const from = freshAddress();
    for (let i = 0; i < IPN_LIMIT; i++) expect((await ipn('/paypal/%69pn', from, `BYPASS${String(i).padStart(10, '0')}`)).status).toBe(200);
    expect((await ipn('/paypal/ipn', from, 'BYPASSPLAIN00000')).status).toBe(429);
    const variants: [string, number][] = [
      ['/paypal/%69pn', 429],
      ['/paypal/ip%6E', 429],
      ['/paypal/%69%70%6E', 429],
      ['/paypal/ipn?batch=1', 429],
      ['/PAYPAL/IPN', 404],
      ['/paypal/IPN', 404],
      ['/paypal/ipn/', 404],
      ['/paypal/%2569pn', 404],
      ['/paypal//ipn', 404],
    ];
    for (const [path, status] of variants) expect((await ipn(path, from, `BYPASSVAR${path.length}`)).status, path).toBe(status);
    const stored = await pool.query<{ n: number }>(`select count(*)::int as n from payment_event where txn_id like 'BYPASS%'`);
    expect(stored.rows[0]!.n).toBe(IPN_LIMIT);
    // Another address is not held back by this one's limit.
    expect((await ipn('/paypal/ipn', freshAddress(), 'OTHERSENDER00001')).status).toBe(200);
  });

  it('/paypal/webhoo%6B counts as /paypal/webhook', async () => {
    const from = freshAddress();
    const post = (path: string) =>
      rawRequest(server.url, { method: 'POST', path, from, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'WH-EVENT', event_type: 'PAYMENT.SALE.COMPLETED', resource: {} }) });
    for (let i = 0; i < IPN_LIMIT; i++) expect((await post('/paypal/webhoo%6B')).status).not.toBe(429);
    expect((await post('/paypal/webhook')).status).toBe(429);
    expect((await post('/paypal/%77ebhook')).status).toBe(429);
  });
});
