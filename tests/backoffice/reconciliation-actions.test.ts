import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Discrepancy, DiscrepancyAction } from '@orders/shared';
import { SIMULATOR_RECEIVER_EMAIL } from '@orders/server/paypal/setup.ts';
import { paidAfterCancel, paidTwice, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, executeUnrecorded, pendingOrder, processedIpns } from '../support/paypal-server.ts';

/*
 * The reconciliation list says, per item, which actions the caller may take (its kind, its order's
 * status, the member's role): the app renders exactly those. A viewer gets none, and the procedures
 * refuse a viewer anyway.
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;
let operator: StaffSession;
const ids = {} as Record<'paidAfterCancel' | 'doublePaid' | 'stuck' | 'mismatchPaid' | 'unmatched', string>;
const attempts = {} as Record<'paidAfterCancel' | 'doublePaid' | 'stuck', string>;
let stuckOrder: string;

const txnId = () => randomBytes(9).toString('hex').toUpperCase().slice(0, 17);

function sendIpn(fields: Record<string, string>) {
  env.sim.control.sendIpn(
    {
      mc_gross: '25.00', mc_currency: 'USD', payment_status: 'Completed', txn_type: 'express_checkout',
      receiver_email: SIMULATOR_RECEIVER_EMAIL, business: SIMULATOR_RECEIVER_EMAIL, payer_email: 'buyer@example.com', charset: 'UTF-8',
      ...fields,
    },
    `${env.server.url}/paypal/ipn`,
  );
}

beforeAll(async () => {
  env = await startBackofficeEnv({ AUTO_REFUND_DUPLICATES: '0' });
  [viewer, operator] = await Promise.all([env.staff('viewer'), env.staff('operator')]);

  // Money captured at PayPal for an order staff cancelled meanwhile: its sale goes back on its own.
  {
    const { attempt } = await paidAfterCancel(env, operator);
    attempts.paidAfterCancel = attempt.attemptId;
    ids.paidAfterCancel = `paid_at_paypal_not_paid:${attempt.attemptId}`;
  }
  // Paid twice: the first execution's answer lost, the second paid through the return page.
  {
    const { first } = await paidTwice(env);
    attempts.doublePaid = first.attemptId;
    ids.doublePaid = `multiple_successes:${first.attemptId}`;
  }
  // A paid order about which PayPal then reports another amount.
  {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    const wrong = txnId();
    sendIpn({ txn_id: wrong, invoice: attempt.attemptId, custom: order.id, mc_gross: '1.00' });
    ids.mismatchPaid = `amount_mismatch:${(await processedIpns(env.pool, wrong))[0]!.id}`;
  }
  // A notification for a payment nobody knows.
  {
    const stranger = txnId();
    sendIpn({ txn_id: stranger, mc_gross: '12.34' });
    ids.unmatched = `unmatched_ipn:${(await processedIpns(env.pool, stranger))[0]!.id}`;
  }
  // An attempt nobody finished, 45 minutes ago.
  {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await env.pool.query(`update order_payment_attempt set updated_at = now() - interval '45 minutes' where id = $1`, [attempt.attemptId]);
    attempts.stuck = attempt.attemptId;
    ids.stuck = `stuck_attempt:${attempt.attemptId}`;
    stuckOrder = order.id;
  }
});
afterAll(() => env?.close());

async function actionsFor(staff: StaffSession): Promise<Map<string, DiscrepancyAction[]>> {
  const items: Discrepancy[] = (await staff.client.backoffice.reconciliation.list.query({ limit: 500 })).items;
  return new Map(items.map((d) => [d.id, d.allowedActions]));
}

const refused = (code: string) => ({ data: { code } });

describe('reconciliation: the server decides each item’s actions', () => {
  it('every item is there, with the actions each role may take from it', async () => {
    const [asViewer, asOperator, asAdmin] = await Promise.all([actionsFor(viewer), actionsFor(operator), actionsFor(env.admin)]);
    expect([...asAdmin.keys()].sort()).toEqual(Object.values(ids).sort());
    // A viewer: nothing at all.
    for (const id of Object.values(ids)) expect(asViewer.get(id)).toEqual([]);
    // An operator: re-sync where there is an attempt, resolve, cancel an unpaid order; never a refund.
    expect(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, asOperator.get(id)]))).toEqual({
      paidAfterCancel: ['resync', 'resolve'],
      doublePaid: ['resync', 'resolve'],
      mismatchPaid: ['resync', 'resolve'],
      unmatched: ['resolve'],
      stuck: ['resync', 'resolve', 'cancel'],
    });
    // An admin: also the refunds: a duplicate's (or a cancelled order's) own sale, or the paid order.
    expect(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, asAdmin.get(id)]))).toEqual({
      paidAfterCancel: ['resync', 'resolve', 'refundDuplicate'],
      doublePaid: ['resync', 'resolve', 'refundDuplicate'],
      mismatchPaid: ['resync', 'resolve', 'refund'],
      unmatched: ['resolve'],
      stuck: ['resync', 'resolve', 'cancel'],
    });
  });

  it('a viewer is refused every action anyway, and nothing changes', async () => {
    const c = viewer.client.backoffice;
    await expect(c.orders.resolve.mutate({ discrepancyId: ids.unmatched, reason: 'seen it' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(c.payments.resync.mutate({ attemptId: attempts.stuck })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(c.orders.cancel.mutate({ orderId: stuckOrder, reason: 'abandoned' })).rejects.toMatchObject(refused('FORBIDDEN'));
    await expect(c.payments.refundDuplicate.mutate({ attemptId: attempts.doublePaid, reason: 'paid twice' })).rejects.toMatchObject(refused('FORBIDDEN'));
    // An operator is refused the refunds the list does not give it.
    await expect(operator.client.backoffice.payments.refundDuplicate.mutate({ attemptId: attempts.doublePaid, reason: 'paid twice' })).rejects.toMatchObject(
      refused('FORBIDDEN'),
    );
    expect([...(await actionsFor(env.admin)).keys()].sort()).toEqual(Object.values(ids).sort());
    expect((await env.pool.query(`select status from "order" where id = $1`, [stuckOrder])).rows[0].status).toBe('pending');
  });

  it('a listed action is accepted: the operator resolves, the item is gone from every list', async () => {
    await operator.client.backoffice.orders.resolve.mutate({ discrepancyId: ids.unmatched, reason: 'a test notification' });
    expect((await actionsFor(viewer)).has(ids.unmatched)).toBe(false);
  });
});
