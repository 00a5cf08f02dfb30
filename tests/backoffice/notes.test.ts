import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffice } from '@orders/shared';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { pendingOrder } from '../support/paypal-server.ts';

/* Internal notes on an order through the public tRPC API: who may write them, what they look like on the detail, their audit trail. */

let env: BackofficeTestEnv;
let viewer: StaffSession;
let operator: StaffSession;
beforeAll(async () => {
  env = await startBackofficeEnv();
  [viewer, operator] = await Promise.all([env.staff('viewer'), env.staff('operator')]);
});
afterAll(() => env.close());

async function noteCount(orderId: string): Promise<number> {
  const { rows } = await env.pool.query('select count(*)::int as n from order_note where order_id = $1', [orderId]);
  return rows[0].n as number;
}

describe('backoffice.orders.addNote', () => {
  it('operators and admins add notes; the detail lists them oldest first with who and when; each is in the audit trail', async () => {
    const { order } = await pendingOrder(env.client);
    const started = Date.now();
    const first = await operator.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: '  Customer called: wants the lamp gift-wrapped.  ' });
    expect(first).toMatchObject({ orderId: order.id, body: 'Customer called: wants the lamp gift-wrapped.', staffId: operator.id, staffEmail: operator.email });
    expect(Date.parse(first.createdAt)).toBeGreaterThanOrEqual(started - 5_000);
    // Markup is stored as text, as written: the app renders it as text (React escapes it).
    const markup = '<img src=x onerror="alert(1)"> & <b>bold</b>';
    const second = await env.admin.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: markup });
    expect(second.body).toBe(markup);

    const detail = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.notes.map((n) => [n.id, n.body, n.staffEmail])).toEqual([
      [first.id, 'Customer called: wants the lamp gift-wrapped.', operator.email],
      [second.id, markup, ADMIN.email],
    ]);
    const audited = detail.audit.filter((a) => a.action === 'order.note_added');
    expect(audited.map((a) => [a.actorLabel, a.after])).toEqual([
      [operator.email, { noteId: first.id, note: 'Customer called: wants the lamp gift-wrapped.' }],
      [ADMIN.email, { noteId: second.id, note: markup }],
    ]);
  });

  it('refuses a viewer, an empty or overlong note, an unknown order — and writes nothing', async () => {
    const { order } = await pendingOrder(env.client);
    const auditBefore = (await env.pool.query('select count(*)::int as n from audit_entry where order_id = $1', [order.id])).rows[0].n;
    await expect(viewer.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: 'just looking' })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    await expect(operator.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: '   ' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'body' },
      message: expect.stringContaining('cannot be empty'),
    });
    await expect(
      operator.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: 'x'.repeat(backoffice.NOTE_MAX_LENGTH + 1) }),
    ).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'body' } });
    await expect(operator.client.backoffice.orders.addNote.mutate({ orderId: randomUUID(), body: 'who?' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(operator.client.backoffice.orders.addNote.mutate({ orderId: 'not-a-uuid', body: 'who?' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'orderId' } });
    // Exactly the limit is fine.
    const longest = await operator.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: 'y'.repeat(backoffice.NOTE_MAX_LENGTH) });
    expect(longest.body).toHaveLength(backoffice.NOTE_MAX_LENGTH);
    expect(await noteCount(order.id)).toBe(1);
    const auditAfter = (await env.pool.query('select count(*)::int as n from audit_entry where order_id = $1', [order.id])).rows[0].n;
    expect(auditAfter).toBe(auditBefore + 1);
  });
});
