import { describe, expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { startServer } from '@orders/server/server.ts';
import { createTestDatabase } from '@orders/server/testing/test-database.ts';
import { SERVICE_KEY, startPaypalTestEnv } from '../support/paypal-server.ts';
import { chromiumAvailable } from '../support/browser.ts';
import { useChromiumSuite } from './support.ts';

/* `/demo`, the first minute of a new user: the shop, a cart, PayPal (the simulator), the order's page. */

if (!chromiumAvailable) console.log('demo e2e skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)');

describe.skipIf(!chromiumAvailable)('the demo shop in Chromium', () => {
  const suite = useChromiumSuite(() => startPaypalTestEnv());

  it('product page → cart → Pay with PayPal → Pay Now → the order page turns paid without a reload', async () => {
    const page = await suite.newTab({ viewport: { width: 1100, height: 720 } });
    const context = page.context();
    const { env } = suite;
    await page.goto(`${env.server.url}/demo`);
    await page.locator('[data-sku=DEMO-MUG] button').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('$12.50');
    await page.locator('[data-sku=DEMO-MUG] button').click();
    await page.locator('[data-sku=DEMO-TEE] button').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('$49.00');
    await suite.shot(page, 'demo-shop');

    // The sale stays pending at PayPal until we complete it: the order page must then turn paid by itself.
    env.sim.control.setPendingSales(true);
    try {
      await page.getByRole('button', { name: 'Pay with PayPal' }).click();
      await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr\?cmd=_express-checkout/);
      await expect(page.getByText('$49.00').first().isVisible()).resolves.toBe(true);
      await page.getByRole('button', { name: 'Pay Now' }).click();
      await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}/);
      await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('pending');
      await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));

      const sale = env.sim.control.getState().sales.at(-1)!;
      expect(sale).toMatchObject({ state: 'pending', amount: 4900 });
      env.sim.control.completePendingSale(sale.id);
    } finally {
      env.sim.control.setPendingSales(false);
    }
    await expect.poll(() => page.getByTestId('order-status').textContent(), { timeout: 15_000 }).toBe('paid');
    await expect(page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    await expect(page.getByTestId('order-title').textContent()).resolves.toBe('Thank you: your order is paid');
    await suite.shot(page, 'demo-paid');

    // The same order through the API, as the browser's anonymous customer (its cookie) owns it.
    const orderId = new URL(page.url()).pathname.split('/').at(-1)!;
    const customerId = (await context.cookies()).find((c) => c.name === 'orders_demo_customer')!.value;
    const order = await env.client.orders.get.query({ customer: { type: 'anonymous', id: customerId }, orderId });
    expect(order).toMatchObject({ status: 'paid', total: 4900, currency: 'USD' });
    // The buyer sees the number people use, the one staff find it by.
    await expect(page.getByTestId('order-number').textContent()).resolves.toBe(`#${order.number}`);
    await context.close();
  });

  it('two tabs of one browser: the tab still showing the checked-out cart pays that same order, the other tab\'s link is refused with a way back; one sale, a quiet console', async () => {
    const a = await suite.newTab({ viewport: { width: 1100, height: 720 } });
    const context = a.context();
    const problems: string[] = [];
    const { env } = suite;
    const salesBefore = env.sim.control.getState().sales.length;
    await a.goto(`${env.server.url}/demo`);
    await a.locator('[data-sku=DEMO-NOTEBOOK] button').click();
    await expect.poll(() => a.getByTestId('cart-total').textContent()).toBe('$9.00');
    // The second tab shares the first's cookies (one browser), and shows the same cart.
    const b = await context.newPage();
    for (const [name, page] of [['A', a], ['B', b]] as const) {
      page.on('console', (message) => message.type() === 'error' && problems.push(`${name}: ${message.text()}`));
      page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
    }
    await b.goto(`${env.server.url}/demo`);
    await expect.poll(() => b.getByTestId('cart-total').textContent()).toBe('$9.00');

    // A checks the cart out and goes to PayPal; B, still showing the cart, presses Pay as well.
    await a.getByRole('button', { name: 'Pay with PayPal' }).click();
    await a.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await b.getByRole('button', { name: 'Pay with PayPal' }).click();
    await b.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    // The same order, not a second one: both PayPal pages name it.
    const orderOf = async (page: typeof a) => /Order ([0-9a-f-]{36})/.exec((await page.locator('.merchant').textContent()) ?? '')?.[1];
    const orderId = await orderOf(a);
    expect(orderId).toBeDefined();
    await expect(orderOf(b)).resolves.toBe(orderId);

    await b.getByRole('button', { name: 'Pay Now' }).click();
    await b.waitForURL(new RegExp(`/demo/orders/${orderId}`));
    await expect.poll(() => b.getByTestId('order-status').textContent()).toBe('paid');
    // A's link was replaced by B's: refused, nothing charged, and one click back to the order's page.
    await a.getByRole('button', { name: 'Pay Now' }).click();
    await a.waitForURL(/\/paypal\/return\?/);
    await expect(a.getByTestId('payment-title').textContent()).resolves.toBe('This order is already paid');
    await a.getByTestId('payment-onward').click();
    await a.waitForURL(new RegExp(`/demo/orders/${orderId}`));
    await expect.poll(() => a.getByTestId('order-status').textContent()).toBe('paid');

    const sales = env.sim.control.getState().sales.slice(salesBefore);
    expect(sales).toHaveLength(1);
    expect(sales[0]).toMatchObject({ amount: 900, state: 'completed' });
    // The cart is gone in both tabs; a new visit starts empty.
    await a.goto(`${env.server.url}/demo`);
    await expect.poll(() => a.getByTestId('cart-total').textContent()).toBe('—');
    // No page of the flow (shop, PayPal's, ours) logged an error: no 404 for a favicon either.
    expect(problems).toEqual([]);
    await context.close();
  });

  it('Back from PayPal without paying: the shop shows the order waiting for payment (not an empty cart) and pays it, once', async () => {
    const page = await suite.newTab({ viewport: { width: 1100, height: 720 } });
    const { env } = suite;
    const salesBefore = env.sim.control.getState().sales.length;
    await page.goto(`${env.server.url}/demo`);
    await page.locator('[data-sku=DEMO-TEE] button').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('$24.00');
    await page.getByRole('button', { name: 'Pay with PayPal' }).click();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.goBack();
    await page.waitForURL(/\/demo$/);
    const waiting = page.getByTestId('waiting-order');
    await waiting.waitFor();
    const number = /Order #(\d+)/.exec((await waiting.textContent()) ?? '')?.[1];
    expect(await waiting.textContent()).toBe(`Order #${number} is waiting for payment.`);
    await expect(page.getByTestId('cart-total').textContent()).resolves.toBe('$24.00');
    await suite.shot(page, 'demo-waiting-order');
    await page.getByRole('button', { name: `Pay for order #${number}` }).click();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}/);
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('paid');
    await expect(page.getByTestId('order-number').textContent()).resolves.toBe(`#${number}`);
    expect(env.sim.control.getState().sales.slice(salesBefore)).toMatchObject([{ amount: 2400, state: 'completed' }]);
    // Paid: the shop no longer offers it.
    await page.goto(`${env.server.url}/demo`);
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('—');
    await expect(page.getByTestId('waiting-order').count()).resolves.toBe(0);
    await page.context().close();
  });

  /** A mug in the cart, Pay with PayPal, then "Cancel and return to merchant": the order page, as the buyer lands on it. */
  async function cancelledAtPaypal() {
    const page = await suite.newTab({ viewport: { width: 1100, height: 720 } });
    const salesBefore = suite.env.sim.control.getState().sales.length;
    await page.goto(`${suite.env.server.url}/demo`);
    await page.locator('[data-sku=DEMO-MUG] button').click();
    await expect.poll(() => page.getByTestId('cart-total').textContent()).toBe('$12.50');
    await page.getByRole('button', { name: 'Pay with PayPal' }).click();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.getByRole('button', { name: 'Cancel and return to merchant' }).click();
    await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}\?/);
    await expect.poll(() => page.getByTestId('order-title').textContent()).toBe('You cancelled the payment');
    return { page, salesBefore };
  }

  it('"Cancel and return to merchant" at PayPal: the order page says so and that nothing was charged, and pays the order from there, once', async () => {
    const { env } = suite;
    const { page, salesBefore } = await cancelledAtPaypal();
    await expect(page.getByTestId('order-note').textContent()).resolves.toBe('Nothing was charged. Your order is kept: pay for it when you are ready.');
    await expect(page.getByTestId('order-status').textContent()).resolves.toBe('pending');
    expect(env.sim.control.getState().sales.length).toBe(salesBefore);
    await suite.shot(page, 'demo-cancelled');
    await page.getByTestId('order-pay').click();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}/);
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('paid');
    await expect(page.getByTestId('order-title').textContent()).resolves.toBe('Thank you: your order is paid');
    await expect(page.getByTestId('order-retry').isHidden()).resolves.toBe(true);
    expect(env.sim.control.getState().sales.slice(salesBefore)).toMatchObject([{ amount: 1250, state: 'completed' }]);
    await page.context().close();
  });

  it('Cancel at PayPal, Back, then Pay Now on the same page: told they cancelled it, nothing charged, and the shop\'s order page pays it, once', async () => {
    const { env } = suite;
    const { page, salesBefore } = await cancelledAtPaypal();
    // Back to PayPal's page, and this time Pay Now: the link's payment was cancelled, so nothing is executed.
    await page.goBack();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/paypal\/return/);
    await expect(page.getByTestId('payment-title').textContent()).resolves.toBe('You cancelled this payment');
    await expect(page.getByTestId('payment-detail').textContent()).resolves.toMatch(/^Nothing was charged through this link: you cancelled it at PayPal\. Order #\d+ is pending\.$/);
    await suite.shot(page, 'demo-cancelled-then-pay-now');
    expect(env.sim.control.getState().sales.length).toBe(salesBefore);
    // One click back to the shop's page of the order, which offers to pay it (it said "Waiting…", no button).
    await page.getByTestId('payment-onward').click();
    await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}/);
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('pending');
    await expect(page.getByTestId('order-retry').isVisible()).resolves.toBe(true);
    await page.getByTestId('order-pay').click();
    await page.waitForURL(/\/paypal-sim\/cgi-bin\/webscr/);
    await page.getByRole('button', { name: 'Pay Now' }).click();
    await page.waitForURL(/\/demo\/orders\/[0-9a-f-]{36}/);
    await expect.poll(() => page.getByTestId('order-status').textContent()).toBe('paid');
    expect(env.sim.control.getState().sales.slice(salesBefore)).toMatchObject([{ amount: 1250, state: 'completed' }]);
    await page.context().close();
  });
});

describe('the demo order page over HTTP', () => {
  it('its order, read by the browser that placed it; any other browser gets 404 (the page then stops asking); the page shows no uuid', async () => {
    const env = await startPaypalTestEnv();
    try {
      const jar: string[] = [];
      const request = async (path: string, init: RequestInit = {}, cookies = true) => {
        const response = await fetch(`${env.server.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(cookies && jar.length ? { cookie: jar.join('; ') } : {}) } });
        for (const cookie of response.headers.getSetCookie()) {
          const pair = cookie.split(';')[0]!;
          const name = pair.split('=')[0]!;
          jar.splice(0, jar.length, ...jar.filter((c) => !c.startsWith(`${name}=`)), pair);
        }
        return response;
      };
      await request('/demo');
      const post = (path: string, body: unknown) => request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post('/demo/api/cart/add', { sku: 'DEMO-MUG' })).status).toBe(200);
      const { orderId } = (await (await post('/demo/api/checkout', {})).json()) as { orderId: string };

      const mine = await request(`/demo/api/orders/${orderId}`);
      expect(mine.status).toBe(200);
      const order = (await mine.json()) as { number: number };
      expect(order.number).toBeGreaterThan(1000);
      // Another browser (no cookie of the shop): 404, which the page's script takes as final.
      expect((await request(`/demo/api/orders/${orderId}`, {}, false)).status).toBe(404);

      const html = await (await request(`/demo/orders/${orderId}`)).text();
      expect(html.split(orderId)).toHaveLength(2); // only in data-order-id, for the script
      expect(html).toContain(`data-order-id="${orderId}"`);
      const script = await (await request('/demo/order.js')).text();
      expect(script).toContain("e.status === 404");
    } finally {
      await env.close();
    }
  });

  it("another application's cookie that is not percent-encoding, and a body that is not JSON, are no server errors", async () => {
    const env = await startPaypalTestEnv();
    try {
      // promo=50% is what any other app on the same host may set: the shop and its API still answer.
      for (const path of ['/demo', '/demo/api/cart']) {
        const response = await fetch(`${env.server.url}${path}`, { headers: { cookie: 'promo=50%; theme=dark' } });
        expect(response.status, path).toBe(200);
      }
      const broken = await fetch(`${env.server.url}/demo/api/cart/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku": ' });
      expect(broken.status).toBe(400);
    } finally {
      await env.close();
    }
  });
});

describe('the demo shop outside simulator mode', () => {
  it('answers 404 when PAYPAL_MODE is sandbox', async () => {
    const db = await createTestDatabase();
    const server = await startServer(
      loadConfig({
        DATABASE_URL: db.url,
        PORT: '0',
        LOG_LEVEL: 'silent',
        PAYPAL_MODE: 'sandbox',
        PAYPAL_CLIENT_ID: 'sandbox-client-id',
        PAYPAL_CLIENT_SECRET: 'sandbox-client-secret',
        PAYPAL_RECEIVER_EMAIL: 'merchant@sandbox.example',
        BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
      }),
    );
    try {
      for (const path of ['/demo', '/demo/shop.js', '/demo/api/cart', '/paypal-sim/cgi-bin/webscr?cmd=_express-checkout&token=EC-X']) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
      }
      // The API itself is there: only the demo and the simulator are not.
      const cart = await createOrdersClient({ url: server.trpcUrl, apiKey: SERVICE_KEY }).carts.create.mutate({ customer: { type: 'anonymous', id: 'someone' } });
      expect(cart.id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await server.close();
      await db.drop();
    }
  });
});
