import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffice, type Discrepancy, type DiscrepancyKind } from '@orders/shared';
import { paidAfterCancel, paidTwice, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { executeUnrecorded, ipnFields, pendingOrder, processedIpns } from '../support/paypal-server.ts';

let env: BackofficeTestEnv;
let viewer: StaffSession;
let operator: StaffSession;
const made = {} as Record<'paidAfterCancel' | 'doublePaid' | 'stuck', { orderId: string; attemptId: string }> & {
  mismatchEventId: string;
  unmatchedEventId: string;
};

const txnId = () => randomBytes(9).toString('hex').toUpperCase().slice(0, 17);

beforeAll(async () => {
  env = await startBackofficeEnv();
  [viewer, operator] = await Promise.all([env.staff('viewer'), env.staff('operator')]);
  const notifyUrl = `${env.server.url}/paypal/ipn`;

  // PayPal captured a payment whose answer we lost while staff cancelled the order; its IPN tells us afterwards.
  {
    const { order, attempt } = await paidAfterCancel(env, operator);
    made.paidAfterCancel = { orderId: order.id, attemptId: attempt.attemptId };
  }
  // Two attempts of one order, both paid at PayPal: the first executed but its answer lost, the second
  // paid through the return page; the first one's IPN arrives last, while PayPal refuses refunds.
  {
    const { order, first } = await paidTwice(env, () => env.sim.control.failNext({ count: 1, path: '/v1/payments/sale' }));
    made.doublePaid = { orderId: order.id, attemptId: first.attemptId };
  }
  // An IPN reporting the wrong amount for a real attempt, and one for a payment nobody knows.
  {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const wrong = txnId();
    env.sim.control.sendIpn(ipnFields({ txn_id: wrong, invoice: attempt.attemptId, custom: order.id, mc_gross: '1.00' }), notifyUrl);
    made.mismatchEventId = (await processedIpns(env.pool, wrong))[0]!.id;
    const stranger = txnId();
    env.sim.control.sendIpn(ipnFields({ txn_id: stranger, mc_gross: '12.34' }), notifyUrl);
    made.unmatchedEventId = (await processedIpns(env.pool, stranger))[0]!.id;
  }
  // An attempt nobody finished, 45 minutes ago.
  {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await env.pool.query(`update order_payment_attempt set updated_at = now() - interval '45 minutes' where id = $1`, [attempt.attemptId]);
    made.stuck = { orderId: order.id, attemptId: attempt.attemptId };
  }
});
afterAll(() => env.close());

async function listAll(kind?: DiscrepancyKind): Promise<Discrepancy[]> {
  return (await viewer.client.backoffice.reconciliation.list.query({ limit: 500, ...(kind ? { kind } : {}) })).items;
}

describe('reconciliation', () => {
  it('finds every kind of discrepancy, each with what an operator needs to act on it', async () => {
    const items = await listAll();
    const byId = new Map(items.map((d) => [d.id, d]));
    expect(byId.get(`paid_at_paypal_not_paid:${made.paidAfterCancel.attemptId}`)).toMatchObject({
      kind: 'paid_at_paypal_not_paid',
      orderId: made.paidAfterCancel.orderId,
      attemptId: made.paidAfterCancel.attemptId,
      orderStatus: 'cancelled',
      amount: 2500,
      currency: 'USD',
      detail: expect.stringContaining('but the order is cancelled'),
    });
    expect(byId.get(`multiple_successes:${made.doublePaid.attemptId}`)).toMatchObject({
      kind: 'multiple_successes',
      orderId: made.doublePaid.orderId,
      attemptId: made.doublePaid.attemptId,
      orderStatus: 'paid',
      amount: 2500,
      detail: expect.stringMatching(/^second payment: sale \w+ \(attempt [0-9a-f-]+\) is captured, completed; the order was paid by sale \w+$/),
    });
    expect(byId.get(`amount_mismatch:${made.mismatchEventId}`)).toMatchObject({
      kind: 'amount_mismatch',
      eventId: made.mismatchEventId,
      orderStatus: 'pending',
      amount: 100,
      detail: 'IPN says $1.00, attempt expects $25.00 (ipn)',
    });
    expect(byId.get(`stuck_attempt:${made.stuck.attemptId}`)).toMatchObject({
      kind: 'stuck_attempt',
      attemptId: made.stuck.attemptId,
      orderId: made.stuck.orderId,
      detail: expect.stringMatching(/^attempt created for 4[45] minutes/),
    });
    expect(byId.get(`unmatched_ipn:${made.unmatchedEventId}`)).toMatchObject({
      kind: 'unmatched_ipn',
      eventId: made.unmatchedEventId,
      orderId: null,
      amount: 1234,
      currency: 'USD',
    });
    expect(items).toHaveLength(5);
    for (const item of items) expect(item.detectedAt).toMatch(/Z$/);
  });

  it('a caller reporting the wrong amount is an amount mismatch too', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await expect(
      env.client.payments.updateAttempt.mutate({ externalId: attempt.externalId, status: 'succeeded', amount: 2499, currency: 'USD' }),
    ).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    const mismatches = await listAll('amount_mismatch');
    expect(mismatches).toHaveLength(2);
    expect(mismatches.find((d) => d.orderId === order.id)).toMatchObject({ attemptId: attempt.attemptId, amount: 2499, detail: expect.stringContaining('update_attempt') });
  });

  it('summary counts each kind; the threshold for stuck attempts is an input', async () => {
    const summary = await viewer.client.backoffice.reconciliation.summary.query();
    expect(summary).toEqual({
      counts: {
        ...Object.fromEntries(backoffice.DISCREPANCY_KINDS.map((kind) => [kind, 0])),
        paid_at_paypal_not_paid: 1,
        amount_mismatch: 2,
        multiple_successes: 1,
        stuck_attempt: 1,
        unmatched_ipn: 1,
      },
      total: 6,
    });
    const patient = await viewer.client.backoffice.reconciliation.summary.query({ stuckAfterMinutes: 60 });
    expect(patient.counts.stuck_attempt).toBe(0);
    expect(await viewer.client.backoffice.reconciliation.list.query({ kind: 'stuck_attempt', stuckAfterMinutes: 60 })).toEqual({ items: [], nextCursor: null });
  });

  it('pages newest first by keyset; a forged cursor is BAD_REQUEST', async () => {
    const whole = await listAll();
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await viewer.client.backoffice.reconciliation.list.query({ limit: 2, ...(cursor ? { cursor } : {}) });
      paged.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(whole.map((d) => d.id));
    const times = whole.map((d) => Date.parse(d.detectedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    await expect(viewer.client.backoffice.reconciliation.list.query({ cursor: 'eyJvIjoieCJ9' })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });

  it('resolving records who and why; the discrepancy disappears; it cannot be resolved twice', async () => {
    const id = `paid_at_paypal_not_paid:${made.paidAfterCancel.attemptId}`;
    await expect(viewer.client.backoffice.orders.resolve.mutate({ discrepancyId: id, reason: 'refunded by hand at PayPal' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    const resolved = await operator.client.backoffice.orders.resolve.mutate({ discrepancyId: id, reason: 'refunded by hand at PayPal' });
    expect(resolved).toEqual({ discrepancyId: id, resolvedAt: expect.stringMatching(/Z$/) });
    expect((await listAll()).map((d) => d.id)).not.toContain(id);
    expect((await viewer.client.backoffice.reconciliation.summary.query()).counts.paid_at_paypal_not_paid).toBe(0);

    const detail = await viewer.client.backoffice.orders.get.query({ orderId: made.paidAfterCancel.orderId });
    expect(detail.audit.at(-1)).toMatchObject({
      action: 'discrepancy.resolved',
      actorType: 'staff',
      actorId: operator.id,
      actorLabel: operator.email,
      reason: 'refunded by hand at PayPal',
      after: { resolved: true },
      before: { discrepancy: { id, kind: 'paid_at_paypal_not_paid', amount: 2500 } },
    });
    const { rows } = await env.pool.query('select staff_id, reason, order_id from reconciliation_resolution where discrepancy_id = $1', [id]);
    expect(rows).toEqual([{ staff_id: operator.id, reason: 'refunded by hand at PayPal', order_id: made.paidAfterCancel.orderId }]);

    await expect(operator.client.backoffice.orders.resolve.mutate({ discrepancyId: id, reason: 'again' })).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
  });

  it('an unmatched notification (no order) can be resolved; unknown and malformed ids are refused', async () => {
    const id = `unmatched_ipn:${made.unmatchedEventId}`;
    await operator.client.backoffice.orders.resolve.mutate({ discrepancyId: id, reason: 'a test payment from the sandbox' });
    const { rows } = await env.pool.query(`select actor_id, order_id, reason from audit_entry where action = 'discrepancy.resolved' and before -> 'discrepancy' ->> 'id' = $1`, [id]);
    expect(rows).toEqual([{ actor_id: operator.id, order_id: null, reason: 'a test payment from the sandbox' }]);
    await expect(
      operator.client.backoffice.orders.resolve.mutate({ discrepancyId: `stuck_attempt:${made.doublePaid.attemptId}`, reason: 'not stuck at all' }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    for (const discrepancyId of ['nonsense', 'made_up_kind:01a20822-0000-7000-8000-000000000000', `stuck_attempt:${made.stuck.attemptId}'--`]) {
      await expect(operator.client.backoffice.orders.resolve.mutate({ discrepancyId, reason: 'whatever' })).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST', field: 'discrepancyId' },
      });
    }
    expect((await viewer.client.backoffice.reconciliation.summary.query()).total).toBe(4);
  });

  it('an unpaid order with a succeeded attempt is noted by the database when it commits, whatever wrote it; the list checks the state now', async () => {
    const listed = async () => (await listAll()).filter((d) => d.kind === 'paid_at_paypal_not_paid').map((d) => d.orderId);
    const noted = async () => (await env.pool.query<{ order_id: string }>('select order_id from unpaid_sale order by noted_at, order_id')).rows.map((r) => r.order_id);
    // A payment that pays its order in the same transaction notes nothing (the state machine's path).
    expect(await noted()).toEqual([made.paidAfterCancel.orderId]);
    expect(made.doublePaid.orderId).not.toBe(made.paidAfterCancel.orderId);

    // A success written outside the service's code on a pending order: noted at its commit, listed.
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const client = await env.pool.connect();
    try {
      await client.query('begin');
      await client.query(`update order_payment_attempt set status = 'succeeded', sale_id = $2, sale_state = 'completed' where id = $1`, [attempt.attemptId, `SALE-${randomBytes(4).toString('hex')}`]);
      // Deferred to the commit: nothing yet.
      expect(await noted()).not.toContain(order.id);
      await client.query('commit');
    } finally {
      client.release();
    }
    expect(await noted()).toContain(order.id);
    expect(await listed()).toContain(order.id);

    // A paid order moved back to an unpaid status (the state machine never does): noted, listed.
    const paid = made.doublePaid.orderId;
    await env.pool.query(`update "order" set status = 'failed' where id = $1`, [paid]);
    expect(await noted()).toContain(paid);
    expect(await listed()).toContain(paid);
    await env.pool.query(`update "order" set status = 'paid' where id = $1`, [paid]);

    // A note whose order is paid now lists nothing: the note is a candidate, the state decides.
    await env.pool.query(`update "order" set status = 'paid' where id = $1`, [order.id]);
    expect(await noted()).toContain(order.id);
    expect(await listed()).not.toContain(order.id);
  });
});
