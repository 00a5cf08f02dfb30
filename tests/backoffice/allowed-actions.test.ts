import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderAction, StaffRole } from '@orders/shared';
import { startBackofficeEnv, parseCsv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, pendingOrder, waitFor } from '../support/paypal-server.ts';

let env: BackofficeTestEnv;
let staff: Record<StaffRole, StaffSession>;
beforeAll(async () => {
  env = await startBackofficeEnv();
  const [viewer, operator] = await Promise.all([env.staff('viewer'), env.staff('operator')]);
  staff = { viewer, operator, admin: env.admin };
});
afterAll(() => env.close());

const refused = (code: string) => ({ data: { code } });

async function paidOrder() {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  await waitFor(async () => ((await env.client.orders.get.query({ customer, orderId: order.id })).status === 'paid' ? true : undefined), 20_000, 'paid');
  return { customer, order, attempt };
}

const allowed = async (role: StaffRole, orderId: string) => {
  const detail = await staff[role].client.backoffice.orders.get.query({ orderId });
  expect(detail.role).toBe(role);
  return detail.allowedActions;
};

describe('orders.create: the customer as the calling service names them', () => {
  it('stores email and display name, returns them to the caller and shows them to staff', async () => {
    const { customer, order: first } = await pendingOrder(env.client);
    const sku = first.lines[0]!.sku;
    const order = await env.client.orders.create.mutate({ customer, items: [{ sku, quantity: 1 }], customerEmail: 'ada@example.com', customerName: '  Ada Lovelace ' });
    expect(order).toMatchObject({ customerEmail: 'ada@example.com', customerName: 'Ada Lovelace' });
    expect(await env.client.orders.get.query({ customer, orderId: order.id })).toMatchObject({ customerName: 'Ada Lovelace' });
    const detail = await staff.viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order).toMatchObject({ customerEmail: 'ada@example.com', customerName: 'Ada Lovelace' });
    const page = await staff.viewer.client.backoffice.orders.search.query({ customerId: customer.id });
    expect(page.items.find((row) => row.id === order.id)).toMatchObject({ customerName: 'Ada Lovelace' });
  });

  it('takes an internationalised email as written, and staff find the order by it', async () => {
    const { customer, order: first } = await pendingOrder(env.client);
    const items = [{ sku: first.lines[0]!.sku, quantity: 1 }];
    const email = `zoë.${randomUUID().slice(0, 8)}@exämple.com`;
    const order = await env.client.orders.create.mutate({ customer, items, customerEmail: email, customerName: 'Zoë Ångström' });
    expect(order).toMatchObject({ customerEmail: email, customerName: 'Zoë Ångström' });
    const cjk = await env.client.orders.create.mutate({ customer, items, customerEmail: '用户@例子.广告' });
    expect(cjk.customerEmail).toBe('用户@例子.广告');
    const found = await staff.viewer.client.backoffice.orders.search.query({ q: email.slice(0, 12) });
    expect(found.items.map((row) => row.id)).toEqual([order.id]);
  });

  it('refuses a malformed email or an over-long name with BAD_REQUEST naming the field, and creates nothing', async () => {
    const { customer, order: first } = await pendingOrder(env.client);
    const items = [{ sku: first.lines[0]!.sku, quantity: 1 }];
    for (const customerEmail of ['not-an-email', 'x@y', '<a>@b.com', 'a..b@example.com', `a@${'b'.repeat(250)}.com`, 'ada@example.com\u200b']) {
      await expect(env.client.orders.create.mutate({ customer, items, customerEmail }), customerEmail).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'customerEmail' } });
    }
    await expect(env.client.orders.create.mutate({ customer, items, customerName: 'x'.repeat(201) })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'customerName' } });
    const { rows } = await env.pool.query('select count(*)::int as n from "order" where customer_id = $1', [customer.id]);
    expect(rows[0].n).toBe(1);
  });
});

describe('allowedActions: what the server lists is what it accepts, per role', () => {
  it('a pending order with an attempt: viewer nothing, operator resync/cancel/note, admin the same (nothing to refund)', async () => {
    const { customer, order } = await pendingOrder(env.client);
    await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(await allowed('viewer', order.id)).toEqual([]);
    expect(await allowed('operator', order.id)).toEqual(['resync', 'cancel', 'note'] satisfies OrderAction[]);
    expect(await allowed('admin', order.id)).toEqual(['resync', 'cancel', 'note'] satisfies OrderAction[]);

    // Unlisted: refused.
    await expect(staff.viewer.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'viewer tries' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.viewer.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: 'viewer tries' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.operator.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'operator tries' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'nothing was paid' })).rejects.toMatchObject(refused('CONFLICT'));

    // Listed: accepted.
    const attempts = (await staff.operator.client.backoffice.orders.get.query({ orderId: order.id })).attempts;
    await expect(staff.operator.client.backoffice.payments.resync.mutate({ attemptId: attempts[0]!.id })).resolves.toMatchObject({ orderId: order.id });
    await expect(staff.operator.client.backoffice.orders.addNote.mutate({ orderId: order.id, body: 'called the customer' })).resolves.toBeTruthy();
    await expect(staff.operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'customer asked' })).resolves.toMatchObject({ status: 'cancelled' });

    // Cancelled: cancel is gone for everyone, and refused.
    expect(await allowed('admin', order.id)).toEqual(['resync', 'note']);
    await expect(staff.admin.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'again' })).rejects.toMatchObject(refused('CONFLICT'));
  });

  it('a paid order: admin may refund (amount and lines), nobody may cancel; the operator may not refund', async () => {
    const { order } = await paidOrder();
    expect(await allowed('viewer', order.id)).toEqual([]);
    expect(await allowed('operator', order.id)).toEqual(['resync', 'note']);
    expect(await allowed('admin', order.id)).toEqual(['resync', 'refund', 'refundLines', 'note']);
    await expect(staff.admin.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'paid already' })).rejects.toMatchObject(refused('CONFLICT'));
    await expect(staff.operator.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'operator tries' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 100, reason: 'goodwill' })).resolves.toMatchObject({ status: 'partially_refunded' });
    const sku = order.lines[0]!.sku;
    await expect(staff.operator.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: 'operator tries' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: 'one came broken' })).resolves.toMatchObject({ status: 'partially_refunded' });
    const detail = await staff.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.allowedActions).toEqual(['resync', 'refund', 'refundLines', 'note']);
    // Everything given back: refunding is no longer offered, and is refused.
    await staff.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'the rest' });
    expect(await allowed('admin', order.id)).toEqual(['resync', 'note']);
    await expect(staff.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'again' })).rejects.toMatchObject(refused('CONFLICT'));
    await expect(staff.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: 'again' })).rejects.toMatchObject(refused('CONFLICT'));
    // The payer PayPal named (executed payment's payer_info, the IPN's payer_email/first_name/last_name), on the order and its attempt.
    const { rows } = await env.pool.query('select payer_email, payer_name from "order" where id = $1', [order.id]);
    expect(rows[0].payer_email).toMatch(/@/);
    expect(rows[0].payer_name).toMatch(/\S+ \S+/);
    expect(detail.order).toMatchObject({ payerEmail: rows[0].payer_email, payerName: rows[0].payer_name });
    expect(detail.attempts.find((a) => a.status === 'succeeded')).toMatchObject({ payerEmail: rows[0].payer_email, payerName: rows[0].payer_name });
  });
});

describe('backoffice.bulkCancel', () => {
  it('cancels the unpaid orders, skips the rest with why, audits each with the one reason; operator only', async () => {
    const [a, b] = await Promise.all([pendingOrder(env.client), pendingOrder(env.client)]);
    const { order: paid } = await paidOrder();
    const missing = randomUUID();
    const orderIds = [a.order.id, paid.id, b.order.id, missing];
    await expect(staff.viewer.client.backoffice.bulkCancel.mutate({ orderIds, reason: 'clean-up' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(staff.operator.client.backoffice.bulkCancel.mutate({ orderIds, reason: '' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'reason' } });
    await expect(staff.operator.client.backoffice.bulkCancel.mutate({ orderIds: [a.order.id, a.order.id], reason: 'twice' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'orderIds' } });
    const ids = Array.from({ length: 201 }, () => randomUUID());
    await expect(staff.operator.client.backoffice.bulkCancel.mutate({ orderIds: ids, reason: 'too many' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'orderIds' } });
    // Refusals changed nothing.
    expect((await env.client.orders.get.query({ customer: a.customer, orderId: a.order.id })).status).toBe('pending');

    const result = await staff.operator.client.backoffice.bulkCancel.mutate({ orderIds, reason: 'stale test orders' });
    expect(result).toMatchObject({ cancelled: 2, skipped: 2 });
    expect(result.items.map((item) => [item.orderId, item.result])).toEqual([
      [a.order.id, 'cancelled'],
      [paid.id, 'skipped'],
      [b.order.id, 'cancelled'],
      [missing, 'skipped'],
    ]);
    expect(result.items[1]).toMatchObject({ code: 'not_cancellable', status: 'paid' });
    expect(result.items[3]).toMatchObject({ code: 'not_found', number: null });
    const { rows } = await env.pool.query(
      `select order_id, actor_id, reason from audit_entry where action = 'order.cancelled' and order_id = any($1::uuid[]) order by order_id`,
      [[a.order.id, b.order.id, paid.id]],
    );
    expect(rows).toHaveLength(2);
    expect(rows.every((r: { reason: string; actor_id: string }) => r.reason === 'stale test orders' && r.actor_id === staff.operator.id)).toBe(true);
  });
});

describe('CSV export of selected ids', () => {
  it('exports exactly the chosen orders; more than 200 ids or a bad id is a 400', async () => {
    const [a, b, c] = await Promise.all([pendingOrder(env.client), pendingOrder(env.client), pendingOrder(env.client)]);
    const url = `${env.server.url}/backoffice/api/orders.csv`;
    const auth = { authorization: `Bearer ${staff.viewer.token}` };
    const response = await fetch(`${url}?ids=${a.order.id},${c.order.id}`, { headers: auth });
    expect(response.status).toBe(200);
    const [, ...records] = parseCsv(await response.text());
    expect(records.map((r) => r[0]).sort()).toEqual([a.order.id, c.order.id].sort());
    expect(records.map((r) => r[0])).not.toContain(b.order.id);
    const tooMany = Array.from({ length: 201 }, () => randomUUID()).join(',');
    const refusedMany = await fetch(`${url}?ids=${tooMany}`, { headers: auth });
    expect(refusedMany.status).toBe(400);
    expect(await refusedMany.text()).toMatch(/ids/);
    expect((await fetch(`${url}?ids=not-a-uuid`, { headers: auth })).status).toBe(400);
  });
});
