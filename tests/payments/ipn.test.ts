import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyerChooses, ipnEvents, ipnFields, type PaypalTestEnv, pendingOrder, startPaypalTestEnv, waitFor } from '../support/paypal-server.ts';

let env: PaypalTestEnv;
let notifyUrl: string;
beforeAll(async () => {
  env = await startPaypalTestEnv();
  notifyUrl = `${env.server.url}/paypal/ipn`;
});
afterAll(() => env.close());

async function orderRow(orderId: string) {
  const { rows } = await env.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0];
}

async function settled(where: string, params: unknown[], count = 1) {
  let last: Awaited<ReturnType<typeof ipnEvents>> = [];
  return waitFor(async () => {
    last = await ipnEvents(env.pool, where, params);
    return last.length >= count && last.every((e) => e.processing !== 'received') ? last : undefined;
  }, 20_000, `IPN (${where}) to be processed`).catch(async (error: Error) => {
    const jobs = await env.pool.query(`select state, retry_count, output::text from pgboss.job where name = 'ipn-process' order by created_on desc limit 8`);
    console.log(JSON.stringify(jobs.rows, null, 1).slice(0, 3000));
    const states = last.map((e) => e.processing).join(', ');
    throw new Error(`${error.message}; have ${last.length} of ${count}: ${states}`);
  });
}

/** A paid order and its sale id, paid through the normal return-URL flow. */
async function paidOrder(options: Parameters<typeof pendingOrder>[1] = {}) {
  const { customer, order } = await pendingOrder(env.client, options);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  const row = await orderRow(order.id);
  expect(row.status).toBe('paid');
  await settled('txn_id = $1', [row.payment_transaction_id]);
  return { customer, order, attempt, saleId: row.payment_transaction_id as string };
}

describe('IPN listener', () => {
  it('answers 200 with an empty body and stores the exact bytes', async () => {
    const body = 'txn_id=FORGED0000000001&payment_status=Completed&mc_gross=25.00&mc_currency=USD&receiver_email=x%40y.z&first_name=J%F6rg&charset=windows-1252';
    const response = await fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const [event] = await settled('txn_id = $1', ['FORGED0000000001']);
    expect(Buffer.from(event!.raw_body).toString('latin1')).toBe(body);
    // Not sent by PayPal: the postback says INVALID; kept, never acted on.
    expect(event).toMatchObject({ verification: 'invalid', processing: 'ignored', order_id: null });
  });

  it('refuses oversized bodies and stores nothing', async () => {
    const before = await ipnEvents(env.pool);
    const response = await fetch(notifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `txn_id=BIG&pad=${'a'.repeat(100 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect((await ipnEvents(env.pool)).length).toBe(before.length);
  });

  it('a forged IPN for a real order is stored but changes nothing', async () => {
    const { order } = await pendingOrder(env.client);
    const body = new URLSearchParams(ipnFields({ txn_id: 'FORGED0000000002', custom: order.id, mc_gross: '25.00' })).toString();
    await fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const [event] = await settled('txn_id = $1', ['FORGED0000000002']);
    expect(event).toMatchObject({ verification: 'invalid', processing: 'ignored' });
    expect((await orderRow(order.id)).status).toBe('pending');
  });

  it('wrong receiver, amount or currency: verified but flagged, the order untouched', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const base = { invoice: attempt.attemptId, custom: order.id };
    env.sim.control.sendIpn(ipnFields({ ...base, txn_id: 'WRONGRECEIVER0001', receiver_email: 'thief@example.com', business: 'thief@example.com' }), notifyUrl);
    env.sim.control.sendIpn(ipnFields({ ...base, txn_id: 'WRONGAMOUNT000001', mc_gross: '0.01' }), notifyUrl);
    env.sim.control.sendIpn(ipnFields({ ...base, txn_id: 'WRONGCURRENCY0001', mc_currency: 'EUR' }), notifyUrl);
    const events = await settled(`txn_id like 'WRONG%'`, [], 3);
    expect(events.map((e) => [e.txn_id, e.verification, e.processing])).toEqual([
      ['WRONGRECEIVER0001', 'verified', 'flagged'],
      ['WRONGAMOUNT000001', 'verified', 'flagged'],
      ['WRONGCURRENCY0001', 'verified', 'flagged'],
    ]);
    expect(events[0]!.outcome).toContain('receiver');
    expect((await orderRow(order.id)).status).toBe('pending');
  });

  it('an IPN for an unknown payment is kept for reconciliation', async () => {
    env.sim.control.sendIpn(ipnFields({ txn_id: 'UNKNOWNPAYMENT001' }), notifyUrl);
    const [event] = await settled('txn_id = $1', ['UNKNOWNPAYMENT001']);
    expect(event).toMatchObject({ verification: 'verified', processing: 'unmatched' });
  });

  it('20 identical IPNs at once plus the return URL: paid exactly once', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    env.sim.control.setIpnMode({ duplicates: 19 });
    try {
      const { response } = await buyerChooses(env, attempt.externalId, 'approve');
      expect(response.status).toBe(200);
      const saleId = (await orderRow(order.id)).payment_transaction_id;
      // Replay the genuine message 20 more times ourselves, all at once, racing the simulator's copies.
      const genuine = env.sim.control.ipnLog().find((entry) => entry.fields.txn_id === saleId)!;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: genuine.body }),
        ),
      );
      const events = await settled('txn_id = $1', [saleId], 40);
      expect(events).toHaveLength(40);
      expect(events.filter((e) => e.processing === 'processed')).toHaveLength(1);
      expect(events.filter((e) => e.processing === 'duplicate')).toHaveLength(39);
    } finally {
      env.sim.control.setIpnMode({ duplicates: 0 });
    }
    const { rows } = await env.pool.query(
      `select (select count(*) from audit_entry where order_id = $1 and action = 'order.paid')::int as paid_entries,
              (select count(*) from order_line where order_id = $1)::int as lines,
              (select count(*) from order_payment_attempt where order_id = $1 and status = 'succeeded')::int as succeeded`,
      [order.id],
    );
    expect(rows[0]).toEqual({ paid_entries: 1, lines: 1, succeeded: 1 });
  });

  it('the IPN before the return URL: IPN pays, the return then finds it done', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
    const payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
    // Another request executed the payment and died before applying it; PayPal's IPN comes first.
    await env.server.paypal.gateway.executePayment({ requestId: `execute-${attempt.attemptId}`, paymentId: attempt.externalId, payerId });
    await waitFor(async () => (await orderRow(order.id)).status === 'paid', 20_000, 'the IPN to pay the order');
    const back = await fetch(redirectUrl, { redirect: 'manual' });
    expect(await back.text()).toContain('Payment received');
    const { rows } = await env.pool.query(`select count(*)::int as n from audit_entry where order_id = $1 and action = 'order.paid'`, [order.id]);
    expect(rows[0].n).toBe(1);
  });

  it('an IPN held back by PayPal and released later still applies (reversal)', async () => {
    const { saleId, order } = await paidOrder();
    env.sim.control.setIpnMode({ outOfOrder: true });
    try {
      env.sim.control.reverseSale(saleId);
      env.sim.control.flushIpns();
    } finally {
      env.sim.control.setIpnMode({ outOfOrder: false });
    }
    await waitFor(async () => (await orderRow(order.id)).status === 'refunded', 20_000, 'the reversal to apply');
  });

  it('refund IPNs: partial then full', async () => {
    const { saleId, order } = await paidOrder({ unitPrice: 1000, quantity: 3 });
    await env.server.paypal.gateway.refundSale({ requestId: `refund-1-${order.id}`, saleId, amount: 1000, currency: 'USD' });
    await waitFor(async () => (await orderRow(order.id)).status === 'partially_refunded', 20_000, 'the partial refund');
    expect((await orderRow(order.id)).refunded_amount).toBe(1000);
    await env.server.paypal.gateway.refundSale({ requestId: `refund-2-${order.id}`, saleId, currency: 'USD' });
    await waitFor(async () => (await orderRow(order.id)).status === 'refunded', 20_000, 'the full refund');
    expect((await orderRow(order.id)).refunded_amount).toBe(3000);
  });

  it('reversal then canceled reversal: refunded, then paid again', async () => {
    const { saleId, order } = await paidOrder();
    // The attempt's sale state is the sale's, from its ledger: never the order's status ("paid" read as a sale state).
    const saleState = async () => (await env.pool.query('select sale_state from order_payment_attempt where sale_id = $1', [saleId])).rows[0]?.sale_state;
    env.sim.control.reverseSale(saleId);
    await waitFor(async () => (await orderRow(order.id)).status === 'refunded', 20_000, 'the reversal');
    expect(await saleState()).toBe('refunded');
    env.sim.control.cancelReversal(saleId);
    await waitFor(async () => (await orderRow(order.id)).status === 'paid', 20_000, 'the canceled reversal');
    expect((await orderRow(order.id)).refunded_amount).toBe(0);
    expect(await saleState()).toBe('completed');
  });

  it('a denied pending sale fails the order', async () => {
    const { customer, order } = await pendingOrder(env.client);
    env.sim.control.setPendingSales(true);
    try {
      const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      await buyerChooses(env, attempt.externalId, 'approve');
      const { rows } = await env.pool.query('select sale_id from order_payment_attempt where id = $1', [attempt.attemptId]);
      env.sim.control.denySale(rows[0].sale_id);
    } finally {
      env.sim.control.setPendingSales(false);
    }
    await waitFor(async () => (await orderRow(order.id)).status === 'failed', 20_000, 'the denial');
  });

  it('verification unreachable: the IPN waits and is processed once it answers', async () => {
    const { customer, order } = await pendingOrder(env.client);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    env.sim.control.failNext({ count: 2, status: 503, path: '/cgi-bin/webscr' });
    env.sim.control.sendIpn(ipnFields({ txn_id: 'VERIFYRETRY000001', invoice: attempt.attemptId, custom: order.id }), notifyUrl);
    const [event] = await settled('txn_id = $1', ['VERIFYRETRY000001']);
    expect(event).toMatchObject({ verification: 'verified', processing: 'processed' });
    expect((await orderRow(order.id)).status).toBe('paid');
  });

  it('a notification stored without its raw body is closed as unverifiable and kept, not retried', async () => {
    // Written around the listener (a script, a restore): the job used to throw on it, so the queue retried it for ever.
    const stored = await env.pool.query<{ id: string; source: string }>(
      `insert into payment_event (id, created_at, updated_at, source, txn_id, verification, processing)
       select gen_random_uuid(), now(), now(), source, 'NORAWBODY-' || source, 'pending', 'received' from unnest(array['ipn', 'webhook']) source
       returning id, source`,
    );
    for (const { id, source } of stored.rows) {
      const processed = source === 'ipn' ? env.server.services.payments.processIpn(id) : env.server.services.webhooks.processWebhook(id);
      await expect(processed).resolves.toBe('ignored');
    }
    const { rows } = await env.pool.query(`select source, verification, processing, outcome, processed_at from payment_event where txn_id like 'NORAWBODY-%' order by source`);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ verification: 'not_applicable', processing: 'ignored', outcome: 'stored without its raw body: it cannot be verified with PayPal' });
      expect(row.processed_at).toBeInstanceOf(Date);
    }
  });
});

describe('payment_event vocabulary', () => {
  it('the database refuses a source, verification, processing or flag outside @orders/shared\'s lists, and takes every listed one', async () => {
    const insert = (source: string, verification: string, processing: string, flag: string | null) =>
      env.pool.query(
        `insert into payment_event (id, created_at, updated_at, source, verification, processing, flag_kind)
         values (gen_random_uuid(), now(), now(), $1, $2, $3, $4)`,
        [source, verification, processing, flag],
      );
    for (const [source, verification, processing, flag, constraint] of [
      ['fax', 'pending', 'received', null, 'payment_event_source_check'],
      ['ipn', 'probably', 'received', null, 'payment_event_verification_check'],
      ['ipn', 'pending', 'lost', null, 'payment_event_processing_check'],
      ['ipn', 'verified', 'flagged', 'looked_odd', 'payment_event_flag_kind_check'],
    ] as const) {
      await expect(insert(source, verification, processing, flag)).rejects.toMatchObject({ code: '23514', constraint });
    }
    const { rows } = await env.pool.query(`select count(*)::int as n from payment_event where source = 'fax' or flag_kind = 'looked_odd'`);
    expect(rows[0].n).toBe(0);
    await insert('webhook', 'verified', 'flagged', 'signature_invalid');
    await env.pool.query(`delete from payment_event where source = 'webhook' and flag_kind = 'signature_invalid' and txn_id is null`);
  });
});
