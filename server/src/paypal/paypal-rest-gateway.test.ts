import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PaymentProviderError, type CreatePaymentInput } from './gateway.js';
import { PaypalRestGateway } from './paypal-rest-gateway.js';
import { startPaypalSimulator, type PaypalSimulator } from './simulator/index.js';

// The SDK caches tokens per client id for the whole process: a unique id per run keeps suites apart.
const CLIENT_ID = `gateway-test-${randomUUID()}`;
const CLIENT_SECRET = `secret-${randomUUID()}`;
const TIMEOUT_MS = 500;

let sim: PaypalSimulator;
let gateway: PaypalRestGateway;

beforeAll(async () => {
  sim = await startPaypalSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, receiverEmail: 'seller@example.com' });
  gateway = new PaypalRestGateway({
    mode: 'sandbox',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sim.baseUrl,
    timeoutMs: TIMEOUT_MS,
  });
});
afterAll(() => sim.close());
afterEach(() => sim.control.reset());

function paymentInput(overrides: Partial<CreatePaymentInput> = {}): CreatePaymentInput {
  return {
    requestId: randomUUID(),
    amount: 3000,
    currency: 'USD',
    items: [{ sku: 'MUG-1', name: 'Blue mug', unitPrice: 1500, quantity: 2 }],
    description: 'Order 42',
    invoiceNumber: `inv-${randomUUID()}`,
    custom: 'order-42',
    notifyUrl: 'http://127.0.0.1:9/paypal/ipn',
    returnUrl: 'http://shop.test/paypal/return',
    cancelUrl: 'http://shop.test/paypal/cancel',
    ...overrides,
  };
}

async function providerError(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

/** Creates and approves a payment the way a buyer's browser would; returns what the return URL carries. */
async function approvedPayment(input = paymentInput()) {
  const { paymentId } = await gateway.createPayment(input);
  const { redirectUrl } = sim.control.approve(paymentId, 'approve');
  return { paymentId, payerId: new URL(redirectUrl).searchParams.get('PayerID')! };
}

describe('PaypalRestGateway against the simulator', () => {
  it('reaches the configured apiBase, not api.sandbox.paypal.com', async () => {
    const utils = createRequire(import.meta.url)('paypal-rest-sdk/lib/utils') as {
      getDefaultApiEndpoint: (mode: string) => string | null;
    };
    expect(utils.getDefaultApiEndpoint('sandbox')).toBeNull();

    const created = await gateway.createPayment(paymentInput());
    expect(created.approvalUrl.startsWith(`${sim.baseUrl}/cgi-bin/webscr?cmd=_express-checkout&token=EC-`)).toBe(true);
    expect(sim.control.getState().payments.map((p) => p.id)).toEqual([created.paymentId]);
  });

  it('keeps two gateways on two bases apart', async () => {
    const otherId = `other-${randomUUID()}`;
    const other = await startPaypalSimulator({ clientId: otherId, clientSecret: 'other-secret', receiverEmail: 'x@example.com' });
    try {
      const otherGateway = new PaypalRestGateway({ mode: 'sandbox', clientId: otherId, clientSecret: 'other-secret', apiBase: other.baseUrl });
      const [here, there] = await Promise.all([gateway.createPayment(paymentInput()), otherGateway.createPayment(paymentInput())]);
      expect(sim.control.getState().payments.map((p) => p.id)).toEqual([here.paymentId]);
      expect(other.control.getState().payments.map((p) => p.id)).toEqual([there.paymentId]);
    } finally {
      await other.close();
    }
  });

  it('creates USD and zero-decimal JPY payments', async () => {
    const usd = await gateway.createPayment(paymentInput());
    expect(usd.paymentId).toMatch(/^PAY-[A-Z0-9]{24}$/);
    expect(usd.raw).toMatchObject({ state: 'created', transactions: [{ amount: { total: '30.00', currency: 'USD' } }] });
    expect(usd.raw).not.toHaveProperty('httpStatusCode');

    const jpy = await gateway.createPayment(
      paymentInput({ amount: 1500, currency: 'JPY', items: [{ sku: 'TEA', name: 'Tea', unitPrice: 750, quantity: 2 }] }),
    );
    expect(jpy.raw).toMatchObject({ transactions: [{ amount: { total: '1500', currency: 'JPY' } }] });
  });

  it('surfaces validation errors with their details, not retryable', async () => {
    const error = await providerError(gateway.createPayment(paymentInput({ amount: 3100 })));
    expect(error).toMatchObject({ providerErrorName: 'VALIDATION_ERROR', httpStatus: 400, retryable: false });
    expect(error.debugId).toMatch(/^[0-9a-f]{13}$/);
    expect(error.details).toEqual([{ field: 'transactions[0].item_list.items', issue: expect.stringMatching(/add up/) }]);
  });

  it('returns the same payment for a repeated PayPal-Request-Id', async () => {
    const input = paymentInput();
    const first = await gateway.createPayment(input);
    const second = await gateway.createPayment(input);
    expect(second.paymentId).toBe(first.paymentId);
    expect(sim.control.getState().payments).toHaveLength(1);
  });

  it('executes an approved payment into a completed sale', async () => {
    const { paymentId, payerId } = await approvedPayment();
    const payment = await gateway.executePayment({ requestId: randomUUID(), paymentId, payerId });
    expect(payment).toMatchObject({
      paymentId,
      state: 'approved',
      payerId,
      payerEmail: 'buyer@example.com',
      sale: { state: 'completed', amount: 3000, currency: 'USD' },
    });
    expect(payment.sale!.id).toMatch(/^[A-Z0-9]{17}$/);
    expect(await gateway.getPayment(paymentId)).toMatchObject({ sale: { id: payment.sale!.id, state: 'completed' } });
  });

  it('reports a declined buyer as INSTRUMENT_DECLINED', async () => {
    const { paymentId } = await gateway.createPayment(paymentInput());
    const payerId = new URL(sim.control.approve(paymentId, 'decline').redirectUrl).searchParams.get('PayerID')!;
    const error = await providerError(gateway.executePayment({ requestId: randomUUID(), paymentId, payerId }));
    expect(error).toMatchObject({ providerErrorName: 'INSTRUMENT_DECLINED', httpStatus: 400, retryable: false });
  });

  it('answers a repeated execute with PAYMENT_ALREADY_DONE, unless it repeats the request id', async () => {
    const { paymentId, payerId } = await approvedPayment();
    const requestId = randomUUID();
    const first = await gateway.executePayment({ requestId, paymentId, payerId });
    const replayed = await gateway.executePayment({ requestId, paymentId, payerId });
    expect(replayed.sale!.id).toBe(first.sale!.id);

    const error = await providerError(gateway.executePayment({ requestId: randomUUID(), paymentId, payerId }));
    expect(error.providerErrorName).toBe('PAYMENT_ALREADY_DONE');
    expect(sim.control.getState().sales).toHaveLength(1);
  });

  it('reports an unknown payment as INVALID_RESOURCE_ID and refuses ids that are not PayPal ids', async () => {
    const unknown = await providerError(gateway.getPayment('PAY-DOESNOTEXIST'));
    expect(unknown).toMatchObject({ providerErrorName: 'INVALID_RESOURCE_ID', httpStatus: 404, retryable: false });

    const traversal = await providerError(gateway.getPayment('../sale/123'));
    expect(traversal).toMatchObject({ providerErrorName: 'INVALID_REQUEST', retryable: false });
  });

  it('leaves a sale pending under review until PayPal completes it', async () => {
    sim.control.setPendingSales(true);
    const { paymentId, payerId } = await approvedPayment();
    const executed = await gateway.executePayment({ requestId: randomUUID(), paymentId, payerId });
    expect(executed).toMatchObject({ state: 'approved', sale: { state: 'pending', reasonCode: 'PAYMENT_REVIEW' } });

    sim.control.completePendingSale(executed.sale!.id);
    const later = await gateway.getPayment(paymentId);
    expect(later.sale).toEqual({ id: executed.sale!.id, state: 'completed', amount: 3000, currency: 'USD' });
  });

  it('refunds partially, then the rest, and refuses to refund more', async () => {
    const { paymentId, payerId } = await approvedPayment();
    const sale = (await gateway.executePayment({ requestId: randomUUID(), paymentId, payerId })).sale!;

    const partial = await gateway.refundSale({ requestId: randomUUID(), saleId: sale.id, amount: 1000, currency: 'USD' });
    expect(partial).toMatchObject({ saleId: sale.id, state: 'completed', amount: 1000, currency: 'USD' });
    expect((await gateway.getPayment(paymentId)).sale!.state).toBe('partially_refunded');

    const tooMuch = await providerError(
      gateway.refundSale({ requestId: randomUUID(), saleId: sale.id, amount: 2001, currency: 'USD' }),
    );
    expect(tooMuch).toMatchObject({ providerErrorName: 'REFUND_EXCEEDED_TRANSACTION_AMOUNT', retryable: false });

    const rest = await gateway.refundSale({ requestId: randomUUID(), saleId: sale.id, currency: 'USD' });
    expect(rest.amount).toBe(2000);
    expect(rest.refundId).not.toBe(partial.refundId);
    expect((await gateway.getPayment(paymentId)).sale!.state).toBe('refunded');
  });

  it('turns a 5xx into a retryable error and the next call succeeds', async () => {
    await gateway.getPayment((await gateway.createPayment(paymentInput())).paymentId); // token cached
    sim.control.failNext({ count: 1, status: 500 });
    const input = paymentInput();
    const error = await providerError(gateway.createPayment(input));
    expect(error).toMatchObject({ providerErrorName: 'INTERNAL_SERVICE_ERROR', httpStatus: 500, retryable: true });

    const retried = await gateway.createPayment(input);
    expect(retried.paymentId).toMatch(/^PAY-/);
  });

  it('turns a dropped connection into a retryable network error', async () => {
    sim.control.failNext({ count: 1, mode: 'reset' });
    const error = await providerError(gateway.createPayment(paymentInput()));
    expect(error).toMatchObject({ providerErrorName: 'NETWORK_ERROR', retryable: true });
  });

  it('times out a slow PayPal retryably, and a retry with the same request id creates no second payment', async () => {
    const warmUp = await gateway.createPayment(paymentInput()); // token cached, so only the create is slow
    sim.control.setLatency(TIMEOUT_MS + 1_500);
    const input = paymentInput();
    const started = Date.now();
    const error = await providerError(gateway.createPayment(input));
    expect(error).toMatchObject({ providerErrorName: 'TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_000);

    // The abandoned request still lands at PayPal; the retry must get that payment back.
    await expect.poll(() => sim.control.getState().payments.length, { timeout: 5_000 }).toBe(2);
    sim.control.setLatency(0);
    const retried = await gateway.createPayment(input);
    expect(sim.control.getState().payments.map((p) => p.id)).toEqual([warmUp.paymentId, retried.paymentId]);
  });

  it('keeps credentials out of errors and logs', async () => {
    const logged: unknown[] = [];
    const record = (...args: unknown[]) => void logged.push(args);
    const logger = { info: record, warn: record, error: record };
    const wrongSecret = `wrong-${randomUUID()}`;
    const misconfigured = new PaypalRestGateway({
      mode: 'sandbox',
      clientId: `nobody-${randomUUID()}`,
      clientSecret: wrongSecret,
      apiBase: sim.baseUrl,
      logger,
    });
    const error = await providerError(misconfigured.getPayment('PAY-ANY'));
    expect(error).toMatchObject({ providerErrorName: 'invalid_client', httpStatus: 401, retryable: false });

    const refused = new PaypalRestGateway({
      mode: 'sandbox',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiBase: 'http://127.0.0.1:9',
      logger,
    });
    const network = await providerError(refused.createPayment(paymentInput()));
    expect(network).toMatchObject({ providerErrorName: 'NETWORK_ERROR', retryable: true });

    expect(logged).toHaveLength(2);
    const secrets = [wrongSecret, CLIENT_SECRET, Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')];
    const surfaces = [error, network].map((e) => `${e.message} ${e.stack} ${JSON.stringify(e)}`);
    for (const surface of [...surfaces, JSON.stringify(logged)]) {
      for (const secret of secrets) expect(surface).not.toContain(secret);
    }
  });
});

describe('PaypalRestGateway.verifyWebhook (paypal-rest-sdk notification.webhookEvent.verify)', () => {
  /** A held (never posted) delivery of an event to a webhook of `simulator`: what a listener would have received. */
  function heldDelivery(simulator: PaypalSimulator, eventId: string) {
    const { id: webhookId } = simulator.control.registerWebhook('http://127.0.0.1:9/paypal/webhook');
    simulator.control.setWebhookMode({ paused: true });
    const sent = simulator.control.sendWebhook({ id: eventId, event_type: 'PAYMENT.SALE.COMPLETED', resource: { id: 'SALE00000000000001' } });
    const entry = sent.find((e) => e.webhookId === webhookId);
    return { transmission: entry!.transmission, rawBody: entry!.body, webhookId };
  }

  it("reads PayPal's verdict itself: SUCCESS only for the delivery as sent; 5xx is retryable; the SDK's process-wide defaults are left alone", async () => {
    const delivery = heldDelivery(sim, 'WH-GATEWAY-1');
    const configure = createRequire(import.meta.url)('paypal-rest-sdk/lib/configure') as { default_options: unknown };
    const defaults = configure.default_options;
    const before = structuredClone(defaults);

    expect(await gateway.verifyWebhook(delivery)).toBe('SUCCESS');
    expect(await gateway.verifyWebhook({ ...delivery, rawBody: delivery.rawBody.replace('SALE00000000000001', 'SALE00000000000002') })).toBe('FAILURE');
    expect(await gateway.verifyWebhook({ ...delivery, webhookId: 'ANOTHERWEBHOOK0000000001' })).toBe('FAILURE');
    expect(await gateway.verifyWebhook({ ...delivery, transmission: { ...delivery.transmission, transmissionSig: 'Zm9yZ2Vk' } })).toBe('FAILURE');
    expect(configure.default_options).toBe(defaults);
    expect(configure.default_options).toEqual(before);

    sim.control.failNext({ count: 1, status: 503, path: '/v1/notifications/' });
    const error = await providerError(gateway.verifyWebhook(delivery));
    expect(error).toMatchObject({ httpStatus: 503, retryable: true });
  });

  it('two gateways on two PayPal accounts verifying at once each ask their own', async () => {
    const otherId = `gateway-test-other-${randomUUID()}`;
    const otherSecret = `secret-${randomUUID()}`;
    const otherSim = await startPaypalSimulator({ clientId: otherId, clientSecret: otherSecret, receiverEmail: 'other@example.com' });
    try {
      const otherGateway = new PaypalRestGateway({ mode: 'sandbox', clientId: otherId, clientSecret: otherSecret, apiBase: otherSim.baseUrl, timeoutMs: 2_000 });
      const mine = heldDelivery(sim, 'WH-GATEWAY-MINE');
      const theirs = heldDelivery(otherSim, 'WH-GATEWAY-THEIRS');
      // Interleaved: each call's token fetch and request happen while the other's are in flight.
      const verdicts = await Promise.all([
        gateway.verifyWebhook(mine),
        otherGateway.verifyWebhook(theirs),
        gateway.verifyWebhook(theirs),
        otherGateway.verifyWebhook(mine),
      ]);
      expect(verdicts).toEqual(['SUCCESS', 'SUCCESS', 'FAILURE', 'FAILURE']);
    } finally {
      await otherSim.close();
    }
  });
});
