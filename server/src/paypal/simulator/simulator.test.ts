import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPaypalSimulator, type PaypalSimulator, type WebhookLogEntry } from './index.js';

const CLIENT_ID = 'sim-test-client';
const CLIENT_SECRET = 'sim-test-secret-do-not-log';
const RECEIVER = 'seller@example.com';

interface ReceivedIpn {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A stand-in IPN listener: records every post and answers with the scripted status for that post. */
async function startIpnReceiver(statusFor: (index: number) => number = () => 200) {
  const received: ReceivedIpn[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = statusFor(received.length);
      received.push({ body: Buffer.concat(chunks).toString('latin1'), headers: req.headers });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/paypal/ipn`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let sim: PaypalSimulator;

beforeAll(async () => {
  sim = await startPaypalSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    receiverEmail: RECEIVER,
    ipnRetryDelaysMs: [50, 50, 50],
  });
});
afterAll(() => sim.close());
afterEach(() => sim.control.reset());

async function token(instance = sim, secret = CLIENT_SECRET): Promise<Response> {
  return fetch(`${instance.baseUrl}/v1/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
}

async function accessToken(instance = sim): Promise<string> {
  return ((await (await token(instance)).json()) as { access_token: string }).access_token;
}

async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${sim.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${await accessToken()}`,
      'content-type': 'application/json',
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function paymentRequest(overrides: { currency?: string; total?: string; price?: string; notifyUrl?: string } = {}) {
  const currency = overrides.currency ?? 'USD';
  return {
    intent: 'sale',
    payer: { payment_method: 'paypal' },
    redirect_urls: { return_url: 'http://shop.test/return?attemptId=a1', cancel_url: 'http://shop.test/cancel' },
    transactions: [
      {
        amount: { total: overrides.total ?? '30.00', currency },
        description: 'Order 42',
        custom: 'order-42',
        invoice_number: 'inv-42',
        ...(overrides.notifyUrl ? { notify_url: overrides.notifyUrl } : {}),
        item_list: {
          items: [{ name: 'Blue mug', sku: 'MUG-1', price: overrides.price ?? '15.00', currency, quantity: 2 }],
        },
      },
    ],
  };
}

/** Creates, approves and executes a payment; returns its id and the sale id. */
async function paidSale(notifyUrl?: string, request = paymentRequest({ ...(notifyUrl ? { notifyUrl } : {}) })) {
  const created = await api('/v1/payments/payment', { method: 'POST', body: request });
  const paymentId = created.body.id as string;
  sim.control.approve(paymentId, 'approve');
  const executed = await api(`/v1/payments/payment/${paymentId}/execute`, {
    method: 'POST',
    body: { payer_id: sim.control.getState().buyer.payerId },
  });
  expect(executed.status).toBe(200);
  return { paymentId, saleId: executed.body.transactions[0].related_resources[0].sale.id as string };
}

const fieldsOf = (body: string) => Object.fromEntries(new URLSearchParams(body));

async function notifyValidate(raw: string): Promise<string> {
  const response = await fetch(sim.ipnVerifyUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `cmd=_notify-validate&${raw}`,
  });
  return response.text();
}

describe('OAuth', () => {
  it('issues tokens only for the configured client and requires them on the API', async () => {
    const bad = await token(sim, 'wrong');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });

    const good = await token();
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ token_type: 'Bearer', expires_in: 32400, access_token: expect.any(String) });

    const anonymous = await fetch(`${sim.baseUrl}/v1/payments/payment/PAY-X`);
    expect(anonymous.status).toBe(401);
  });

  it('keeps instances apart: a token from one simulator is rejected by another', async () => {
    const other = await startPaypalSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, receiverEmail: RECEIVER });
    try {
      const foreign = await accessToken(other);
      const response = await fetch(`${sim.baseUrl}/v1/payments/payment/PAY-X`, {
        headers: { authorization: `Bearer ${foreign}` },
      });
      expect(response.status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('refuses to listen beyond loopback', async () => {
    await expect(
      startPaypalSimulator({ host: '0.0.0.0', clientId: 'a', clientSecret: 'b', receiverEmail: RECEIVER }),
    ).rejects.toThrow(/loopback/);
  });
});

describe('create payment', () => {
  it("answers PayPal's shape and honours PayPal-Request-Id", async () => {
    const first = await api('/v1/payments/payment/', {
      method: 'POST',
      body: paymentRequest(),
      headers: { 'paypal-request-id': 'req-1' },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ intent: 'sale', state: 'created', transactions: [{ related_resources: [] }] });
    expect(first.body.id).toMatch(/^PAY-[A-Z0-9]{24}$/);
    const approval = first.body.links.find((l: { rel: string }) => l.rel === 'approval_url');
    expect(approval.href).toMatch(new RegExp(`^${sim.baseUrl}/cgi-bin/webscr\\?cmd=_express-checkout&token=EC-[A-Z0-9]{17}$`));

    const again = await api('/v1/payments/payment/', {
      method: 'POST',
      body: paymentRequest(),
      headers: { 'paypal-request-id': 'req-1' },
    });
    expect(again.body.id).toBe(first.body.id);
    expect(sim.control.getState().payments).toHaveLength(1);
  });

  it('rejects decimals for zero-decimal currencies and accepts whole amounts', async () => {
    const decimal = await api('/v1/payments/payment', {
      method: 'POST',
      body: paymentRequest({ currency: 'JPY', total: '1500.00', price: '750' }),
    });
    expect(decimal.status).toBe(400);
    expect(decimal.body).toMatchObject({
      name: 'VALIDATION_ERROR',
      details: [{ field: 'transactions[0].amount.total', issue: expect.stringMatching(/decimals/) }],
    });

    const whole = await api('/v1/payments/payment', {
      method: 'POST',
      body: paymentRequest({ currency: 'JPY', total: '1500', price: '750' }),
    });
    expect(whole.status).toBe(201);
    expect(whole.body.transactions[0].amount).toEqual({ total: '1500', currency: 'JPY' });
  });

  it('rejects items that do not add up, details that do not add up and missing redirect urls', async () => {
    const items = await api('/v1/payments/payment', { method: 'POST', body: paymentRequest({ price: '14.99' }) });
    expect(items.body.details).toEqual([
      expect.objectContaining({ field: 'transactions[0].item_list.items', issue: expect.stringMatching(/add up/) }),
    ]);

    const withDetails = paymentRequest();
    Object.assign(withDetails.transactions[0]!.amount, { details: { subtotal: '30.00', shipping: '1.00' } });
    const details = await api('/v1/payments/payment', { method: 'POST', body: withDetails });
    expect(details.body.details).toEqual([expect.objectContaining({ field: 'transactions[0].amount' })]);

    const { redirect_urls: _omitted, ...noRedirects } = paymentRequest();
    const redirects = await api('/v1/payments/payment', { method: 'POST', body: noRedirects });
    expect(redirects.body.details.map((d: { field: string }) => d.field)).toEqual([
      'redirect_urls.return_url',
      'redirect_urls.cancel_url',
    ]);
  });
});

/** The buyer approves at PayPal, through the control API: where PayPal would send the browser. */
async function approveByControl(paymentId: string): Promise<{ redirectUrl: string }> {
  const response = await fetch(`${sim.baseUrl}/_sim/approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.controlToken}` },
    body: JSON.stringify({ paymentId, action: 'approve' }),
  });
  return (await response.json()) as { redirectUrl: string };
}

/** A button pressed on the approval page: the form it posts, the redirect left unfollowed. */
function decideOnPage(token: string, action: string): Promise<Response> {
  return fetch(`${sim.baseUrl}/checkoutnow/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, action }).toString(),
    redirect: 'manual',
  });
}

describe('buyer approval', () => {
  it('shows merchant, items and total, and redirects like PayPal for each button', async () => {
    const created = await api('/v1/payments/payment', { method: 'POST', body: paymentRequest() });
    const approvalUrl = created.body.links.find((l: { rel: string }) => l.rel === 'approval_url').href as string;
    const page = await fetch(approvalUrl);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain(RECEIVER);
    expect(html).toContain('Blue mug');
    expect(html).toContain('$30.00');
    expect(html.match(/<form /g)).toHaveLength(3);

    const token = new URL(approvalUrl).searchParams.get('token')!;
    const decide = (action: string) => decideOnPage(token, action);

    const cancelled = await decide('cancel');
    expect(cancelled.status).toBe(302);
    expect(cancelled.headers.get('location')).toBe(`http://shop.test/cancel?token=${token}`);

    const approved = await decide('approve');
    expect(approved.status).toBe(302);
    const location = new URL(approved.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('http://shop.test/return');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      attemptId: 'a1',
      paymentId: created.body.id,
      token,
      PayerID: sim.control.getState().buyer.payerId,
    });
  });

  it('executes only an approved payment, for the approving payer', async () => {
    const created = await api('/v1/payments/payment', { method: 'POST', body: paymentRequest() });
    const execute = (payerId: string) =>
      api(`/v1/payments/payment/${created.body.id}/execute`, { method: 'POST', body: { payer_id: payerId } });

    expect((await execute('NOBODY')).body.name).toBe('PAYMENT_NOT_APPROVED_FOR_EXECUTION');
    const { redirectUrl } = await approveByControl(created.body.id);
    const payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
    expect((await execute('SOMEONEELSE')).body.name).toBe('INVALID_PAYER_ID');

    const executed = await execute(payerId);
    expect(executed.body).toMatchObject({ state: 'approved', payer: { payer_info: { email: 'buyer@example.com' } } });
    expect(executed.body.transactions[0].related_resources[0].sale).toMatchObject({
      id: expect.stringMatching(/^[A-Z0-9]{17}$/),
      state: 'completed',
      amount: { total: '30.00', currency: 'USD' },
      parent_payment: created.body.id,
    });
    expect((await execute(payerId)).body.name).toBe('PAYMENT_ALREADY_DONE');
  });

  it('after the payment is executed, its approval page and a late decision refuse and lead back to the merchant’s return page', async () => {
    const created = await api('/v1/payments/payment', { method: 'POST', body: paymentRequest() });
    const approvalUrl = created.body.links.find((l: { rel: string }) => l.rel === 'approval_url').href as string;
    const token = new URL(approvalUrl).searchParams.get('token')!;
    const { redirectUrl } = await approveByControl(created.body.id);
    // Before execution there is still a decision to make: no way back offered, the buttons instead.
    expect(await (await fetch(approvalUrl)).text()).not.toContain('class="onward"');
    const payerId = new URL(redirectUrl).searchParams.get('PayerID')!;
    await api(`/v1/payments/payment/${created.body.id}/execute`, { method: 'POST', body: { payer_id: payerId } });

    const onward = (html: string) => /<a class="onward" href="([^"]+)">([^<]+)<\/a>/.exec(html);
    const again = await fetch(approvalUrl);
    expect(again.status).toBe(409);
    const page = await again.text();
    expect(page).toContain('Already paid');
    // The same return as approving gave (the merchant's page then says the order is paid), HTML-escaped in the page.
    expect(onward(page)?.[1]?.replaceAll('&amp;', '&')).toBe(redirectUrl);
    expect(onward(page)?.[2]).toBe(`Return to ${RECEIVER}`);

    const late = await decideOnPage(token, 'approve');
    expect(late.status).toBe(409);
    const latePage = await late.text();
    expect(latePage).toContain('This payment has already been completed.');
    expect(onward(latePage)?.[1]?.replaceAll('&amp;', '&')).toBe(redirectUrl);
  });
});

describe('IPN', () => {
  it('resends the identical message until the listener answers 200, and verifies only those bytes', async () => {
    const receiver = await startIpnReceiver((index) => (index === 0 ? 500 : 200));
    try {
      const { saleId } = await paidSale(receiver.url);
      await sim.control.settleIpns();

      expect(receiver.received).toHaveLength(2);
      const [first, second] = receiver.received;
      expect(second!.body).toBe(first!.body);
      expect(first!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(fieldsOf(first!.body)).toMatchObject({
        txn_id: saleId,
        payment_status: 'Completed',
        mc_gross: '30.00',
        mc_currency: 'USD',
        receiver_email: RECEIVER,
        business: RECEIVER,
        custom: 'order-42',
        invoice: 'inv-42',
        payer_email: 'buyer@example.com',
        txn_type: 'express_checkout',
        charset: 'UTF-8',
        test_ipn: '1',
        payment_date: expect.stringMatching(/^\d\d:\d\d:\d\d [A-Z][a-z]{2} \d\d, \d{4} P[SD]T$/),
      });
      expect(sim.control.ipnLog()[0]!.deliveries[0]!.attempts.map((a) => a.status)).toEqual([500, 200]);

      const raw = first!.body;
      expect(await notifyValidate(raw)).toBe('VERIFIED');
      expect(await notifyValidate(raw.replace('mc_gross=30.00', 'mc_gross=0.01'))).toBe('INVALID');
      const reordered = raw.split('&').reverse().join('&');
      expect(await notifyValidate(reordered)).toBe('INVALID');
      expect(await notifyValidate(`${raw}&extra=1`)).toBe('INVALID');
    } finally {
      await receiver.close();
    }
  });

  it('gives up after the configured resends when the listener never accepts', async () => {
    const unreachable = await startIpnReceiver();
    await unreachable.close();
    await paidSale(unreachable.url);
    await sim.control.settleIpns();
    const [delivery] = sim.control.ipnLog()[0]!.deliveries;
    expect(delivery!.state).toBe('failed');
    expect(delivery!.attempts).toHaveLength(4);
    expect(delivery!.attempts[0]!.error).toBe('ECONNREFUSED');
  });

  it('announces pending, completion, refunds, reversals and their cancellation', async () => {
    const receiver = await startIpnReceiver();
    try {
      sim.control.setPendingSales(true);
      const { saleId } = await paidSale(receiver.url);
      sim.control.completePendingSale(saleId);
      await sim.control.settleIpns();
      await api(`/v1/payments/sale/${saleId}/refund`, {
        method: 'POST',
        body: { amount: { total: '10.00', currency: 'USD' } },
      });
      await sim.control.settleIpns();
      sim.control.reverseSale(saleId);
      await sim.control.settleIpns();
      sim.control.cancelReversal(saleId);
      await sim.control.settleIpns();

      const messages = receiver.received.map((r) => fieldsOf(r.body));
      expect(messages.map((m) => m.payment_status)).toEqual([
        'Pending',
        'Completed',
        'Refunded',
        'Reversed',
        'Canceled_Reversal',
      ]);
      const [pending, completed, refunded, reversed, restored] = messages;
      expect(pending).toMatchObject({ txn_id: saleId, pending_reason: 'paymentreview' });
      expect(completed).toMatchObject({ txn_id: saleId, mc_gross: '30.00' });
      expect(refunded).toMatchObject({ parent_txn_id: saleId, mc_gross: '-10.00', reason_code: 'refund' });
      expect(refunded!.txn_id).toMatch(/^[A-Z0-9]{17}$/);
      expect(refunded!.txn_id).not.toBe(saleId);
      expect(refunded).not.toHaveProperty('txn_type');
      expect(reversed).toMatchObject({ parent_txn_id: saleId, mc_gross: '-20.00', reason_code: 'chargeback' });
      expect(restored).toMatchObject({ parent_txn_id: saleId, mc_gross: '20.00' });
    } finally {
      await receiver.close();
    }
  });

  it('writes zero-decimal amounts without decimals', async () => {
    const receiver = await startIpnReceiver();
    try {
      await paidSale(receiver.url, paymentRequest({ currency: 'JPY', total: '1500', price: '750', notifyUrl: receiver.url }));
      await sim.control.settleIpns();
      expect(fieldsOf(receiver.received[0]!.body)).toMatchObject({ mc_gross: '1500', mc_currency: 'JPY' });
    } finally {
      await receiver.close();
    }
  });

  it('duplicates, holds and reorders on request; sendIpn messages verify as genuine', async () => {
    const receiver = await startIpnReceiver();
    try {
      sim.control.setIpnMode({ duplicates: 2 });
      const dup = sim.control.sendIpn({ txn_id: 'DUP', payment_status: 'Completed' }, receiver.url);
      await sim.control.settleIpns();
      expect(receiver.received.map((r) => r.body)).toEqual([dup.body, dup.body, dup.body]);
      expect(await notifyValidate(dup.body)).toBe('VERIFIED');

      receiver.received.length = 0;
      sim.control.setIpnMode({ duplicates: 0, paused: true, outOfOrder: true });
      sim.control.sendIpn({ txn_id: 'FIRST', payment_status: 'Completed' }, receiver.url);
      sim.control.sendIpn({ txn_id: 'SECOND', payment_status: 'Refunded' }, receiver.url);
      await sim.control.settleIpns();
      expect(receiver.received).toHaveLength(0);
      expect(sim.control.ipnLog().filter((e) => e.held)).toHaveLength(2);

      sim.control.flushIpns();
      await sim.control.settleIpns();
      expect(receiver.received.map((r) => fieldsOf(r.body).txn_id)).toEqual(['SECOND', 'FIRST']);

      receiver.received.length = 0;
      sim.control.setIpnMode({ paused: false });
      sim.control.sendIpn({ txn_id: 'THIRD' }, receiver.url);
      sim.control.sendIpn({ txn_id: 'FOURTH' }, receiver.url);
      await sim.control.settleIpns();
      expect(receiver.received.map((r) => fieldsOf(r.body).txn_id)).toEqual(['FOURTH', 'THIRD']);
    } finally {
      await receiver.close();
    }
  });
});

describe('webhooks', () => {
  const WEBHOOK_ID = 'SIMTESTWEBHOOK0000000001';
  let hooks: PaypalSimulator;
  let receiver: Awaited<ReturnType<typeof startIpnReceiver>>;
  /** The first two posts fail: PayPal must resend the same transmission until a 2xx. */
  let statusFor: (index: number) => number = () => 204;

  beforeAll(async () => {
    receiver = await startIpnReceiver((index) => statusFor(index));
    hooks = await startPaypalSimulator({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      receiverEmail: RECEIVER,
      ipnRetryDelaysMs: [50, 50, 50],
      webhookUrl: receiver.url.replace('/paypal/ipn', '/paypal/webhook'),
      webhookId: WEBHOOK_ID,
    });
  });
  afterAll(async () => {
    await hooks.close();
    await receiver.close();
  });
  afterEach(() => {
    hooks.control.reset();
    receiver.received.length = 0;
    statusFor = () => 204;
  });

  /** A reset forgets issued tokens, so each call gets a fresh one unless told otherwise. */
  const call = async (path: string, body: unknown, token?: string) => {
    token ??= await accessToken(hooks);
    const response = await fetch(`${hooks.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  async function sale(request = paymentRequest()) {
    const created = await call('/v1/payments/payment', request);
    hooks.control.approve(created.body.id, 'approve');
    const executed = await call(`/v1/payments/payment/${created.body.id}/execute`, { payer_id: hooks.control.getState().buyer.payerId });
    return { paymentId: created.body.id as string, saleId: executed.body.transactions[0].related_resources[0].sale.id as string };
  }

  const verification = (entry: WebhookLogEntry, overrides: Record<string, unknown> = {}) => ({
    auth_algo: entry.transmission.authAlgo,
    cert_url: entry.transmission.certUrl,
    transmission_id: entry.transmission.transmissionId,
    transmission_sig: entry.transmission.transmissionSig,
    transmission_time: entry.transmission.transmissionTime,
    webhook_id: entry.webhookId,
    webhook_event: JSON.parse(entry.body),
    ...overrides,
  });

  it('posts PAYMENT.SALE.COMPLETED with PayPal\'s envelope and transmission headers, resent unchanged until a 2xx', async () => {
    statusFor = (index) => (index < 2 ? 503 : 200);
    const { paymentId, saleId } = await sale();
    await hooks.control.settleWebhooks();
    expect(receiver.received).toHaveLength(3);
    const [first, , last] = receiver.received;
    expect(last!.body).toBe(first!.body);
    for (const header of ['paypal-transmission-id', 'paypal-transmission-time', 'paypal-transmission-sig', 'paypal-cert-url', 'paypal-auth-algo']) {
      expect(last!.headers[header], header).toBe(first!.headers[header]);
    }
    expect(first!.headers).toMatchObject({
      'content-type': 'application/json',
      'paypal-auth-algo': 'SHA256withRSA',
      'paypal-cert-url': expect.stringMatching(new RegExp(`^${hooks.baseUrl}/v1/notifications/certs/CERT-`)),
      'paypal-transmission-time': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const event = JSON.parse(first!.body);
    expect(event).toMatchObject({
      id: expect.stringMatching(/^WH-[A-Z0-9]+-[A-Z0-9]+$/),
      event_version: '1.0',
      resource_type: 'sale',
      event_type: 'PAYMENT.SALE.COMPLETED',
      summary: expect.any(String),
      resource: { id: saleId, state: 'completed', parent_payment: paymentId, amount: { total: '30.00', currency: 'USD' } },
    });
    expect(hooks.control.webhookLog()[0]!.deliveries[0]!.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    // The IPN went out beside it, to the payment's notify_url (none here).
    expect(hooks.control.ipnLog()).toHaveLength(0);
  });

  it('verify-webhook-signature: SUCCESS only for what was sent, as sent, to that webhook; OAuth required; fields validated', async () => {
    await sale();
    await hooks.control.settleWebhooks();
    const entry = hooks.control.webhookLog()[0]!;
    const verify = (body: unknown, token?: string) => call('/v1/notifications/verify-webhook-signature', body, token);
    expect(await verify(verification(entry))).toEqual({ status: 200, body: { verification_status: 'SUCCESS' } });

    const altered = JSON.parse(entry.body);
    altered.resource.amount.total = '0.01';
    for (const forged of [
      { webhook_event: altered },
      { transmission_sig: Buffer.from('forged').toString('base64') },
      { transmission_id: randomUUID() },
      { transmission_time: '2020-01-01T00:00:00Z' },
      { cert_url: 'https://attacker.example/cert.pem' },
      { webhook_id: 'SOMEONEELSESWEBHOOK00001' },
    ]) {
      expect((await verify(verification(entry, forged))).body, JSON.stringify(forged)).toEqual({ verification_status: 'FAILURE' });
    }

    expect((await call('/v1/notifications/verify-webhook-signature', verification(entry), '')).status).toBe(401);
    const missing = await verify({ webhook_id: WEBHOOK_ID });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ name: 'VALIDATION_ERROR' });
    expect(missing.body.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['auth_algo', 'cert_url', 'transmission_id', 'transmission_sig', 'transmission_time', 'webhook_event']),
    );
  });

  it('announces pending, completion, denial, refunds and reversals; refunds and reversals as refund resources of the sale', async () => {
    hooks.control.setPendingSales(true);
    const pending = await sale();
    hooks.control.completePendingSale(pending.saleId);
    const denied = await sale();
    hooks.control.denySale(denied.saleId);
    hooks.control.setPendingSales(false);
    await call(`/v1/payments/sale/${pending.saleId}/refund`, { amount: { total: '10.00', currency: 'USD' } });
    hooks.control.reverseSale(pending.saleId);
    hooks.control.cancelReversal(pending.saleId);
    await hooks.control.settleWebhooks();

    const events = receiver.received.map((r) => JSON.parse(r.body));
    expect(events.map((e) => [e.event_type, e.resource_type, e.resource.state])).toEqual([
      ['PAYMENT.SALE.PENDING', 'sale', 'pending'],
      ['PAYMENT.SALE.COMPLETED', 'sale', 'completed'],
      ['PAYMENT.SALE.PENDING', 'sale', 'pending'],
      ['PAYMENT.SALE.DENIED', 'sale', 'denied'],
      ['PAYMENT.SALE.REFUNDED', 'refund', 'completed'],
      ['PAYMENT.SALE.REVERSED', 'refund', 'completed'],
    ]);
    const [, , , , refunded, reversed] = events;
    expect(refunded.resource).toMatchObject({ sale_id: pending.saleId, parent_payment: pending.paymentId, amount: { total: '10.00', currency: 'USD' } });
    expect(reversed.resource).toMatchObject({ sale_id: pending.saleId, parent_payment: pending.paymentId, amount: { total: '20.00', currency: 'USD' } });
    // Each webhook names the same transaction as its IPN would.
    expect(refunded.resource.id).toBe(hooks.control.getState().refunds[0]!.id);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('registers webhooks over the REST API and the control API; each gets its own transmission; pause and duplicates work', async () => {
    const other = await startIpnReceiver();
    try {
      const registered = await call('/v1/notifications/webhooks', { url: other.url, event_types: [{ name: 'PAYMENT.SALE.REFUNDED' }] });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({ id: expect.stringMatching(/^[A-Z0-9]{24}$/), url: other.url, event_types: [{ name: 'PAYMENT.SALE.REFUNDED' }] });
      expect((await call('/v1/notifications/webhooks', { url: 'ftp://x', event_types: [{ name: 'NOPE' }] })).body).toMatchObject({ name: 'VALIDATION_ERROR' });

      const { saleId } = await sale();
      await call(`/v1/payments/sale/${saleId}/refund`, {});
      await hooks.control.settleWebhooks();
      // Only the refund reaches the webhook subscribed to refunds alone, under its own webhook id.
      expect(other.received.map((r) => JSON.parse(r.body).event_type)).toEqual(['PAYMENT.SALE.REFUNDED']);
      const entries = hooks.control.webhookLog().filter((e) => e.eventType === 'PAYMENT.SALE.REFUNDED');
      expect(entries.map((e) => e.webhookId).sort()).toEqual([registered.body.id, WEBHOOK_ID].sort());
      expect(entries[0]!.transmission.transmissionId).not.toBe(entries[1]!.transmission.transmissionId);
      expect((await call('/v1/notifications/verify-webhook-signature', verification(entries[0]!, { webhook_id: entries[1]!.webhookId }))).body).toEqual({
        verification_status: 'FAILURE',
      });

      // The control API over HTTP: point the configured webhook elsewhere, hold, duplicate.
      receiver.received.length = 0;
      const moved = await fetch(`${hooks.baseUrl}/_sim/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hooks.controlToken}` }, body: JSON.stringify({ url: other.url, id: WEBHOOK_ID }) });
      expect(await moved.json()).toEqual({ id: WEBHOOK_ID });
      other.received.length = 0;
      hooks.control.setWebhookMode({ paused: true, duplicates: 1 });
      const sent = hooks.control.sendWebhook({ id: 'WH-CUSTOM-1', event_type: 'PAYMENT.SALE.COMPLETED', resource: {} });
      await hooks.control.settleWebhooks();
      expect(other.received).toHaveLength(0);
      hooks.control.setWebhookMode({ paused: false });
      await hooks.control.settleWebhooks();
      expect(other.received.map((r) => r.body)).toEqual([sent[0]!.body, sent[0]!.body]);
      expect(receiver.received).toHaveLength(0);
      expect((await call('/v1/notifications/verify-webhook-signature', verification(sent[0]!))).body).toEqual({ verification_status: 'SUCCESS' });
      expect(hooks.control.getState().webhooks.map((w) => w.id)).toContain(WEBHOOK_ID);
    } finally {
      hooks.control.registerWebhook(receiver.url.replace('/paypal/ipn', '/paypal/webhook'), WEBHOOK_ID);
      await other.close();
    }
  });
});

describe('faults and the HTTP control API', () => {
  const control = (path: string, body?: unknown) =>
    fetch(`${sim.baseUrl}/_sim/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${sim.controlToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('refuses every control call without its token (also encoded, mixed-case or with a wrong token), and changes nothing', async () => {
    const before = JSON.stringify(sim.control.getState());
    const attempts: [string, string, Record<string, string>][] = [
      ['GET', '/_sim/state', {}],
      ['GET', '/_sim/%73tate', {}],
      ['POST', '/_sim/ipn/send', { 'content-type': 'application/json' }],
      ['POST', '/_sim/%69pn/send', { 'content-type': 'application/json' }],
      ['POST', '/_sim/approve', { 'content-type': 'application/json', authorization: 'Bearer wrong-token' }],
      ['POST', '/_sim/approve', { 'content-type': 'application/json', authorization: `Bearer ${sim.controlToken}x` }],
      ['POST', '/_sim/reset', { authorization: sim.controlToken }],
    ];
    for (const [method, path, headers] of attempts) {
      const response = await fetch(`${sim.baseUrl}${path}`, {
        method,
        headers,
        ...(method === 'POST' ? { body: JSON.stringify({ fields: { txn_id: 'FORGED' }, notifyUrl: 'http://127.0.0.1:9/', paymentId: 'PAY-X', action: 'approve' }) } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    // Upper case is another route (Fastify matches case-sensitively): not found, never served.
    expect((await fetch(`${sim.baseUrl}/_SIM/state`)).status).toBe(404);
    expect(JSON.stringify(sim.control.getState())).toBe(before);
    expect((await control('state')).status).toBe(200);
  });

  it('refuses to start at all when PAYPAL_MODE is live', async () => {
    const previous = process.env.PAYPAL_MODE;
    process.env.PAYPAL_MODE = 'live';
    try {
      await expect(startPaypalSimulator({ clientId: 'a', clientSecret: 'b', receiverEmail: RECEIVER })).rejects.toThrow(/PAYPAL_MODE is live/);
    } finally {
      if (previous === undefined) delete process.env.PAYPAL_MODE;
      else process.env.PAYPAL_MODE = previous;
    }
  });

  it('answers 5xx with PayPal error bodies, resets or hangs the next matching calls', async () => {
    const bearer = await accessToken();
    const get = (path: string, signal?: AbortSignal) =>
      fetch(`${sim.baseUrl}${path}`, { headers: { authorization: `Bearer ${bearer}` }, ...(signal ? { signal } : {}) });

    expect((await control('fail-next', { count: 1, status: 503, path: '/v1/payments/sale' })).status).toBe(204);
    expect((await get('/v1/payments/payment/PAY-X')).status).toBe(404);
    const failed = await get('/v1/payments/sale/S1');
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ name: 'INTERNAL_SERVICE_ERROR', debug_id: expect.any(String) });
    expect((await get('/v1/payments/sale/S1')).status).toBe(404);

    await control('fail-next', { count: 1, mode: 'reset' });
    await expect(get('/v1/payments/payment/PAY-X')).rejects.toThrow();

    await control('fail-next', { count: 1, mode: 'hang' });
    await expect(get('/v1/payments/payment/PAY-X', AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
    expect((await get('/v1/payments/payment/PAY-X')).status).toBe(404);
  });

  it('serves state, approval, reset and input errors as JSON', async () => {
    const created = await api('/v1/payments/payment', { method: 'POST', body: paymentRequest() });
    const approved = await control('approve', { paymentId: created.body.id, action: 'decline' });
    expect(((await approved.json()) as { redirectUrl: string }).redirectUrl).toMatch(/^http:\/\/shop\.test\/return\?/);

    const state = (await (await control('state')).json()) as { payments: { buyerDecision: string }[] };
    expect(state.payments.map((p) => p.buyerDecision)).toEqual(['declined']);

    expect((await control('approve', { paymentId: 'PAY-NOPE', action: 'approve' })).status).toBe(404);
    expect((await control('fail-next', { count: 0 })).status).toBe(400);
    expect((await control('sales/NOPE/complete', {})).status).toBe(404);

    expect((await control('reset', {})).status).toBe(204);
    expect(((await (await control('state')).json()) as { payments: unknown[] }).payments).toEqual([]);
  });
});
