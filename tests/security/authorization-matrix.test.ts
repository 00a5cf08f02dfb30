import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, STAFF_ROLES, type ApiKeyScope, type StaffRole } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { createLogger } from '@orders/server/logger.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { appRouter } from '@orders/server/trpc/root.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { callProcedure, listProcedures, type ProcedureInfo } from './support.ts';

/**
 * Who may call what: one entry per procedure. The matrix below is generated from the router, so a
 * procedure added without an entry here fails this file.
 */
type Access = { public: true } | { scope: ApiKeyScope } | { role: StaffRole };
const PUBLIC: Access = { public: true };
const scope = (s: ApiKeyScope): Access => ({ scope: s });
const role = (r: StaffRole): Access => ({ role: r });

const ACCESS: Record<string, Access> = {
  'auth.login': PUBLIC,
  'auth.me': role('viewer'),
  'auth.logout': role('viewer'),
  'catalog.upsertProduct': scope('catalog:write'),
  'carts.create': scope('carts:write'),
  'carts.setItem': scope('carts:write'),
  'carts.get': scope('carts:write'),
  'orders.create': scope('orders:write'),
  'orders.get': scope('orders:read'),
  'orders.list': scope('orders:read'),
  'orders.getToPay': scope('orders:read'),
  'payments.attemptToPay': scope('payments:write'),
  'payments.updateAttempt': scope('payments:settle'),
  'payments.processOrderToPaid': scope('payments:settle'),
  'backoffice.orders.search': role('viewer'),
  'backoffice.orders.get': role('viewer'),
  'backoffice.orders.exportCsv': role('viewer'),
  'backoffice.orders.cancel': role('operator'),
  'backoffice.orders.resolve': role('operator'),
  'backoffice.orders.addNote': role('operator'),
  'backoffice.payments.resync': role('operator'),
  'backoffice.payments.refund': role('admin'),
  'backoffice.payments.refundDuplicate': role('admin'),
  'backoffice.payments.refundLines': role('admin'),
  'backoffice.bulkCancel': role('operator'),
  'backoffice.dashboard': role('viewer'),
  'backoffice.reconciliation.summary': role('viewer'),
  'backoffice.reconciliation.list': role('viewer'),
  'backoffice.events.onChange': role('viewer'),
  'backoffice.staff.list': role('admin'),
  'backoffice.staff.create': role('admin'),
  'backoffice.staff.setDisabled': role('admin'),
  'backoffice.staff.setRole': role('admin'),
  'backoffice.staff.securityEvents': role('admin'),
  'backoffice.apiKeys.list': role('admin'),
  'backoffice.apiKeys.create': role('admin'),
  'backoffice.apiKeys.setDisabled': role('admin'),
};

type Credential = { name: string; kind: 'none' } | { name: string; kind: 'key'; scopes: readonly ApiKeyScope[] } | { name: string; kind: 'staff'; role: StaffRole };
const CREDENTIALS: Credential[] = [
  { name: 'no credential', kind: 'none' },
  ...API_KEY_SCOPES.map((s): Credential => ({ name: `key with only ${s}`, kind: 'key', scopes: [s] })),
  { name: 'key with every scope', kind: 'key', scopes: API_KEY_SCOPES },
  { name: 'key with no scope', kind: 'key', scopes: [] },
  ...STAFF_ROLES.map((r): Credential => ({ name: `${r} session`, kind: 'staff', role: r })),
];

type Expected = 'allowed' | 'UNAUTHORIZED' | 'FORBIDDEN';
function expected(access: Access, credential: Credential): Expected {
  if ('public' in access) return 'allowed';
  if (credential.kind === 'none') return 'UNAUTHORIZED';
  if ('scope' in access) return credential.kind === 'key' && credential.scopes.includes(access.scope) ? 'allowed' : 'FORBIDDEN';
  return credential.kind === 'staff' && STAFF_ROLES.indexOf(credential.role) >= STAFF_ROLES.indexOf(access.role) ? 'allowed' : 'FORBIDDEN';
}

let db: TestDatabase;
let server: RunningServer;
const keys = new Map<string, string>();
const PASSWORD = 'matrix-password-0123456789';
const procedures: ProcedureInfo[] = listProcedures(appRouter);

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(loadConfig({ DATABASE_URL: db.url, PORT: '0', LOGIN_RATE_LIMIT: '0' }), { logger: createLogger('silent') });
  for (const credential of CREDENTIALS) {
    if (credential.kind === 'key') {
      // A key with no scope cannot be made through the API; it is written as an old row could be.
      const made = await server.services.staff.createApiKey(credential.name, credential.scopes.length ? credential.scopes : ['orders:read']);
      if (!credential.scopes.length) await server.orm.em.fork().getConnection().execute(`update api_key set scopes = '{}' where id = ?`, [made.id]);
      keys.set(credential.name, made.key);
    }
    if (credential.kind === 'staff') await server.services.staff.ensureStaff(`${credential.role}@matrix.example`, PASSWORD, credential.role);
  }
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** A fresh token per call for staff: a probe of auth.logout must not end the session the next probe uses. */
async function tokenFor(credential: Credential): Promise<string | undefined> {
  if (credential.kind === 'none') return undefined;
  if (credential.kind === 'key') return keys.get(credential.name);
  return (await server.services.staff.login(`${credential.role}@matrix.example`, PASSWORD)).token;
}

/** What a subscription answers first: an error code, or `allowed` once the stream opened. */
async function subscribe(path: string, token: string | undefined): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    const response = await fetch(`${server.trpcUrl}/${path}`, {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const found = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? (/event: connected/.test(text) ? 'allowed' : undefined);
      if (found) return found;
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value);
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe('authorization matrix, generated from the router', () => {
  it('every procedure of appRouter has an entry, and every entry is a procedure', () => {
    expect(procedures.map((p) => p.path).sort()).toEqual(Object.keys(ACCESS).sort());
  });

  for (const proc of procedures) {
    it(`${proc.path} (${proc.type}): ${CREDENTIALS.length} credentials`, async () => {
      const access = ACCESS[proc.path];
      expect(access, `${proc.path} has no entry in ACCESS: say who may call it`).toBeDefined();
      const outcomes: string[] = [];
      for (const credential of CREDENTIALS) {
        const want = expected(access!, credential);
        const token = await tokenFor(credential);
        let got: string;
        if (proc.type === 'subscription') {
          got = await subscribe(proc.path, token);
        } else {
          // Malformed input where there is one: credentials are checked first, and nothing can run.
          const answer = await callProcedure(server.trpcUrl, proc, token, proc.hasInput ? 'matrix-probe' : undefined);
          expect(answer.status, `${proc.path} as ${credential.name}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
          got = answer.code === 'UNAUTHORIZED' || answer.code === 'FORBIDDEN' ? answer.code : 'allowed';
          // A refusal says why in the caller's terms: a staff login is not an API key missing a scope.
          if (got === 'FORBIDDEN' && 'scope' in access!) {
            expect(answer.text, `${proc.path} as ${credential.name}`).toContain(credential.kind === 'staff' ? 'a staff login cannot call this' : `the API key lacks the ${access.scope} scope`);
          }
        }
        outcomes.push(`${credential.name}: ${got}`);
        expect(got, `${proc.path} as ${credential.name}`).toBe(want);
      }
      expect(outcomes).toHaveLength(CREDENTIALS.length);
    });
  }
});
