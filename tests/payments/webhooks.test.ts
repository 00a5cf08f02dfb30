import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookLogEntry, WebhookTransmission } from '@orders/server/paypal/simulator/index.ts';
import {
  buyerChooses,
  ipnEvents,
  ipnFields,
  newCaseIpnFields,
  pendingOrder,
  startPaypalTestEnv,
  waitFor,
  webhookEvents,
  type PaypalTestEnv,
  type StoredEvent,
} from '../support/paypal-server.ts';

/*
 * PayPal webhooks (v1) as a second notification channel beside IPN, end to end: the in-process PayPal
 * simulator sends both for every sale change, the real server stores, verifies (paypal-rest-sdk's
 * verify against the simulator's verify-webhook-signature) and applies them through the path IPNs,
 * the return URL and re-syncs share. Whatever arrives on which channel, money moves once.
 */

const WEBHOOK_ID = 'ORDERSTESTWEBHOOK0000001';

let env: PaypalTestEnv;
let webhookUrl: string;
beforeAll(async () => {
  env = await startPaypalTestEnv({ PAYPAL_WEBHOOK_ID: WEBHOOK_ID });
  webhookUrl = `${env.server.url}/paypal/webhook`;
});
afterAll(() => env.close());

async function orderRow(orderId: string) {
  const { rows } = await env.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string | null };
}

async function auditCount(orderId: string, action: string): Promise<number> {
  const { rows } = await env.pool.query(`select count(*)::int as n from audit_entry where order_id = $1 and action = $2`, [orderId, action]);
  return rows[0].n;
}

/** Waits until `count` events of the channel match and none of them is still waiting for its job. */
async function settled(source: 'ipn' | 'webhook', where: string, params: unknown[], count = 1): Promise<StoredEvent[]> {
  const read = source === 'ipn' ? ipnEvents : webhookEvents;
  let last: StoredEvent[] = [];
  return waitFor(
    async () => {
      last = await read(env.pool, where, params);
      return last.length >= count && last.every((e) => e.processing !== 'received') ? last : undefined;
    },
    20_000,
    `${count} ${source} event(s) (${where}) to be processed`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; have ${last.map((e) => e.processing).join(', ') || 'none'}`);
  });
}

function transmissionHeaders(t: WebhookTransmission): Record<string, string> {
  return {
    'content-type': 'application/json',
    'paypal-transmission-id': t.transmissionId,
    'paypal-transmission-time': t.transmissionTime,
    'paypal-transmission-sig': t.transmissionSig,
    'paypal-cert-url': t.certUrl,
    'paypal-auth-algo': t.authAlgo,
  };
}

/** Posts a delivery as anyone on the network could: a genuine one replayed, or a forgery. */
async function post(body: string, transmission: WebhookTransmission, extraHeaders: Record<string, string> = {}) {
  return fetch(webhookUrl, { method: 'POST', headers: { ...transmissionHeaders(transmission), ...extraHeaders }, body });
}

/** The simulator's deliveries of one event type for one sale (the resource's id or sale_id). */
function deliveries(eventType: string, saleId: string): WebhookLogEntry[] {
  return env.sim.control.webhookLog().filter((entry) => {
    const { resource } = JSON.parse(entry.body) as { resource: { id: string; sale_id?: string } };
    return entry.eventType === eventType && (resource.id === saleId || resource.sale_id === saleId);
  });
}

/** A pending order with an attempt whose payment the buyer approved at PayPal, not executed yet. */
async function approvedAttempt(options: Parameters<typeof pendingOrder>[1] = {}) {
  const { customer, order } = await pendingOrder(env.client, options);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
  return { order, attempt, redirectUrl, payerId: new URL(redirectUrl).searchParams.get('PayerID')! };
}

/** A paid order through the normal return URL, its sale's IPN and webhook both processed. */
async function paidOrder(options: Parameters<typeof pendingOrder>[1] = {}) {
  const { order, attempt, redirectUrl } = await approvedAttempt(options);
  await fetch(redirectUrl, { redirect: 'manual' });
  const saleId = (await orderRow(order.id)).payment_transaction_id!;
  expect(saleId).toBeTruthy();
  await settled('ipn', 'txn_id = $1', [saleId]);
  await settled('webhook', 'txn_id = $1', [saleId]);
  return { order, attempt, saleId };
}

/**
 * Runs `act` while PayPal holds back a channel's deliveries (and, if asked, leaves new sales pending),
 * then releases everything held and waits until it has been delivered, so no test leaks into the next.
 */
async function holding<T>(what: { ipn?: boolean; webhooks?: boolean; pendingSales?: boolean }, act: () => Promise<T>): Promise<T> {
  const control = env.sim.control;
  if (what.ipn) control.setIpnMode({ paused: true });
  if (what.webhooks) control.setWebhookMode({ paused: true });
  if (what.pendingSales) control.setPendingSales(true);
  try {
    return await act();
  } finally {
    control.setPendingSales(false);
    control.setIpnMode({ paused: false });
    control.setWebhookMode({ paused: false });
    await Promise.all([control.settleIpns(), control.settleWebhooks()]);
  }
}

/** Another request executed the approved payment and died before applying it; the buyer never came back. Returns the sale id. */
async function executedElsewhere({ attempt, payerId }: Awaited<ReturnType<typeof approvedAttempt>>): Promise<string> {
  const executed = await env.server.paypal.gateway.executePayment({ requestId: `execute-${attempt.attemptId}`, paymentId: attempt.externalId, payerId });
  return executed.sale!.id;
}

/** PayPal's webhook envelope, for events the simulator is told to send as genuine. */
function saleEvent(eventType: string, resource: Record<string, unknown>) {
  return {
    id: `WH-TEST${Math.random().toString(36).slice(2, 12).toUpperCase()}-${Date.now()}`,
    event_version: '1.0',
    create_time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resource_type: 'sale',
    event_type: eventType,
    summary: 'test event',
    resource: { state: 'completed', ...resource },
  };
}

describe('PayPal webhooks', () => {
  it('a sale completed by webhook alone (no IPN delivered) pays the order once; the late IPN changes nothing', async () => {
    const approved = await approvedAttempt();
    const { order } = approved;
    const saleId = await holding({ ipn: true }, async () => {
      const saleId = await executedElsewhere(approved);
      const [event] = await settled('webhook', 'txn_id = $1', [saleId]);
      expect(event).toMatchObject({ provider_status: 'PAYMENT.SALE.COMPLETED', verification: 'verified', processing: 'processed', order_id: order.id });
      expect(await orderRow(order.id)).toMatchObject({ status: 'paid', payment_transaction_id: saleId });
      expect(await ipnEvents(env.pool, 'txn_id = $1', [saleId])).toHaveLength(0);
      return saleId;
    });
    const [ipn] = await settled('ipn', 'txn_id = $1', [saleId]);
    expect(ipn).toMatchObject({ verification: 'verified', processing: 'processed', outcome: 'already applied' });
    expect(await auditCount(order.id, 'order.paid')).toBe(1);
  });

  it('webhooks, IPNs and the return URL racing for one sale (each channel sent four times): paid exactly once', async () => {
    const approved = await approvedAttempt();
    const { order, redirectUrl } = approved;
    const control = env.sim.control;
    control.setIpnMode({ duplicates: 3 });
    control.setWebhookMode({ duplicates: 3 });
    try {
      // PayPal captured the sale and holds its notifications; then everything arrives at once.
      await holding({ ipn: true, webhooks: true }, async () => {
        await executedElsewhere(approved);
        const [back] = await Promise.all([fetch(redirectUrl, { redirect: 'manual' }), control.flushIpns(), control.flushWebhooks()]);
        expect(back.status).toBe(200);
      });
    } finally {
      control.setIpnMode({ duplicates: 0 });
      control.setWebhookMode({ duplicates: 0 });
    }
    const saleId = (await orderRow(order.id)).payment_transaction_id!;
    const webhooks = await settled('webhook', 'txn_id = $1', [saleId], 4);
    const ipns = await settled('ipn', 'txn_id = $1', [saleId], 4);
    expect(webhooks.map((e) => e.processing).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'processed']);
    expect(ipns.map((e) => e.processing).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'processed']);
    const { rows } = await env.pool.query(
      `select (select count(*) from audit_entry where order_id = $1 and action = 'order.paid')::int as paid_entries,
              (select count(*) from order_line where order_id = $1)::int as lines,
              (select count(*) from order_payment_attempt where order_id = $1 and status = 'succeeded')::int as succeeded,
              (select status from "order" where id = $1) as status`,
      [order.id],
    );
    expect(rows[0]).toEqual({ paid_entries: 1, lines: 1, succeeded: 1, status: 'paid' });
  });

  it('a pending sale completed later is applied from its webhooks alone', async () => {
    await holding({ ipn: true, pendingSales: true }, async () => {
      const approved = await approvedAttempt();
      const { order, attempt } = approved;
      const saleId = await executedElsewhere(approved);
      const [pending] = await settled('webhook', 'txn_id = $1', [saleId]);
      expect(pending).toMatchObject({ provider_status: 'PAYMENT.SALE.PENDING', processing: 'processed' });
      const { rows } = await env.pool.query('select status, sale_id, sale_state from order_payment_attempt where id = $1', [attempt.attemptId]);
      expect(rows[0]).toEqual({ status: 'approved', sale_id: saleId, sale_state: 'pending' });
      env.sim.control.completePendingSale(saleId);
      await settled('webhook', 'txn_id = $1', [saleId], 2);
      expect((await orderRow(order.id)).status).toBe('paid');
    });
  });

  it('forged webhooks — a made-up signature, or a genuine transmission with its body altered — are stored, flagged, not applied', async () => {
    const { order, attempt } = await approvedAttempt({ unitPrice: 1250, quantity: 2 });
    const { saleId: otherSale } = await paidOrder();
    const genuine = deliveries('PAYMENT.SALE.COMPLETED', otherSale)[0]!;

    // 1. A plausible COMPLETED event for the pending order, with invented transmission headers.
    const forgedBody = JSON.stringify(saleEvent('PAYMENT.SALE.COMPLETED', { id: 'FORGEDSALE0000001', parent_payment: attempt.externalId, amount: { total: '25.00', currency: 'USD' } }));
    const forgedTransmission = { ...genuine.transmission, transmissionId: crypto.randomUUID(), transmissionSig: Buffer.from('not a signature').toString('base64') };
    expect((await post(forgedBody, forgedTransmission)).status).toBe(200);

    // 2. The genuine delivery of another sale, re-pointed at the pending order's payment.
    const altered = JSON.parse(genuine.body) as { id: string; resource: Record<string, unknown> };
    altered.id = `${altered.id}X`;
    altered.resource = { ...altered.resource, id: 'FORGEDSALE0000002', parent_payment: attempt.externalId, amount: { total: '25.00', currency: 'USD' } };
    expect((await post(JSON.stringify(altered), genuine.transmission)).status).toBe(200);

    const events = await settled('webhook', `txn_id like 'FORGEDSALE%'`, [], 2);
    for (const event of events) {
      expect(event).toMatchObject({ verification: 'invalid', processing: 'flagged', flag_kind: 'signature_invalid', order_id: null });
    }
    // Stored byte for byte, for whoever investigates.
    expect(events.map((e) => Buffer.from(e.raw_body).toString('utf8'))).toEqual([forgedBody, JSON.stringify(altered)]);
    expect((await orderRow(order.id)).status).toBe('pending');
  });

  it('a genuine event replayed (same event id, to us or by PayPal) is absorbed as a duplicate', async () => {
    const { order, saleId } = await paidOrder();
    const genuine = deliveries('PAYMENT.SALE.COMPLETED', saleId)[0]!;
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(genuine.body, genuine.transmission)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const events = await settled('webhook', 'txn_id = $1', [saleId], 6);
    expect(events.filter((e) => e.processing === 'processed')).toHaveLength(1);
    expect(events.filter((e) => e.processing === 'duplicate')).toHaveLength(5);
    expect(events.every((e) => e.verification === 'verified')).toBe(true);
    expect(await auditCount(order.id, 'order.paid')).toBe(1);
  });

  it('refunds announced by webhook and IPN move the money once, whichever comes first', async () => {
    const { order, saleId } = await paidOrder({ unitPrice: 1000, quantity: 3 });
    // First refund: only the webhook arrives in time; the IPN for it comes later.
    await holding({ ipn: true }, async () => {
      await env.server.paypal.gateway.refundSale({ requestId: `refund-1-${order.id}`, saleId, amount: 1000, currency: 'USD' });
      await settled('webhook', `parent_txn_id = $1 and provider_status = 'PAYMENT.SALE.REFUNDED'`, [saleId]);
      expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 });
    });
    const [lateIpn] = await settled('ipn', `parent_txn_id = $1`, [saleId]);
    expect(lateIpn!.outcome).toMatch(/already applied by webhook event/);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1000 });

    // Second refund (the rest): the IPN first, the webhook held back and released after.
    await holding({ webhooks: true }, async () => {
      await env.server.paypal.gateway.refundSale({ requestId: `refund-2-${order.id}`, saleId, currency: 'USD' });
      await settled('ipn', 'parent_txn_id = $1', [saleId], 2);
      expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 3000 });
    });
    const refundWebhooks = await settled('webhook', `parent_txn_id = $1 and provider_status = 'PAYMENT.SALE.REFUNDED'`, [saleId], 2);
    expect(refundWebhooks.map((e) => e.processing)).toEqual(['processed', 'processed']);
    expect(refundWebhooks[1]!.outcome).toMatch(/already applied by ipn event/);
    expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 3000 });
    expect(await auditCount(order.id, 'order.refunded')).toBe(2);
  });

  it('a back-office refund is applied once, its webhook and IPN finding it done', async () => {
    const { order } = await paidOrder({ unitPrice: 1000, quantity: 2 });
    const staff = await env.server.services.staff.ensureStaff('webhook-refunds@orders.example', 'webhook-refunds-password', 'admin');
    const result = await env.server.services.refunds.refund({ orderId: order.id, amount: 500, reason: 'scratched' }, { type: 'staff', id: staff.id });
    expect(result).toMatchObject({ status: 'partially_refunded', refundedAmount: 500 });
    const refundId = result.providerRefundId;
    await settled('webhook', 'txn_id = $1', [refundId]);
    await settled('ipn', 'txn_id = $1', [refundId]);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 500 });
    expect(await auditCount(order.id, 'order.refunded')).toBe(1);
  });

  it('a back-office refund interrupted after PayPal made it: its webhook applies the money, the resumed refund does not again', async () => {
    const { order, attempt, saleId } = await paidOrder();
    const staff = await env.server.services.staff.ensureStaff('webhook-refunds@orders.example', 'webhook-refunds-password', 'admin');
    // The first step of a refund, written by a process that then died while PayPal refunded.
    const { rows } = await env.pool.query(
      `insert into order_refund (id, created_at, updated_at, order_id, attempt_id, sale_id, amount, currency, status, staff_id, reason)
       values (gen_random_uuid(), now() - interval '10 minutes', now() - interval '10 minutes', $1, $2, $3, 900, 'USD', 'requested', $4, 'dented')
       returning id`,
      [order.id, attempt.attemptId, saleId, staff.id],
    );
    await holding({ ipn: true }, async () => {
      const made = await env.server.paypal.gateway.refundSale({ requestId: rows[0].id, saleId, amount: 900, currency: 'USD' });
      const [webhook] = await settled('webhook', 'txn_id = $1', [made.refundId]);
      expect(webhook).toMatchObject({ processing: 'processed' });
      expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 });
      expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 1, failed: 0, retrying: 0 });
      expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 });
    });
    await settled('ipn', 'parent_txn_id = $1', [saleId]);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 900 });
    expect(await auditCount(order.id, 'order.refunded')).toBe(1);
    expect(await auditCount(order.id, 'order.refund_confirmed')).toBe(1);
  });

  it('a chargeback reversal announced by webhook alone refunds the order; its IPN then changes nothing', async () => {
    const { order, saleId } = await paidOrder();
    await holding({ ipn: true }, async () => {
      env.sim.control.reverseSale(saleId);
      const [reversal] = await settled('webhook', `parent_txn_id = $1 and provider_status = 'PAYMENT.SALE.REVERSED'`, [saleId]);
      expect(reversal).toMatchObject({ verification: 'verified', processing: 'processed' });
      expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 });
    });
    const [ipn] = await settled('ipn', 'parent_txn_id = $1', [saleId]);
    expect(ipn!.outcome).toMatch(/already applied by webhook event/);
    expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 2500 });
  });

  /**
   * PayPal's documented CUSTOMER.DISPUTE.CREATED sample (WH-4M0448861G563140B-9EX36365822141321, as
   * quoted in public test suites: satchmo's Django webhook test, bitmentor's dispute model), its
   * fields and order kept; the disputed sale, the event id and the case id are this test's.
   */
  function disputeCreated(saleId: string, caseId: string) {
    return {
      id: `WH-TEST${Math.random().toString(36).slice(2, 12).toUpperCase()}-${Date.now()}`,
      create_time: '2018-06-21T13:36:33.000Z',
      resource_type: 'dispute',
      event_type: 'CUSTOMER.DISPUTE.CREATED',
      summary: `A new dispute opened with Case # ${caseId}`,
      resource: {
        disputed_transactions: [
          { seller_transaction_id: saleId, seller: { merchant_id: 'RD465XN5VS364', name: 'Test Store' }, items: [], seller_protection_eligible: true },
        ],
        reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
        dispute_channel: 'INTERNAL',
        update_time: '2018-06-21T13:35:44.000Z',
        create_time: '2018-06-21T13:35:44.000Z',
        messages: [{ posted_by: 'BUYER', time_posted: '2018-06-21T13:35:52.000Z', content: 'qwqwqwq' }],
        links: [
          { href: `https://api.paypal.com/v1/customer/disputes/${caseId}`, rel: 'self', method: 'GET' },
          { href: `https://api.paypal.com/v1/customer/disputes/${caseId}/send-message`, rel: 'send_message', method: 'POST' },
        ],
        dispute_amount: { currency_code: 'USD', value: '3.00' },
        dispute_id: caseId,
        dispute_life_cycle_stage: 'INQUIRY',
        status: 'OPEN',
      },
      event_version: '1.0',
    };
  }

  it('a dispute PayPal opens, announced by webhook alone (CUSTOMER.DISPUTE.CREATED), is listed for staff on its order; nothing is applied', async () => {
    const { order, saleId } = await paidOrder();
    const caseId = `PP-000-${Math.floor(Math.random() * 1e9)}`;
    const event = disputeCreated(saleId, caseId);
    await holding({ ipn: true }, async () => {
      env.sim.control.sendWebhook(event);
      env.sim.control.sendWebhook(event); // PayPal's resend: the same event id
      const stored = await settled('webhook', `txn_id = $1 and provider_status = 'CUSTOMER.DISPUTE.CREATED'`, [saleId], 2);
      expect(stored.filter((e) => e.processing === 'flagged')).toHaveLength(1);
      expect(stored.filter((e) => e.processing === 'duplicate')).toHaveLength(1);
      expect(stored.find((e) => e.processing === 'flagged')).toMatchObject({ verification: 'verified', flag_kind: 'dispute_opened', order_id: order.id });
    });
    // Nothing moved: still paid, nothing returned; the case is an open item on the order.
    expect(await orderRow(order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    const { items } = await env.server.services.reconciliation.list({ kind: 'dispute_opened', limit: 500 });
    const listed = items.filter((d) => d.orderId === order.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.detail).toContain(`PayPal opened inquiry ${caseId} on sale ${saleId} (MERCHANDISE_OR_SERVICE_NOT_RECEIVED, $3.00 disputed)`);
    // A dispute naming a sale that is not ours: kept for reconciliation, on no order.
    const stranger = disputeCreated('NOTOURSALE0000001', `${caseId}-X`);
    env.sim.control.sendWebhook(stranger);
    const [unknown] = await settled('webhook', 'txn_id = $1', ['NOTOURSALE0000001']);
    expect(unknown).toMatchObject({ verification: 'verified', processing: 'unmatched', order_id: null });
  });

  it('a dispute told by both channels is one item, whichever comes first; the same case escalated to a claim is another', async () => {
    const { order, saleId } = await paidOrder();
    const items = async () => (await env.server.services.reconciliation.list({ kind: 'dispute_opened', limit: 500 })).items.filter((d) => d.orderId === order.id);
    const ipnsBefore = (await ipnEvents(env.pool, 'txn_id = $1', [saleId])).length;
    const ipn = (caseId: string, caseType: string, nth: number) => {
      env.sim.control.sendIpn(newCaseIpnFields(saleId, { caseId, caseType, reason: 'non_receipt' }), `${env.server.url}/paypal/ipn`);
      return settled('ipn', 'txn_id = $1', [saleId], ipnsBefore + nth).then((events) => events.at(-1)!);
    };

    // An inquiry: the webhook first (INQUIRY, through PayPal), then the IPN (case_type dispute).
    const inquiry = `PP-D-${Math.floor(Math.random() * 1e9)}`;
    env.sim.control.sendWebhook(disputeCreated(saleId, inquiry));
    const [byWebhook] = await settled('webhook', `txn_id = $1 and provider_status = 'CUSTOMER.DISPUTE.CREATED'`, [saleId]);
    expect(byWebhook).toMatchObject({ processing: 'flagged', flag_kind: 'dispute_opened', order_id: order.id });
    const sameByIpn = await ipn(inquiry, 'dispute', 1);
    // Kept, and shown on the order beside the message it repeats (the order's page lists every message about it).
    expect(sameByIpn).toMatchObject({ verification: 'verified', processing: 'duplicate', outcome: `already processed as webhook event ${byWebhook!.id}`, order_id: order.id });
    expect(await items()).toHaveLength(1);

    // The buyer escalates it to PayPal: the same case at another stage is listed again, not hidden.
    const claim = await ipn(inquiry, 'complaint', 2);
    expect(claim).toMatchObject({ processing: 'flagged', flag_kind: 'dispute_opened' });
    expect(await items()).toHaveLength(2);

    // A card chargeback: the IPN first (case_type chargeback), then the webhook (CHARGEBACK from the card issuer).
    const chargeback = `PP-D-${Math.floor(Math.random() * 1e9)}`;
    const byIpn = await ipn(chargeback, 'chargeback', 3);
    expect(byIpn).toMatchObject({ processing: 'flagged', flag_kind: 'dispute_opened' });
    const event = disputeCreated(saleId, chargeback);
    Object.assign(event.resource, { dispute_life_cycle_stage: 'CHARGEBACK', dispute_channel: 'EXTERNAL', reason: 'UNAUTHORISED' });
    env.sim.control.sendWebhook(event);
    const sameByWebhook = (await settled('webhook', `txn_id = $1 and provider_status = 'CUSTOMER.DISPUTE.CREATED'`, [saleId], 2)).at(-1);
    expect(sameByWebhook).toMatchObject({ verification: 'verified', processing: 'duplicate', outcome: `already processed as IPN event ${byIpn.id}`, order_id: order.id });
    const listed = await items();
    expect(listed).toHaveLength(3);
    expect(listed.filter((d) => d.detail.includes(chargeback))).toHaveLength(1);
    // Nothing moved: a case is news for staff, not money. The order's page lists all five messages about the cases.
    expect(await orderRow(order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    const { events } = await env.server.services.backoffice.get(order.id, 'viewer');
    const cases = events.filter((e) => e.providerStatus === 'CUSTOMER.DISPUTE.CREATED' || e.raw?.includes('txn_type=new_case'));
    expect(cases.map((e) => [e.source, e.processing])).toEqual([
      ['webhook', 'flagged'],
      ['ipn', 'duplicate'],
      ['ipn', 'flagged'],
      ['ipn', 'flagged'],
      ['webhook', 'duplicate'],
    ]);
  });

  it('a case escalated by CUSTOMER.DISPUTE.UPDATED is listed again at its new stage, once, whichever channel tells it', async () => {
    const { order, saleId } = await paidOrder();
    const items = async () => (await env.server.services.reconciliation.list({ kind: 'dispute_opened', limit: 500 })).items.filter((d) => d.orderId === order.id);
    const caseId = `PP-D-${Math.floor(Math.random() * 1e9)}`;
    const updates = (n: number) => settled('webhook', `txn_id = $1 and provider_status = 'CUSTOMER.DISPUTE.UPDATED'`, [saleId], n).then((events) => events.at(-1)!);
    /** PayPal's update of the case: the created sample with another event id, type, stage and status. */
    const updated = (stage: string, status: string) => {
      const event = disputeCreated(saleId, caseId);
      Object.assign(event, { event_type: 'CUSTOMER.DISPUTE.UPDATED', summary: `A dispute was updated with Case # ${caseId}` });
      Object.assign(event.resource, { dispute_life_cycle_stage: stage, status });
      return event;
    };

    env.sim.control.sendWebhook(disputeCreated(saleId, caseId));
    await settled('webhook', `txn_id = $1 and provider_status = 'CUSTOMER.DISPUTE.CREATED'`, [saleId]);
    expect(await items()).toHaveLength(1);

    // News of the case at the stage already listed (the seller is asked to answer): no second item.
    env.sim.control.sendWebhook(updated('INQUIRY', 'WAITING_FOR_SELLER_RESPONSE'));
    expect(await updates(1)).toMatchObject({ verification: 'verified', processing: 'ignored', order_id: order.id, outcome: `CUSTOMER.DISPUTE.UPDATED needs no action: case ${caseId} is already listed at this stage` });
    expect(await items()).toHaveLength(1);

    // The buyer escalates it to a claim (stage CHARGEBACK through PayPal): listed again, at its new stage.
    const escalation = updated('CHARGEBACK', 'UNDER_REVIEW');
    env.sim.control.sendWebhook(escalation);
    const claim = await updates(2);
    expect(claim).toMatchObject({ processing: 'flagged', flag_kind: 'dispute_opened', order_id: order.id });
    expect(claim.outcome).toMatch(new RegExp(`^PayPal moved case ${caseId} to claim on sale ${saleId}`));
    expect(await items()).toHaveLength(2);

    // PayPal resending that update, its IPN for the claim (new_case, complaint) and a later update at the claim stage: no third item.
    env.sim.control.sendWebhook(escalation);
    expect(await updates(3)).toMatchObject({ processing: 'duplicate', outcome: `already processed as webhook event ${claim.id}`, order_id: order.id });
    env.sim.control.sendIpn(newCaseIpnFields(saleId, { caseId, caseType: 'complaint', reason: 'non_receipt' }), `${env.server.url}/paypal/ipn`);
    const [byIpn] = await settled('ipn', `txn_id = $1 and raw_body like '%txn_type=new_case%'`, [saleId]);
    expect(byIpn).toMatchObject({ verification: 'verified', processing: 'duplicate', outcome: `already processed as webhook event ${claim.id}`, order_id: order.id });
    env.sim.control.sendWebhook(updated('CHARGEBACK', 'WAITING_FOR_SELLER_RESPONSE'));
    expect(await updates(4)).toMatchObject({ processing: 'ignored' });
    expect(await items()).toHaveLength(2);
    expect(await orderRow(order.id)).toMatchObject({ status: 'paid', refunded_amount: 0 });
  });

  it("a refund told by both channels before its sale is parked once, and its repeat is shown on the same order", async () => {
    const { order, attempt } = await approvedAttempt();
    // A sale PayPal has not told us about yet, and a refund of it, by IPN first and then by webhook.
    const sale = `EARLYSALE${Date.now().toString(36).toUpperCase()}`.slice(0, 17);
    const refund = `EARLYREFUND${Date.now().toString(36).toUpperCase()}`.slice(0, 17);
    env.sim.control.sendIpn(
      ipnFields({ payment_status: 'Refunded', txn_id: refund, parent_txn_id: sale, mc_gross: '-5.00', invoice: attempt.attemptId, custom: order.id }),
      `${env.server.url}/paypal/ipn`,
    );
    const [byIpn] = await settled('ipn', 'parent_txn_id = $1', [sale]);
    expect(byIpn).toMatchObject({ verification: 'verified', processing: 'parked', order_id: order.id });
    env.sim.control.sendWebhook(
      saleEvent('PAYMENT.SALE.REFUNDED', { id: refund, sale_id: sale, parent_payment: attempt.externalId, amount: { total: '5.00', currency: 'USD' } }),
    );
    const [byWebhook] = await settled('webhook', 'parent_txn_id = $1', [sale]);
    expect(byWebhook).toMatchObject({ verification: 'verified', processing: 'duplicate', outcome: `transaction ${refund} is already known`, order_id: order.id });
    const { events } = await env.server.services.backoffice.get(order.id, 'viewer');
    expect(events.filter((e) => e.parentTxnId === sale).map((e) => [e.source, e.processing])).toEqual([
      ['ipn', 'parked'],
      ['webhook', 'duplicate'],
    ]);
  });

  it('a denied pending sale fails the order from its webhook alone', async () => {
    await holding({ ipn: true, pendingSales: true }, async () => {
      const approved = await approvedAttempt();
      const saleId = await executedElsewhere(approved);
      await settled('webhook', 'txn_id = $1', [saleId]);
      env.sim.control.denySale(saleId);
      const events = await settled('webhook', 'txn_id = $1', [saleId], 2);
      expect(events[1]).toMatchObject({ provider_status: 'PAYMENT.SALE.DENIED', processing: 'processed' });
      expect((await orderRow(approved.order.id)).status).toBe('failed');
    });
  });

  it('genuine but unknown sale: kept for reconciliation; wrong amount or currency: flagged, order untouched', async () => {
    const { order, attempt } = await approvedAttempt({ unitPrice: 1250, quantity: 2 });
    env.sim.control.sendWebhook(saleEvent('PAYMENT.SALE.COMPLETED', { id: 'UNKNOWNWEBHOOK001', parent_payment: 'PAY-NOSUCHPAYMENT0000000000', amount: { total: '9.99', currency: 'USD' } }));
    env.sim.control.sendWebhook(saleEvent('PAYMENT.SALE.COMPLETED', { id: 'WRONGAMOUNTWH0001', parent_payment: attempt.externalId, amount: { total: '0.01', currency: 'USD' } }));
    env.sim.control.sendWebhook(saleEvent('PAYMENT.SALE.COMPLETED', { id: 'WRONGCURRENCYWH01', parent_payment: attempt.externalId, amount: { total: '25.00', currency: 'EUR' } }));
    const [unknown] = await settled('webhook', 'txn_id = $1', ['UNKNOWNWEBHOOK001']);
    expect(unknown).toMatchObject({ verification: 'verified', processing: 'unmatched', order_id: null });
    // Kept where staff reconcile: listed with the other unmatched notifications, naming its channel.
    const { items } = await env.server.services.reconciliation.list({ kind: 'unmatched_ipn', limit: 500 });
    expect(items.filter((d) => d.eventId === unknown!.id)).toMatchObject([
      { kind: 'unmatched_ipn', amount: 999, currency: 'USD', detail: 'Webhook PAYMENT.SALE.COMPLETED for txn UNKNOWNWEBHOOK001 matches no attempt' },
    ]);
    const wrong = await settled('webhook', `txn_id like 'WRONG%WH%'`, [], 2);
    for (const event of wrong) expect(event).toMatchObject({ verification: 'verified', processing: 'flagged', flag_kind: 'amount_mismatch', order_id: order.id });
    expect((await orderRow(order.id)).status).toBe('pending');
  });

  it('a webhook stored by an instance that died before queueing it is picked up by the sweep', async () => {
    const approved = await approvedAttempt();
    // The held deliveries land at the end, as duplicates.
    await holding({ ipn: true, webhooks: true }, async () => {
      const saleId = await executedElsewhere(approved);
      const held = deliveries('PAYMENT.SALE.COMPLETED', saleId)[0]!;
      // What receiveWebhook wrote before the process died: the row, no job.
      await env.pool.query(
        `insert into payment_event (id, created_at, updated_at, source, txn_id, provider_status, raw_body, payload, verification, processing)
         values (gen_random_uuid(), now() - interval '5 minutes', now() - interval '5 minutes', 'webhook', $1, 'PAYMENT.SALE.COMPLETED', $2, $3, 'pending', 'received')`,
        [saleId, Buffer.from(held.body), JSON.stringify({ headers: Object.fromEntries(Object.entries(transmissionHeaders(held.transmission)).filter(([k]) => k.startsWith('paypal-'))) })],
      );
      expect(await env.server.services.webhooks.requeueStranded()).toBe(1);
      await settled('webhook', 'txn_id = $1', [saleId]);
      expect((await orderRow(approved.order.id)).status).toBe('paid');
    });
  });

  it('what cannot be a PayPal delivery is refused with a 4xx and stored nowhere', async () => {
    const genuine = env.sim.control.webhookLog()[0]!;
    const count = async () => (await env.pool.query(`select count(*)::int as n from payment_event where source = 'webhook'`)).rows[0].n as number;
    const before = await count();
    const { 'paypal-transmission-sig': _sig, ...unsigned } = transmissionHeaders(genuine.transmission);
    const cases: [string, RequestInit, number[]][] = [
      ['no transmission headers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: genuine.body }, [400]],
      ['no signature header', { method: 'POST', headers: unsigned, body: genuine.body }, [400]],
      ['not JSON', { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: '{"id": "WH-1", ' }, [400]],
      ['JSON without an event id', { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: '{"event_type":"PAYMENT.SALE.COMPLETED"}' }, [400]],
      ['a JSON array', { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: '[]' }, [400]],
      ['invalid UTF-8', { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, [400]],
      ['form-encoded', { method: 'POST', headers: { ...transmissionHeaders(genuine.transmission), 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=WH-1' }, [400, 415]],
      ['65 KB', { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: JSON.stringify({ id: 'WH-BIG', event_type: 'X', pad: 'a'.repeat(65 * 1024) }) }, [413]],
      ['GET', { method: 'GET' }, [404]],
    ];
    for (const [name, init, expected] of cases) {
      const response = await fetch(webhookUrl, init);
      expect(expected, `${name}: ${response.status}`).toContain(response.status);
    }
    expect(await count()).toBe(before);
  });

  it('without PAYPAL_WEBHOOK_ID there is no webhook route and the simulator sends no webhooks', async () => {
    const plain = await startPaypalTestEnv();
    try {
      const genuine = env.sim.control.webhookLog()[0]!;
      const response = await fetch(`${plain.server.url}/paypal/webhook`, { method: 'POST', headers: transmissionHeaders(genuine.transmission), body: genuine.body });
      expect(response.status).toBe(404);
      expect(plain.sim.control.getState().webhooks).toEqual([]);
      const { customer, order } = await pendingOrder(plain.client);
      const attempt = await plain.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await buyerChooses(plain, attempt.externalId, 'approve');
      expect(plain.sim.control.webhookLog()).toEqual([]);
      const { rows } = await plain.pool.query(`select count(*)::int as n from payment_event where source = 'webhook'`);
      expect(rows[0].n).toBe(0);
    } finally {
      await plain.close();
    }
  });
});
