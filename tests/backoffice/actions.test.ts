import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, pendingOrder, processedIpns, SERVICE_KEY } from '../support/paypal-server.ts';

let env: BackofficeTestEnv;
let viewer: StaffSession;
let operator: StaffSession;
beforeAll(async () => {
  env = await startBackofficeEnv();
  [viewer, operator] = await Promise.all([env.staff('viewer'), env.staff('operator')]);
});
afterAll(() => env.close());

const refused = (code: string) => ({ data: { code } });

async function orderRow(orderId: string) {
  const { rows } = await env.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string | null };
}

async function orderFor(customer: Customer) {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  await env.client.catalog.upsertProduct.mutate({ sku, name: `Thing ${sku}`, unitPrice: 1250, currency: 'USD', stock: 100 });
  const cart = await env.client.carts.create.mutate({ customer });
  await env.client.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity: 2 });
  return env.client.orders.create.mutate({ customer, cartId: cart.id });
}

/** An order paid through the simulator, its IPN processed. */
async function paidOrder() {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  const saleId = (await orderRow(order.id)).payment_transaction_id!;
  await processedIpns(env.pool, saleId);
  return { customer, order, attempt, saleId };
}

describe('backoffice.orders.get', () => {
  it('shows the lines, every attempt, every payment event (the IPN as received), the audit trail and the customer’s other orders', async () => {
    const customer: Customer = { type: 'user', id: `detail-${randomUUID()}` };
    await orderFor(customer);
    const order = await orderFor(customer);
    const cancelled = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, cancelled.externalId, 'cancel');
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    const saleId = (await orderRow(order.id)).payment_transaction_id!;
    const [ipn] = await processedIpns(env.pool, saleId);

    const detail = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order).toMatchObject({ id: order.id, status: 'paid', paymentTransactionId: saleId, externalId: attempt.externalId, payerEmail: 'buyer@example.com' });
    expect(detail.linesFrozen).toBe(true);
    expect(detail.lines).toEqual([expect.objectContaining({ quantity: 2, unitPrice: 1250, lineTotal: 2500, currency: 'USD' })]);
    expect(detail.attempts.map((a) => [a.id, a.status])).toEqual([
      [cancelled.attemptId, 'cancelled'],
      [attempt.attemptId, 'succeeded'],
    ]);
    expect(detail.attempts[1]).toMatchObject({ saleId, saleState: 'completed', amount: 2500, currency: 'USD', externalId: attempt.externalId });
    expect(detail.attempts[1]!.succeededAt).toMatch(/Z$/);
    expect(detail.events.map((e) => e.source)).toEqual(expect.arrayContaining(['provider', 'cancel', 'return', 'ipn']));
    const event = detail.events.find((e) => e.source === 'ipn')!;
    expect(event).toMatchObject({ id: ipn!.id, txnId: saleId, verification: 'verified', processing: 'processed', providerStatus: 'Completed', attemptId: attempt.attemptId });
    expect(event.raw).toBe(Buffer.from(ipn!.raw_body).toString('latin1'));
    expect(event.raw).toContain('payment_status=Completed');
    expect(detail.audit.map((a) => [a.action, a.actorType, a.actorLabel])).toEqual([
      // WHO names the API key, not its id.
      ['order.created', 'service', 'API key "bootstrap"'],
      ['order.paid', 'paypal', null],
    ]);
    expect(detail.customerOrderCount).toBe(1);
  });

  it('an unknown order is NOT_FOUND; a malformed id BAD_REQUEST', async () => {
    await expect(viewer.client.backoffice.orders.get.query({ orderId: randomUUID() })).rejects.toMatchObject(refused('NOT_FOUND'));
    await expect(viewer.client.backoffice.orders.get.query({ orderId: 'nope' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'orderId' } });
  });
});

describe('backoffice.payments.resync', () => {
  it('applies what PayPal says: a payment executed at PayPal whose return never reached us', async () => {
    env.sim.control.setIpnMode({ paused: true });
    try {
      const { customer, order } = await pendingOrder(env.client);
      const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
      const payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
      // PayPal executed it (say, for a process that died before saving the answer); we never heard.
      await env.server.paypal.gateway.executePayment({ requestId: `lost-${attempt.attemptId}`, paymentId: attempt.externalId, payerId });
      expect((await orderRow(order.id)).status).toBe('pending');

      await expect(viewer.client.backoffice.payments.resync.mutate({ attemptId: attempt.attemptId })).rejects.toMatchObject(refused('FORBIDDEN'));
      const result = await operator.client.backoffice.payments.resync.mutate({ attemptId: attempt.attemptId, reason: 'the buyer says they paid' });
      expect(result).toMatchObject({ orderId: order.id, status: 'paid', attemptId: attempt.attemptId, attemptStatus: 'succeeded', result: 'paid' });
      const again = await operator.client.backoffice.payments.resync.mutate({ attemptId: attempt.attemptId });
      expect(again).toMatchObject({ status: 'paid', result: 'already_applied' });

      const { audit } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
      const staffEntries = audit.filter((a) => a.actorType === 'staff');
      expect(staffEntries.map((a) => a.action)).toEqual(['order.paid', 'payment.resynced', 'payment.resynced']);
      expect(staffEntries.every((a) => a.actorId === operator.id && a.actorLabel === operator.email)).toBe(true);
      expect(staffEntries[1]).toMatchObject({
        reason: 'the buyer says they paid',
        before: { attemptId: attempt.attemptId, attemptStatus: 'created', orderStatus: 'pending' },
        after: { attemptStatus: 'succeeded', orderStatus: 'paid', paypalState: 'approved', result: 'paid' },
      });

      // PayPal's own IPN, arriving late, changes nothing.
      env.sim.control.setIpnMode({ paused: false });
      env.sim.control.flushIpns();
      await processedIpns(env.pool, (await orderRow(order.id)).payment_transaction_id!);
      const { rows } = await env.pool.query(`select count(*)::int as n from audit_entry where order_id = $1 and action = 'order.paid'`, [order.id]);
      expect(rows[0].n).toBe(1);
    } finally {
      env.sim.control.setIpnMode({ paused: false });
    }
  });

  it('an attempt PayPal has not completed: nothing changes, the look is still audited', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const result = await operator.client.backoffice.payments.resync.mutate({ attemptId: attempt.attemptId });
    expect(result).toMatchObject({ result: 'no_change', message: 'PayPal says created', status: 'pending', attemptStatus: 'created' });
    const { audit } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(audit.at(-1)).toMatchObject({ action: 'payment.resynced', actorId: operator.id, reason: null });
    await expect(operator.client.backoffice.payments.resync.mutate({ attemptId: randomUUID() })).rejects.toMatchObject(refused('NOT_FOUND'));
  });
});

describe('backoffice.orders.cancel', () => {
  it('cancels an unpaid order: stock released, open attempts cancelled, audited with the reason', async () => {
    const { customer, order, sku } = await pendingOrder(env.client, { stock: 5, quantity: 2 });
    const stock = async () => (await env.pool.query('select stock from product where sku = $1', [sku])).rows[0].stock;
    expect(await stock()).toBe(3);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await expect(viewer.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'duplicate order' })).rejects.toMatchObject(refused('FORBIDDEN'));
    const result = await operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'duplicate order' });
    expect(result).toEqual({ orderId: order.id, status: 'cancelled', refundedAmount: 0, cancelledAttempts: 1 });
    expect(await stock()).toBe(5);
    const { attempts, audit } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(attempts[0]).toMatchObject({ id: attempt.attemptId, status: 'cancelled', failureReason: 'order cancelled by staff' });
    expect(audit.at(-1)).toMatchObject({
      action: 'order.cancelled',
      actorLabel: operator.email,
      before: { status: 'pending' },
      after: { status: 'cancelled' },
      reason: 'duplicate order',
    });
    await expect(operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'again' })).rejects.toMatchObject(refused('CONFLICT'));
    expect(await stock()).toBe(5);
  });

  it('refuses paid and unknown orders, and a missing reason', async () => {
    const { order } = await paidOrder();
    await expect(operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'too late' })).rejects.toMatchObject(refused('CONFLICT'));
    expect((await orderRow(order.id)).status).toBe('paid');
    await expect(operator.client.backoffice.orders.cancel.mutate({ orderId: randomUUID(), reason: 'who?' })).rejects.toMatchObject(refused('NOT_FOUND'));
    await expect(operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: ' ' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'reason' } });
  });
});

describe('backoffice.payments.refund', () => {
  it('admin refunds part, then the rest, through PayPal; PayPal’s refund IPNs count nothing twice', async () => {
    const { order, saleId } = await paidOrder();
    for (const staff of [viewer, operator]) {
      await expect(staff.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 100, reason: 'goodwill' })).rejects.toMatchObject(refused('FORBIDDEN'));
    }
    const first = await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1000, reason: 'one item came broken' });
    expect(first).toMatchObject({ orderId: order.id, status: 'partially_refunded', refundedAmount: 1000, amount: 1000, currency: 'USD' });
    const [ipn] = await processedIpns(env.pool, first.providerRefundId);
    expect(ipn).toMatchObject({ verification: 'verified', processing: 'processed', outcome: expect.stringContaining('already applied') });
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 });

    // More than what is left: refused, nothing recorded, nothing sent to PayPal.
    const refundsBefore = (await env.pool.query('select count(*)::int as n from order_refund')).rows[0].n;
    await expect(env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 1501, reason: 'too much' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'amount' },
      message: 'amount: at most $15.00 can still be refunded',
    });
    expect((await env.pool.query('select count(*)::int as n from order_refund')).rows[0].n).toBe(refundsBefore);
    expect(env.sim.control.getState().refunds.filter((r) => r.saleId === saleId)).toHaveLength(1);

    const rest = await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'customer returned the rest' });
    expect(rest).toMatchObject({ status: 'refunded', refundedAmount: 2500, amount: 1500 });
    await processedIpns(env.pool, rest.providerRefundId);
    expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 });
    expect(env.sim.control.getState().sales.find((s) => s.id === saleId)).toMatchObject({ state: 'refunded', refunded: 2500 });
    await expect(env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'once more' })).rejects.toMatchObject(refused('CONFLICT'));

    const { audit, events } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(audit.filter((a) => a.action === 'order.refunded').map((a) => [a.actorLabel, a.reason, a.after])).toEqual([
      [ADMIN.email, 'one item came broken', { status: 'partially_refunded', refundedAmount: 1000 }],
      [ADMIN.email, 'customer returned the rest', { status: 'refunded', refundedAmount: 2500 }],
    ]);
    expect(events.filter((e) => e.source === 'provider' && e.txnId === first.providerRefundId)).toHaveLength(1);
    const { rows } = await env.pool.query('select status, amount, staff_id, provider_refund_id from order_refund where order_id = $1 order by created_at', [order.id]);
    expect(rows).toEqual([
      { status: 'completed', amount: 1000, staff_id: env.admin.id, provider_refund_id: first.providerRefundId },
      { status: 'completed', amount: 1500, staff_id: env.admin.id, provider_refund_id: rest.providerRefundId },
    ]);
  });

  it('PayPal’s refund IPN processed before PayPal’s answer reaches us: the refund still counts once', async () => {
    const { order } = await paidOrder();
    const gateway = env.server.paypal.gateway;
    const refundSale = gateway.refundSale.bind(gateway);
    // A slow answer: PayPal has refunded, its IPN arrives and is processed, and only then does the answer come back.
    gateway.refundSale = async (input) => {
      const refund = await refundSale(input);
      await processedIpns(env.pool, refund.refundId);
      return refund;
    };
    try {
      const result = await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 700, reason: 'late answer' });
      expect(result).toMatchObject({ status: 'partially_refunded', refundedAmount: 700 });
      const [ipn] = await ipnEvents(env.pool, 'txn_id = $1', [result.providerRefundId]);
      expect(ipn).toMatchObject({ processing: 'processed', outcome: expect.stringContaining('($7.00 of $25.00 refunded)') });
    } finally {
      gateway.refundSale = refundSale;
    }
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 700 });
    const { audit } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(audit.filter((a) => a.action === 'order.refunded').map((a) => a.actorType)).toEqual(['paypal']);
    expect(audit.at(-1)).toMatchObject({
      action: 'order.refund_confirmed',
      actorLabel: ADMIN.email,
      reason: 'late answer',
      after: { status: 'partially_refunded', refundedAmount: 700, providerRefundId: expect.any(String) },
    });
  });

  it('PayPal failing a refund: a clear error, the order untouched, the attempt recorded, nothing held', async () => {
    const { order } = await paidOrder();
    env.sim.control.failNext({ count: 1, status: 500, path: '/v1/payments/sale/' });
    await expect(env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 500, reason: 'goodwill' })).rejects.toMatchObject(
      { data: { code: 'SERVICE_UNAVAILABLE' }, message: expect.stringContaining('INTERNAL_SERVICE_ERROR') },
    );
    expect(await orderRow(order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    const { rows } = await env.pool.query('select status, failure_reason from order_refund where order_id = $1', [order.id]);
    expect(rows).toEqual([{ status: 'failed', failure_reason: expect.stringContaining('INTERNAL_SERVICE_ERROR') }]);
    const { audit } = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(audit.at(-1)).toMatchObject({ action: 'order.refund_failed', actorLabel: ADMIN.email, reason: 'goodwill' });
    // Nothing stays held: the whole amount can still be refunded.
    expect(await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'try again' })).toMatchObject({ status: 'refunded' });
  });

  it('an unpaid order has nothing to refund', async () => {
    const { order } = await pendingOrder(env.client);
    await expect(env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, reason: 'nothing paid' })).rejects.toMatchObject(refused('CONFLICT'));
  });
});

describe('roles', () => {
  it('no token is UNAUTHORIZED; a service API key is FORBIDDEN everywhere in the back office', async () => {
    const nobody = env.clientFor();
    await expect(nobody.backoffice.orders.search.query({})).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED', httpStatus: 401 } });
    await expect(nobody.auth.me.query()).rejects.toMatchObject(refused('UNAUTHORIZED'));
    const service = env.clientFor(SERVICE_KEY);
    await expect(service.backoffice.orders.search.query({})).rejects.toMatchObject({ data: { code: 'FORBIDDEN', httpStatus: 403 } });
    await expect(service.backoffice.reconciliation.summary.query()).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(service.backoffice.orders.cancel.mutate({ orderId: randomUUID(), reason: 'sneaky' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(service.backoffice.staff.list.query()).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(service.auth.me.query()).rejects.toMatchObject(refused('FORBIDDEN'));
  });

  it('viewer reads; operator also acts on orders; only admin refunds and manages staff and keys', async () => {
    const orderId = randomUUID();
    await expect(viewer.client.backoffice.orders.search.query({ limit: 1 })).resolves.toBeTruthy();
    await expect(viewer.client.backoffice.reconciliation.list.query({})).resolves.toBeTruthy();
    for (const call of [
      () => viewer.client.backoffice.orders.cancel.mutate({ orderId, reason: 'nope' }),
      () => viewer.client.backoffice.orders.resolve.mutate({ discrepancyId: `stuck_attempt:${orderId}`, reason: 'nope' }),
      () => viewer.client.backoffice.payments.resync.mutate({ attemptId: orderId }),
      () => operator.client.backoffice.payments.refund.mutate({ orderId, reason: 'nope' }),
      () => operator.client.backoffice.staff.list.query(),
      () => operator.client.backoffice.staff.create.mutate({ email: 'x@orders.example', password: 'long enough password', role: 'admin' }),
      () => operator.client.backoffice.apiKeys.list.query(),
      () => operator.client.backoffice.apiKeys.create.mutate({ name: 'mine', scopes: ['orders:read'] }),
    ]) {
      await expect(call()).rejects.toMatchObject(refused('FORBIDDEN'));
    }
    // Past the role check, operators reach the domain's own answer.
    await expect(operator.client.backoffice.orders.cancel.mutate({ orderId, reason: 'nope' })).rejects.toMatchObject(refused('NOT_FOUND'));
  });

  it('auth.me names the session’s staff member; auth.logout ends that session only', async () => {
    expect(await viewer.client.auth.me.query()).toEqual({ id: viewer.id, email: viewer.email, role: 'viewer' });
    const other = await env.staff('operator');
    const second = await env.clientFor().auth.login.mutate({ email: other.email, password: 'wrong password' }).catch((e) => e);
    expect(second).toMatchObject(refused('UNAUTHORIZED'));
    await other.client.auth.logout.mutate();
    await expect(other.client.auth.me.query()).rejects.toMatchObject(refused('UNAUTHORIZED'));
    expect(await viewer.client.auth.me.query()).toMatchObject({ role: 'viewer' });
  });
});

describe('staff and API keys (admin)', () => {
  it('creates, lists and disables staff; a disabled member is locked out at once; nobody disables themselves or changes their own role; a new role applies at once', async () => {
    const email = `new-${randomUUID().slice(0, 8)}@orders.example`;
    const created = await env.admin.client.backoffice.staff.create.mutate({ email: email.toUpperCase(), password: 'a long enough password', role: 'operator' });
    expect(created).toEqual({ id: expect.any(String), email, role: 'operator', disabled: false, createdAt: expect.stringMatching(/Z$/) });
    await expect(
      env.admin.client.backoffice.staff.create.mutate({ email, password: 'another long password', role: 'admin' }),
    ).rejects.toMatchObject(refused('CONFLICT'));
    const list = await env.admin.client.backoffice.staff.list.query();
    expect(list.map((s) => s.email)).toEqual(expect.arrayContaining([ADMIN.email, email]));
    expect(JSON.stringify(list)).not.toMatch(/password|scrypt/i);

    const session = await env.clientFor().auth.login.mutate({ email, password: 'a long enough password' });
    const member = env.clientFor(session.token);
    expect(await member.auth.me.query()).toMatchObject({ email, role: 'operator' });
    expect(await env.admin.client.backoffice.staff.setDisabled.mutate({ staffId: created.id, disabled: true })).toMatchObject({ disabled: true });
    await expect(member.auth.me.query()).rejects.toMatchObject(refused('UNAUTHORIZED'));
    await expect(env.clientFor().auth.login.mutate({ email, password: 'a long enough password' })).rejects.toMatchObject(refused('UNAUTHORIZED'));
    await env.admin.client.backoffice.staff.setDisabled.mutate({ staffId: created.id, disabled: false });
    await expect(env.clientFor().auth.login.mutate({ email, password: 'a long enough password' })).resolves.toBeTruthy();

    await expect(env.admin.client.backoffice.staff.setDisabled.mutate({ staffId: env.admin.id, disabled: true })).rejects.toMatchObject(refused('CONFLICT'));
    // A role changed by an admin applies to the member's open session from its next call; never one's own.
    const open = env.clientFor((await env.clientFor().auth.login.mutate({ email, password: 'a long enough password' })).token);
    await expect(open.backoffice.orders.cancel.mutate({ orderId: randomUUID(), reason: 'as an operator' })).rejects.toMatchObject(refused('NOT_FOUND'));
    expect(await env.admin.client.backoffice.staff.setRole.mutate({ staffId: created.id, role: 'viewer' })).toMatchObject({ role: 'viewer' });
    expect(await open.auth.me.query()).toMatchObject({ role: 'viewer' });
    await expect(open.backoffice.orders.cancel.mutate({ orderId: randomUUID(), reason: 'as a viewer now' })).rejects.toMatchObject(refused('FORBIDDEN'));
    expect(await env.admin.client.backoffice.staff.setRole.mutate({ staffId: created.id, role: 'viewer' })).toMatchObject({ role: 'viewer' });
    await expect(env.admin.client.backoffice.staff.setRole.mutate({ staffId: env.admin.id, role: 'viewer' })).rejects.toMatchObject(refused('CONFLICT'));
    await expect(env.admin.client.backoffice.staff.setRole.mutate({ staffId: randomUUID(), role: 'viewer' })).rejects.toMatchObject(refused('NOT_FOUND'));
    await expect(env.admin.client.backoffice.staff.setDisabled.mutate({ staffId: randomUUID(), disabled: true })).rejects.toMatchObject(refused('NOT_FOUND'));
    const { rows } = await env.pool.query(`select action, actor_id from audit_entry where action like 'staff.%' and after ->> 'staffId' = $1 order by created_at`, [created.id]);
    expect(rows).toEqual([
      { action: 'staff.created', actor_id: env.admin.id },
      { action: 'staff.disabled', actor_id: env.admin.id },
      { action: 'staff.enabled', actor_id: env.admin.id },
      { action: 'staff.role_changed', actor_id: env.admin.id },
    ]);
  });

  it('creates an API key shown once, lists it without the secret, disables it', async () => {
    const created = await env.admin.client.backoffice.apiKeys.create.mutate({ name: 'storefront', scopes: ['orders:read', 'orders:read', 'carts:write'] });
    expect(created).toMatchObject({ name: 'storefront', scopes: ['orders:read', 'carts:write'], disabled: false, lastUsedAt: null });
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const service = env.clientFor(created.key);
    await expect(service.orders.list.query({ customer: { type: 'user', id: 'someone' } })).resolves.toMatchObject({ total: 0 });
    await expect(service.catalog.upsertProduct.mutate({ sku: 'NOPE', name: 'x', unitPrice: 1, currency: 'USD', stock: 1 })).rejects.toMatchObject(refused('FORBIDDEN'));

    const listed = await env.admin.client.backoffice.apiKeys.list.query();
    // "Last used" is written on use: at most once a minute per key, so a second call within the minute writes nothing.
    const used = listed.find((k) => k.id === created.id)!;
    expect(used).toEqual({ ...created, key: undefined, lastUsedAt: expect.any(String) });
    expect(Date.now() - Date.parse(used.lastUsedAt!)).toBeLessThan(60_000);
    await service.orders.list.query({ customer: { type: 'user', id: 'someone' } });
    expect((await env.admin.client.backoffice.apiKeys.list.query()).find((k) => k.id === created.id)!.lastUsedAt).toBe(used.lastUsedAt);
    await env.pool.query(`update api_key set last_used_at = now() - interval '2 minutes' where id = $1`, [created.id]);
    await service.orders.list.query({ customer: { type: 'user', id: 'someone' } });
    const touched = (await env.admin.client.backoffice.apiKeys.list.query()).find((k) => k.id === created.id)!.lastUsedAt!;
    expect(Date.now() - Date.parse(touched)).toBeLessThan(30_000);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    await env.admin.client.backoffice.apiKeys.setDisabled.mutate({ apiKeyId: created.id, disabled: true });
    await expect(service.orders.list.query({ customer: { type: 'user', id: 'someone' } })).rejects.toMatchObject(refused('UNAUTHORIZED'));
    await expect(env.admin.client.backoffice.apiKeys.setDisabled.mutate({ apiKeyId: randomUUID(), disabled: true })).rejects.toMatchObject(refused('NOT_FOUND'));
  });
});
