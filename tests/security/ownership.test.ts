import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { API_KEY_SCOPES, STAFF_ROLES, createOrdersClient, type ApiKeyScope, type Customer, type OrdersClient, type StaffRole } from '@orders/shared';
import { hashSecret } from '@orders/server/modules/staff/credentials.ts';
import type { RunningServer } from '@orders/server/server.ts';
import { appRouter } from '@orders/server/trpc/root.ts';
import { SERVICE_KEY } from '../support/paypal-server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';
import { LEAK, callProcedure, changedTables, dbFingerprint, listProcedures, type ProcType, type TrpcAnswer } from './support.ts';

/*
 * Who may touch what. Alice's carts and orders, asked for by another customer or by an anonymous
 * customer who happens to carry Alice's id string, are NOT_FOUND (never FORBIDDEN: existence must not
 * leak). A key without the procedure's scope is FORBIDDEN; a disabled, unknown or missing credential
 * is UNAUTHORIZED; an expired, revoked or disabled staff session is UNAUTHORIZED; a viewer cannot act,
 * an operator cannot do an admin's work. Every refusal changes nothing and says nothing about anyone
 * else's data (no ids, no SQL, no stack). Procedures are enumerated from the router, back office included.
 */

const ADMIN = { email: 'owner-admin@orders.example', password: 'owner-admin-password-01' };
const PASSWORD = 'staff-password-0123456789';

let bed: TestBed;
let server: RunningServer;
let pool: pg.Pool;
let api: OrdersClient;

const procedures = listProcedures(appRouter);
const serviceProcedures = procedures.filter((p) => !p.path.startsWith('backoffice.') && !p.path.startsWith('auth.'));
const staffProcedures = procedures.filter((p) => p.path.startsWith('backoffice.') || (p.path.startsWith('auth.') && p.path !== 'auth.login'));

const alice: Customer = { type: 'user', id: `alice-${randomUUID()}` };
const mallory: Customer = { type: 'user', id: `mallory-${randomUUID()}` };
/** Not Alice: an anonymous customer whose id string happens to equal hers. */
const aliceAnonymous: Customer = { type: 'anonymous', id: alice.id };

let own: {
  cartId: string;
  openCartId: string;
  pendingOrderId: string;
  paidOrderId: string;
  attemptId: string;
  externalId: string;
  saleId: string;
  redirectUrl: string;
  approvalToken: string;
};
const keys: Record<string, string> = {};
const tokens: Record<string, string> = {};

async function login(email: string): Promise<string> {
  return (await createOrdersClient({ url: server.trpcUrl }).auth.login.mutate({ email, password: email === ADMIN.email ? ADMIN.password : PASSWORD })).token;
}

beforeAll(async () => {
  bed = await openTestBed();
  pool = bed.pool;
  // No background jobs: only the request under test writes while it is checked.
  server = await bed.startServer(
    { BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password, LOGIN_RATE_LIMIT: '0' },
    { workers: false },
  );
  api = createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY, batch: false });

  // Alice: an open cart with a line, a pending order with a PayPal payment, and a paid order.
  await api.catalog.upsertProduct.mutate({ sku: 'OWN-1', name: 'Owned thing', unitPrice: 1500, currency: 'USD', stock: 100 });
  const newCart = async () => {
    const cart = await api.carts.create.mutate({ customer: alice });
    await api.carts.setItem.mutate({ customer: alice, cartId: cart.id, sku: 'OWN-1', quantity: 1 });
    return cart.id;
  };
  const openCartId = await newCart();
  const cartId = await newCart();
  const pending = await api.orders.create.mutate({ customer: alice, cartId });
  const attempt = await api.payments.attemptToPay.mutate({ customer: alice, orderId: pending.id });
  const paid = await api.orders.create.mutate({ customer: alice, cartId: await newCart() });
  const paidAttempt = await api.payments.attemptToPay.mutate({ customer: alice, orderId: paid.id });
  const sim = server.paypal.simulator!.control;
  expect(await (await fetch(sim.approve(paidAttempt.externalId, 'approve').redirectUrl)).text()).toContain('Payment received');
  const paidRow = await api.orders.get.query({ customer: alice, orderId: paid.id });
  own = {
    cartId,
    openCartId,
    pendingOrderId: pending.id,
    paidOrderId: paid.id,
    attemptId: attempt.attemptId,
    externalId: attempt.externalId,
    saleId: paidRow.paymentTransactionId!,
    redirectUrl: '',
    approvalToken: new URL(attempt.approvalUrl).searchParams.get('token')!,
  };

  // Service keys: one lacking each scope, one disabled.
  for (const scope of API_KEY_SCOPES) {
    keys[`without ${scope}`] = (await server.services.staff.createApiKey(`without-${scope}`, API_KEY_SCOPES.filter((s) => s !== scope))).key;
  }
  keys.customer = (await server.services.staff.createApiKey('customer scopes')).key;
  const disabled = await server.services.staff.createApiKey('disabled', [...API_KEY_SCOPES]);
  await pool.query('update api_key set disabled = true where id = $1', [disabled.id]);
  keys.disabled = disabled.key;
  keys.unknown = `ok_${randomUUID().replaceAll('-', '')}`;

  // Staff sessions: one per role, and expired, revoked and disabled-user ones.
  for (const role of STAFF_ROLES) {
    const email = `${role}@orders.example`;
    if (role !== 'admin') await server.services.staff.ensureStaff(email, PASSWORD, role);
    tokens[role] = role === 'admin' ? await login(ADMIN.email) : await login(email);
  }
  await server.services.staff.ensureStaff('expired@orders.example', PASSWORD, 'admin');
  tokens.expired = await login('expired@orders.example');
  await pool.query(`update staff_session set expires_at = now() - interval '1 minute' where token_hash = $1`, [hashSecret(tokens.expired)]);
  await server.services.staff.ensureStaff('revoked@orders.example', PASSWORD, 'admin');
  tokens.revoked = await login('revoked@orders.example');
  await pool.query(`update staff_session set revoked_at = now() where token_hash = $1`, [hashSecret(tokens.revoked)]);
  await server.services.staff.ensureStaff('disabled@orders.example', PASSWORD, 'admin');
  tokens.disabledUser = await login('disabled@orders.example');
  await pool.query(`update staff_user set disabled = true where email = 'disabled@orders.example'`);
});
afterAll(async () => {
  await bed?.close();
});

/** Everything of Alice's that must never show up in an answer to someone else. */
function aliceSecrets(except: string[] = []): string[] {
  return [own.cartId, own.openCartId, own.pendingOrderId, own.paidOrderId, own.attemptId, own.externalId, own.saleId, `alice-`].filter((s) => !except.includes(s));
}

/** One refused call: the expected code, nothing changed, nothing leaked. */
async function refused(
  what: string,
  proc: { path: string; type: ProcType },
  token: string | undefined,
  input: unknown,
  code: 'NOT_FOUND' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'BAD_REQUEST',
  secrets: string[] = [],
): Promise<TrpcAnswer> {
  const before = await dbFingerprint(pool);
  const answer = await callProcedure(server.trpcUrl, proc, token, input);
  const after = await dbFingerprint(pool);
  const context = `${what}: ${proc.path} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.code, context).toBe(code);
  expect(answer.status, context).toBe({ NOT_FOUND: 404, UNAUTHORIZED: 401, FORBIDDEN: 403, BAD_REQUEST: 400 }[code]);
  expect(changedTables(before, after), `${context}: the refusal changed data`).toEqual([]);
  expect(LEAK.test(answer.text), `${context}: leaks internals`).toBe(false);
  for (const secret of secrets) expect(answer.text.includes(secret), `${context}: leaks ${secret}`).toBe(false);
  return answer;
}

const proc = (path: string) => {
  const found = procedures.find((p) => p.path === path);
  if (!found) throw new Error(`no procedure ${path}`);
  return found;
};

describe("another customer's ids", () => {
  const strangers: [string, Customer][] = [
    ['another customer', mallory],
    ['an anonymous customer with the same id string', aliceAnonymous],
    ['the same id, another case', { type: 'user', id: alice.id.toUpperCase() }],
  ];

  it('Alice herself can use them (the ids below are real)', async () => {
    expect((await api.orders.get.query({ customer: alice, orderId: own.pendingOrderId })).id).toBe(own.pendingOrderId);
    expect((await api.carts.get.query({ customer: alice, cartId: own.openCartId })).id).toBe(own.openCartId);
  });

  for (const [who, stranger] of strangers) {
    it(`as ${who}: NOT_FOUND for each of Alice's carts and orders, nothing changed, nothing leaked`, async () => {
      const calls: [string, unknown, string[]][] = [
        ['orders.get', { customer: stranger, orderId: own.pendingOrderId }, [own.pendingOrderId]],
        ['orders.get', { customer: stranger, orderId: own.paidOrderId }, [own.paidOrderId]],
        ['carts.get', { customer: stranger, cartId: own.openCartId }, [own.openCartId]],
        ['carts.get', { customer: stranger, cartId: own.cartId }, [own.cartId]],
        ['carts.setItem', { customer: stranger, cartId: own.openCartId, sku: 'OWN-1', quantity: 7 }, [own.openCartId]],
        ['carts.setItem', { customer: stranger, cartId: own.openCartId, sku: 'OWN-1', quantity: 0 }, [own.openCartId]],
        ['orders.create', { customer: stranger, cartId: own.openCartId }, [own.openCartId]],
        ['payments.attemptToPay', { customer: stranger, orderId: own.pendingOrderId, returnUrl: 'https://evil.example/' }, [own.pendingOrderId]],
        ['payments.attemptToPay', { customer: stranger, orderId: own.paidOrderId }, [own.paidOrderId]],
      ];
      for (const [path, input, passed] of calls) {
        // The caller named the id it asked about; anything else of Alice's must stay unsaid.
        await refused(who, proc(path), SERVICE_KEY, input, 'NOT_FOUND', aliceSecrets(passed).filter((s) => !(s === 'alice-' && stranger.id.startsWith('alice-'))));
      }
      // Listing shows the stranger's own orders only: none of Alice's.
      const list = await callProcedure(server.trpcUrl, proc('orders.list'), SERVICE_KEY, { customer: stranger, page: 1, pageSize: 100 });
      expect(list.status).toBe(200);
      for (const secret of [own.pendingOrderId, own.paidOrderId]) expect(list.text).not.toContain(secret);
    });
  }

  it('an unknown id answers exactly like another owner’s id (existence does not leak)', async () => {
    const theirs = await callProcedure(server.trpcUrl, proc('orders.get'), SERVICE_KEY, { customer: mallory, orderId: own.pendingOrderId });
    const nobodys = await callProcedure(server.trpcUrl, proc('orders.get'), SERVICE_KEY, { customer: mallory, orderId: randomUUID() });
    expect([theirs.status, theirs.code, theirs.message]).toEqual([nobodys.status, nobodys.code, nobodys.message]);
    const cartTheirs = await callProcedure(server.trpcUrl, proc('carts.get'), SERVICE_KEY, { customer: mallory, cartId: own.openCartId });
    const cartNobodys = await callProcedure(server.trpcUrl, proc('carts.get'), SERVICE_KEY, { customer: mallory, cartId: randomUUID() });
    expect([cartTheirs.status, cartTheirs.code, cartTheirs.message]).toEqual([cartNobodys.status, cartNobodys.code, cartNobodys.message]);
  });

  it('payments.updateAttempt by externalId: an unknown id is NOT_FOUND; a wrong amount is refused without changing the attempt', async () => {
    await refused('unknown payment', proc('payments.updateAttempt'), SERVICE_KEY, { externalId: 'PAY-NOPE0000000000000000000', status: 'succeeded', amount: 1500, currency: 'USD' }, 'NOT_FOUND', aliceSecrets());
    const before = await pool.query('select status from order_payment_attempt where id = $1', [own.attemptId]);
    const answer = await callProcedure(server.trpcUrl, proc('payments.updateAttempt'), SERVICE_KEY, { externalId: own.externalId, status: 'succeeded', amount: 1, currency: 'USD' });
    expect(answer.code).toBe('PRECONDITION_FAILED');
    expect(LEAK.test(answer.text)).toBe(false);
    expect((await pool.query('select status from order_payment_attempt where id = $1', [own.attemptId])).rows).toEqual(before.rows);
  });
});

describe('service keys: scopes and validity', () => {
  it('each service procedure is refused (FORBIDDEN) by exactly the key lacking its scope, and by no other', async () => {
    const needs: Record<string, string> = {};
    for (const p of serviceProcedures) {
      // A malformed input: the scope is checked first, so a key that has it gets BAD_REQUEST and nothing runs.
      const forbiddenBy: string[] = [];
      for (const scope of API_KEY_SCOPES) {
        const answer = await callProcedure(server.trpcUrl, p, keys[`without ${scope}`], 'scope-probe');
        expect(['FORBIDDEN', 'BAD_REQUEST'], `${p.path} without ${scope}: ${answer.text.slice(0, 200)}`).toContain(answer.code);
        if (answer.code === 'FORBIDDEN') {
          forbiddenBy.push(scope);
          await refused(`key without ${scope}`, p, keys[`without ${scope}`], 'scope-probe', 'FORBIDDEN', aliceSecrets());
        }
      }
      expect(forbiddenBy, `${p.path} should need exactly one scope`).toHaveLength(1);
      needs[p.path] = forbiddenBy[0]!;
    }
    console.log('scope each service procedure needs:', needs);
    // What the SPEC's callers rely on.
    expect(needs).toMatchObject({
      'catalog.upsertProduct': 'catalog:write',
      'carts.create': 'carts:write',
      'carts.get': 'carts:write',
      'carts.setItem': 'carts:write',
      'orders.create': 'orders:write',
      'orders.get': 'orders:read',
      'orders.list': 'orders:read',
      'orders.getToPay': 'orders:read',
      'payments.attemptToPay': 'payments:write',
      // Asserting that money was taken is its own scope, not part of the customer ones.
      'payments.updateAttempt': 'payments:settle',
      'payments.processOrderToPaid': 'payments:settle',
    } satisfies Record<string, ApiKeyScope>);
  });

  it('a key lacking the scope cannot act on Alice’s order even with valid input (FORBIDDEN, nothing changed)', async () => {
    await refused('without orders:read', proc('orders.get'), keys['without orders:read'], { customer: alice, orderId: own.pendingOrderId }, 'FORBIDDEN', aliceSecrets([own.pendingOrderId, 'alice-']));
    await refused('without payments:settle', proc('payments.processOrderToPaid'), keys['without payments:settle'], { orderId: own.pendingOrderId }, 'FORBIDDEN', aliceSecrets([own.pendingOrderId]));
    await refused('without payments:settle', proc('payments.updateAttempt'), keys['without payments:settle'], { externalId: own.externalId, status: 'succeeded', amount: 1500, currency: 'USD' }, 'FORBIDDEN', aliceSecrets([own.externalId]));
    await refused('the customer scopes only', proc('payments.processOrderToPaid'), keys.customer, { orderId: own.pendingOrderId }, 'FORBIDDEN', aliceSecrets([own.pendingOrderId]));
    await refused('without carts:write', proc('carts.setItem'), keys['without carts:write'], { customer: alice, cartId: own.openCartId, sku: 'OWN-1', quantity: 9 }, 'FORBIDDEN', aliceSecrets([own.openCartId, 'alice-']));
  });

  for (const [who, credential] of [
    ['a disabled key', () => keys.disabled],
    ['an unknown key', () => keys.unknown],
    ['no credential', () => undefined],
    ['a malformed Authorization value', () => 'two words'],
  ] as [string, () => string | undefined][]) {
    it(`${who}: UNAUTHORIZED on every procedure but auth.login, even with Alice's real ids`, async () => {
      for (const p of procedures.filter((x) => x.path !== 'auth.login' && x.type !== 'subscription')) {
        await refused(who, p, credential(), 'auth-probe', 'UNAUTHORIZED', aliceSecrets());
      }
      await refused(who, proc('orders.get'), credential(), { customer: alice, orderId: own.pendingOrderId }, 'UNAUTHORIZED', aliceSecrets([own.pendingOrderId, 'alice-']));
    });
  }

  it('a staff token on a service procedure is FORBIDDEN; a service key on a back-office procedure is FORBIDDEN', async () => {
    for (const p of serviceProcedures) await refused('admin token', p, tokens.admin, 'role-probe', 'FORBIDDEN', aliceSecrets());
    for (const p of staffProcedures.filter((x) => x.type !== 'subscription')) await refused('service key', p, SERVICE_KEY, 'role-probe', 'FORBIDDEN', aliceSecrets());
  });
});

describe('staff sessions and roles', () => {
  for (const kind of ['expired', 'revoked', 'disabledUser'] as const) {
    it(`a ${kind === 'disabledUser' ? 'disabled member’s' : kind} session: UNAUTHORIZED on every back-office procedure`, async () => {
      for (const p of staffProcedures.filter((x) => x.type !== 'subscription')) {
        await refused(`${kind} session`, p, tokens[kind], p.hasInput ? 'auth-probe' : undefined, 'UNAUTHORIZED', aliceSecrets());
      }
      await refused(`${kind} session`, proc('backoffice.orders.get'), tokens[kind], { orderId: own.paidOrderId }, 'UNAUTHORIZED', aliceSecrets([own.paidOrderId]));
    });
  }

  it('roles: a viewer only reads; an operator re-syncs, cancels and resolves; only an admin refunds and manages staff and keys', async () => {
    const required: Record<string, StaffRole> = {};
    for (const p of staffProcedures.filter((x) => x.type !== 'subscription' && x.path !== 'auth.logout')) {
      // Malformed input for those that take one: the role is checked first, and nothing can run.
      const input = p.hasInput ? 'role-probe' : undefined;
      let lowest: StaffRole | undefined;
      for (const role of STAFF_ROLES) {
        const answer = await callProcedure(server.trpcUrl, p, tokens[role], input);
        if (answer.code === 'FORBIDDEN') {
          expect(lowest, `${p.path}: ${role} refused although a lower role was allowed`).toBeUndefined();
          await refused(`${role} on ${p.path}`, p, tokens[role], input, 'FORBIDDEN', aliceSecrets());
          continue;
        }
        expect(answer.status, `${p.path} as ${role}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
        lowest ??= role;
      }
      required[p.path] = lowest ?? ('nobody' as StaffRole);
    }
    console.log('lowest role each back-office procedure allows:', required);
    const expected = (path: string, type: ProcType): StaffRole =>
      /refund|\.staff\.|\.apiKeys\./.test(path) ? 'admin' : /cancel|resolve|resync/.test(path) ? 'operator' : type === 'mutation' ? 'operator' : 'viewer';
    for (const [path, role] of Object.entries(required)) {
      expect(role, path).toBe(expected(path, procedures.find((p) => p.path === path)!.type));
    }
  });

  it('a viewer and an operator are refused admin work even with valid input: nothing changes', async () => {
    const cases: [string, unknown, StaffRole[]][] = [
      ['backoffice.payments.refund', { orderId: own.paidOrderId, amount: 100, reason: 'not allowed to' }, ['viewer', 'operator']],
      ['backoffice.orders.cancel', { orderId: own.pendingOrderId, reason: 'not allowed to' }, ['viewer']],
      ['backoffice.payments.resync', { attemptId: own.attemptId, reason: 'not allowed to' }, ['viewer']],
      ['backoffice.staff.create', { email: 'sneaky@orders.example', password: 'sneaky-password-123', role: 'admin' }, ['viewer', 'operator']],
      ['backoffice.apiKeys.create', { name: 'sneaky', scopes: ['orders:read'] }, ['viewer', 'operator']],
    ];
    for (const [path, input, roles] of cases) {
      if (!procedures.some((p) => p.path === path)) continue;
      for (const role of roles) await refused(`${role} with valid input`, proc(path), tokens[role], input, 'FORBIDDEN', aliceSecrets([own.paidOrderId, own.pendingOrderId, own.attemptId]));
    }
  });

  it('unknown ids in back-office procedures are NOT_FOUND without internals', async () => {
    const cases: [string, unknown][] = [
      ['backoffice.orders.get', { orderId: randomUUID() }],
      ['backoffice.orders.cancel', { orderId: randomUUID(), reason: 'no such order' }],
      ['backoffice.payments.resync', { attemptId: randomUUID(), reason: 'no such attempt' }],
      ['backoffice.payments.refund', { orderId: randomUUID(), amount: 1, reason: 'no such order' }],
      ['backoffice.staff.setDisabled', { staffId: randomUUID(), disabled: true }],
      ['backoffice.staff.setRole', { staffId: randomUUID(), role: 'viewer' }],
      ['backoffice.apiKeys.setDisabled', { apiKeyId: randomUUID(), disabled: true }],
    ];
    for (const [path, input] of cases) {
      if (!procedures.some((p) => p.path === path)) continue;
      await refused('unknown id', proc(path), tokens.admin, input, 'NOT_FOUND', aliceSecrets());
    }
  });

  it('live updates (subscriptions) refuse a missing, service or expired credential', async () => {
    for (const p of staffProcedures.filter((x) => x.type === 'subscription')) {
      for (const [who, token, code] of [
        ['nobody', undefined, 'UNAUTHORIZED'],
        ['a service key', SERVICE_KEY, 'FORBIDDEN'],
        ['an expired session', tokens.expired, 'UNAUTHORIZED'],
        ['a revoked session', tokens.revoked, 'UNAUTHORIZED'],
      ] as [string, string | undefined, string][]) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 3_000);
        const response = await fetch(`${server.trpcUrl}/${p.path}`, {
          headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          signal: controller.signal,
        });
        // Either a plain error answer or an event stream whose first event is the error.
        let text = '';
        try {
          const reader = response.body!.getReader();
          const decoder = new TextDecoder();
          while (!text.includes(code) && !text.includes('"result"')) {
            const { value, done } = await reader.read();
            if (done) break;
            text += decoder.decode(value);
          }
          await reader.cancel().catch(() => {});
        } catch {}
        clearTimeout(timer);
        controller.abort();
        expect(text, `${p.path} as ${who} (${response.status}): ${text.slice(0, 200)}`).toContain(code);
        expect(text).not.toContain('"result"');
      }
    }
  });
});

describe('the browser routes: a forged return or cancel changes nobody’s payment', () => {
  it('a made-up PayerID on Alice’s payment (before and after she approves): refused, attempt and order untouched; her own return then pays', async () => {
    const state = async () =>
      (await pool.query(`select o.status, a.status as attempt, a.payer_id from "order" o join order_payment_attempt a on a.order_id = o.id where a.id = $1`, [own.attemptId])).rows[0];
    const forge = (payerId: string) => fetch(`${server.url}/paypal/return?paymentId=${own.externalId}&PayerID=${payerId}&token=${own.approvalToken}`, { redirect: 'manual' });
    const initial = await state();
    expect(initial.status).toBe('pending');
    for (const payerId of ['WRONGPAYER1234', 'ABC%20DEF%2F..', 'P'.repeat(100), '%00']) {
      const response = await forge(payerId);
      await response.arrayBuffer();
      expect(response.status, `PayerID=${payerId}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `PayerID=${payerId}`).toBeLessThan(500);
      expect((await state()).status, `PayerID=${payerId}`).toBe('pending');
    }
    const { redirectUrl } = server.paypal.simulator!.control.approve(own.externalId, 'approve');
    const afterApproval = await forge('WRONGPAYER1234');
    await afterApproval.arrayBuffer();
    expect(afterApproval.status).toBeGreaterThanOrEqual(400);
    expect(afterApproval.status).toBeLessThan(500);
    expect(await state()).toMatchObject({ status: 'pending' });
    expect(['created', 'approved']).toContain((await state()).attempt);
    // Alice comes back for real: paid.
    expect(await (await fetch(redirectUrl)).text()).toContain('Payment received');
    expect(await state()).toMatchObject({ status: 'paid', attempt: 'succeeded' });
  });

  it('/paypal/cancel with Alice’s attempt id but not her token: 404, nothing changed', async () => {
    const { customer, order } = await (async () => {
      const cart = await api.carts.create.mutate({ customer: alice });
      await api.carts.setItem.mutate({ customer: alice, cartId: cart.id, sku: 'OWN-1', quantity: 1 });
      return { customer: alice, order: await api.orders.create.mutate({ customer: alice, cartId: cart.id }) };
    })();
    const attempt = await api.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const real = new URL(attempt.approvalUrl).searchParams.get('token')!;
    // A prefix of the real token (down to one letter) once passed a substring check and cancelled the payment.
    for (const token of ['', 'E', 'EC-', real.slice(0, -1), `${real}x`, 'EC-WRONG', '%00']) {
      const before = await dbFingerprint(pool);
      const response = await fetch(`${server.url}/paypal/cancel?attemptId=${attempt.attemptId}&token=${token}`, { redirect: 'manual' });
      const text = await response.text();
      expect(response.status, `token=${token}`).toBe(404);
      expect(changedTables(before, await dbFingerprint(pool))).toEqual([]);
      expect(text).not.toContain(order.id);
    }
  });
});
