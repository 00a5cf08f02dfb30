import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningServer } from '@orders/server/server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';

/*
 * The bearer lookup every authenticated call makes (StaffService.authenticate, the database function
 * orders_authenticate, whose plan each connection keeps): each credential that stopped working is
 * refused on the very next call, also after the lookup has run often enough on every connection for
 * PL/pgSQL to plan it once for all (five calls; here 30 between two changes, over the request pool).
 */
const PASSWORD = 'lookup-member-password-0123';
let bed: TestBed;
let server: RunningServer;

beforeAll(async () => {
  bed = await openTestBed();
  server = await bed.startServer({ LOGIN_RATE_LIMIT: '0' });
});
afterAll(async () => bed?.close());

const lookup = (token: string) => server.services.staff.authenticate(token);
/** The lookup run `times` at once (spread over the pool's connections), each answer the same. */
async function settled(token: string, times = 30) {
  const answers = await Promise.all(Array.from({ length: times }, () => lookup(token)));
  for (const answer of answers) expect(answer).toEqual(answers[0]);
  return answers[0];
}

async function member(role: 'viewer' | 'operator' | 'admin') {
  const email = `lookup-${randomUUID().slice(0, 8)}@orders.example`;
  const staff = await server.services.staff.ensureStaff(email, PASSWORD, role);
  const { token } = await server.services.staff.login(email, PASSWORD);
  return { staff, token };
}

describe('bearer lookup', () => {
  it('finds a staff session with its member, and nobody for an unknown token', async () => {
    const { staff, token } = await member('operator');
    const principal = await settled(token);
    expect(principal).toMatchObject({ kind: 'staff', staffId: staff.id, email: staff.email, role: 'operator' });
    expect(await settled(`${token}x`)).toBeUndefined();
    expect(await settled('')).toBeUndefined();
  });

  it('reads the role as it is now, and refuses a revoked or expired session and a disabled member on the next call', async () => {
    const a = await member('viewer');
    expect(await settled(a.token)).toMatchObject({ role: 'viewer' });
    await bed.pool.query(`update staff_user set role = 'admin' where id = $1`, [a.staff.id]);
    expect(await settled(a.token)).toMatchObject({ role: 'admin' });

    const principal = await settled(a.token);
    await server.services.staff.logout((principal as { sessionId: string }).sessionId);
    expect(await lookup(a.token)).toBeUndefined();

    const b = await member('viewer');
    expect(await settled(b.token)).toMatchObject({ kind: 'staff' });
    await bed.pool.query(`update staff_session set expires_at = now() - interval '1 second' where staff_id = $1`, [b.staff.id]);
    expect(await lookup(b.token)).toBeUndefined();

    const c = await member('admin');
    expect(await settled(c.token)).toMatchObject({ kind: 'staff' });
    await bed.pool.query(`update staff_user set disabled = true where id = $1`, [c.staff.id]);
    expect(await lookup(c.token)).toBeUndefined();
  });

  it('finds a service key with its name and scopes, notes when it was last used (once a minute), and refuses it disabled', async () => {
    const created = await server.services.staff.createApiKey(`lookup-${randomUUID().slice(0, 8)}`, ['orders:read', 'orders:write']);
    const lastUsed = async () => (await bed.pool.query<{ at: Date | null }>(`select last_used_at as at from api_key where id = $1`, [created.id])).rows[0]!.at;
    expect(await lastUsed()).toBeNull();
    const principal = await settled(created.key);
    expect(principal).toEqual({ kind: 'service', apiKeyId: created.id, name: created.name, scopes: new Set(['orders:read', 'orders:write']) });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await settled(created.key);
    expect(await lastUsed()).toEqual(first);
    await bed.pool.query(`update api_key set last_used_at = now() - interval '2 minutes' where id = $1`, [created.id]);
    await lookup(created.key);
    expect(Date.now() - (await lastUsed())!.getTime()).toBeLessThan(30_000);

    await server.services.staff.setApiKeyDisabled(created.id, true);
    expect(await lookup(created.key)).toBeUndefined();
    await server.services.staff.setApiKeyDisabled(created.id, false);
    expect(await settled(created.key)).toMatchObject({ kind: 'service', apiKeyId: created.id });
  });

  it('answers the same on a connection past PL/pgSQL\'s fifth call (its generic plan from then on)', async () => {
    const { token } = await member('viewer');
    const client = await bed.pool.connect();
    try {
      const hash = (await client.query<{ h: string }>(`select token_hash as h from staff_session order by created_at desc limit 1`)).rows[0]!.h;
      for (let i = 0; i < 8; i++) await client.query(`select * from orders_authenticate($1, '1 minute'::interval)`, [hash]);
      // After five custom plans PL/pgSQL keeps a generic one: the lookup still finds the session.
      const found = await client.query(`select * from orders_authenticate($1, '1 minute'::interval)`, [hash]);
      expect(found.rows).toEqual([expect.objectContaining({ kind: 'staff', role: 'viewer' })]);
    } finally {
      client.release();
    }
    expect(await lookup(token)).toMatchObject({ kind: 'staff' });
  });
});
