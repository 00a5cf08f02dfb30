import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createOrdersClient, CUSTOMER_SCOPES, type Customer, type OrdersClient } from '@orders/shared';
import type { MikroORM } from '@mikro-orm/postgresql';
import { affected, firstRow, sql } from '../db/sql.js';
import { isUuid } from '../ids.js';
import type { Logger } from '../logger.js';
import { hashSecret, newSecret } from '../modules/staff/credentials.js';
import type { Services } from '../services.js';
import { ORDER_SCRIPT, renderOrderPage, renderShopPage, SHOP_SCRIPT, type DemoProduct } from './demo-pages.js';

/** What the demo shop sells; created in the catalog when missing. */
export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  { sku: 'DEMO-MUG', name: 'Enamel mug', description: 'Camp mug, 350 ml, speckled blue.', unitPrice: 1250, currency: 'USD' },
  { sku: 'DEMO-TEE', name: 'Logo T-shirt', description: 'Organic cotton, one size fits most.', unitPrice: 2400, currency: 'USD' },
  { sku: 'DEMO-NOTEBOOK', name: 'Dot-grid notebook', description: 'A5, 160 pages, lies flat.', unitPrice: 900, currency: 'USD' },
];
const DEMO_STOCK = 1_000;
const DEMO_KEY_NAME = 'demo shop';
const CUSTOMER_COOKIE = 'orders_demo_customer';
const CART_COOKIE = 'orders_demo_cart';
/** The order the last checkout made of the cart: another tab still showing that cart pays or shows it. */
const ORDER_COOKIE = 'orders_demo_order';

export interface DemoShopOptions {
  orm: MikroORM;
  services: Services;
  logger: Logger;
  /** Where this server reaches its own tRPC endpoint, and where buyers' browsers reach it; known once listening. */
  urls: () => { trpcUrl: string; publicBaseUrl: string };
}

/**
 * The demo key: a service key with the customer scopes only (no `catalog:write`, no `payments:settle`),
 * the key a storefront would hold. Created once (audited); its secret is new in each process (only its
 * hash is stored), and a key staff disabled stays off — then so does the shop.
 */
async function demoApiKey(orm: MikroORM, services: Services): Promise<string | undefined> {
  const em = orm.em.fork();
  const existing = await firstRow(em, sql<{ id: string; disabled: boolean }>`select id, disabled from api_key where name = ${DEMO_KEY_NAME} order by created_at limit 1`);
  if (!existing) return (await services.staff.createApiKey(DEMO_KEY_NAME, CUSTOMER_SCOPES)).key;
  if (existing.disabled) return undefined;
  const key = newSecret('ok');
  await affected(em, sql`update api_key set key_hash = ${hashSecret(key)}, prefix = ${key.slice(0, 8)}, updated_at = now() where id = ${existing.id}`);
  return key;
}

/**
 * `/demo` (simulator mode only): a small shop for a first purchase — the products, a cart, "Pay with
 * PayPal" through the simulator, then the order's page, which follows its status without a reload.
 * Built on the public client (`createOrdersClient`) with the demo key, held here, never by the page:
 * the browser only knows its own anonymous customer id (a cookie). Products and key are prepared on
 * the first visit, so a server nobody opens the shop on has neither.
 */
export async function registerDemoShop(app: FastifyInstance, options: DemoShopOptions): Promise<void> {
  let ready: Promise<OrdersClient | undefined> | undefined;
  const client = () =>
    (ready ??= (async () => {
      for (const product of DEMO_PRODUCTS) {
        const exists = await firstRow(options.orm.em.fork(), sql<{ id: string }>`select id from product where sku = ${product.sku}`);
        if (!exists) await options.services.catalog.upsertProduct({ sku: product.sku, name: product.name, unitPrice: product.unitPrice, currency: product.currency, stock: DEMO_STOCK });
      }
      const key = await demoApiKey(options.orm, options.services);
      if (key === undefined) {
        options.logger.warn('the demo shop is off: staff disabled its API key');
        return undefined;
      }
      return createOrdersClient({ url: options.urls().trpcUrl, apiKey: key, batch: false });
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));

  const html = (reply: FastifyReply, body: string) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'")
      .send(body);
  const script = (reply: FastifyReply, body: string) => reply.header('content-type', 'text/javascript; charset=utf-8').send(body);

  /** The browser's anonymous customer, from its cookie (set on the first visit). */
  const customerOf = (request: FastifyRequest, reply: FastifyReply): Customer => {
    const cookies = parseCookies(request.headers.cookie);
    let id = cookies[CUSTOMER_COOKIE];
    if (!id || !isUuid(id)) {
      id = randomUUID();
      setCookie(reply, CUSTOMER_COOKIE, id);
    }
    return { type: 'anonymous', id };
  };

  /** One scope: its errors answer JSON the page shows, a refusal with its own message. */
  await app.register(async (demo) => {
    // The API's answers are this browser's cart and orders as they are now: never from a cache (after
    // the Back button, Chromium answered the page's cart request with the one it had before checkout).
    demo.addHook('onSend', async (request, reply) => {
      if (request.url.startsWith('/demo/api/')) reply.header('cache-control', 'no-store');
    });
    demo.setErrorHandler((error, _request, reply) => {
      // A refusal from Orders (the client's TRPCClientError) is shown to the buyer as it is.
      const status = refusalStatus(error);
      if (status !== undefined) return reply.code(status).send({ error: (error as Error).message });
      // Fastify's own refusals of the request (a body that is not JSON, too large, an unknown content type).
      const code = (error as { statusCode?: unknown }).statusCode;
      if (typeof code === 'number' && code >= 400 && code < 500) return reply.code(code).send({ error: (error as Error).message });
      options.logger.error({ err: error }, 'demo shop request failed');
      return reply.code(500).send({ error: 'Something went wrong; try again.' });
    });

    demo.get('/demo', async (request, reply) => {
      customerOf(request, reply);
      return html(reply, renderShopPage(DEMO_PRODUCTS));
    });
    demo.get('/demo/shop.js', async (_request, reply) => script(reply, SHOP_SCRIPT));
    demo.get('/demo/order.js', async (_request, reply) => script(reply, ORDER_SCRIPT));
    demo.get<{ Params: { orderId: string } }>('/demo/orders/:orderId', async (request, reply) => {
      if (!isUuid(request.params.orderId)) return reply.code(404).send({ error: 'no such order' });
      return html(reply, renderOrderPage(request.params.orderId));
    });

    const orders = async (reply: FastifyReply) => {
      const found = await client();
      if (!found) {
        reply.code(503).send({ error: 'The demo shop is off: staff disabled its API key.' });
        return undefined;
      }
      return found;
    };

    /**
     * A PayPal payment for the order, or, when Orders refuses one because the order is no longer
     * pending (another tab paid or cancelled it: 409), the order's page, which shows how it stands.
     * PayPal's "Cancel and return" comes back to the same page, told so by `payment=cancelled`.
     */
    const payOrder = async (api: OrdersClient, customer: Customer, orderId: string) => {
      const orderUrl = `${options.urls().publicBaseUrl}/demo/orders/${orderId}`;
      const attempt = await api.payments.attemptToPay
        .mutate({ customer, orderId, returnUrl: orderUrl, cancelUrl: `${orderUrl}?payment=cancelled` })
        .catch((error: unknown) => {
          if (refusalStatus(error) === 409) return undefined;
          throw error;
        });
      return attempt ? { orderId, approvalUrl: attempt.approvalUrl } : { orderId, orderUrl };
    };

    const cartView = async (api: OrdersClient, customer: Customer, cartId: string | undefined) => {
      if (!cartId || !isUuid(cartId)) return { items: [], total: 0, currency: 'USD' };
      const cart = await api.carts.get.query({ customer, cartId });
      return {
        items: cart.lines.map((line) => ({ name: line.name, quantity: line.quantity, unitPrice: line.unitPrice })),
        total: cart.subtotal,
        currency: cart.currency ?? 'USD',
      };
    };

    demo.get('/demo/api/cart', async (request, reply) => {
      const api = await orders(reply);
      if (!api) return reply;
      const customer = customerOf(request, reply);
      const cookies = parseCookies(request.headers.cookie);
      const cart = await cartView(api, customer, cookies[CART_COOKIE]).catch(() => ({ items: [], total: 0, currency: 'USD' }));
      // Back from PayPal without paying (the browser's Back button), the cart is an order now: the
      // shop says so and offers to pay it (checkout pays the last order when there is no cart).
      const lastOrder = cookies[ORDER_COOKIE];
      if (cart.items.length > 0 || !lastOrder || !isUuid(lastOrder)) return cart;
      const order = await api.orders.get.query({ customer, orderId: lastOrder }).catch(() => undefined);
      return order?.status === 'pending'
        ? { ...cart, waiting: { number: order.number, total: order.total, currency: order.currency, url: `/demo/orders/${order.id}` } }
        : cart;
    });

    demo.post<{ Body: { sku?: unknown } }>('/demo/api/cart/add', async (request, reply) => {
      const api = await orders(reply);
      if (!api) return reply;
      const sku = DEMO_PRODUCTS.find((p) => p.sku === request.body?.sku)?.sku;
      if (!sku) return reply.code(400).send({ error: 'No such product.' });
      const customer = customerOf(request, reply);
      let cartId = parseCookies(request.headers.cookie)[CART_COOKIE];
      let cart = cartId && isUuid(cartId) ? await api.carts.get.query({ customer, cartId }).catch(() => undefined) : undefined;
      if (!cart || cart.checkedOut) {
        cart = await api.carts.create.mutate({ customer });
        cartId = cart.id;
        setCookie(reply, CART_COOKIE, cart.id);
      }
      const quantity = (cart.lines.find((line) => line.sku === sku)?.quantity ?? 0) + 1;
      await api.carts.setItem.mutate({ customer, cartId: cart.id, sku, quantity });
      return cartView(api, customer, cart.id);
    });

    demo.post('/demo/api/checkout', async (request, reply) => {
      const api = await orders(reply);
      if (!api) return reply;
      const customer = customerOf(request, reply);
      const cookies = parseCookies(request.headers.cookie);
      const cartId = cookies[CART_COOKIE];
      let orderId: string;
      if (cartId && isUuid(cartId)) {
        orderId = (await api.orders.create.mutate({ customer, cartId })).id;
        // The cart is frozen into the order: the next purchase starts a new one.
        setCookie(reply, CART_COOKIE, '', 0);
        setCookie(reply, ORDER_COOKIE, orderId, 24 * 3600);
      } else {
        // Another tab of this browser checked the cart out while this one still showed it: this
        // tab pays that order (its new link replaces the other tab's), or is shown it once it is
        // paid or cancelled. Orders decides which (attemptToPay refuses with 409).
        const last = cookies[ORDER_COOKIE];
        if (!last || !isUuid(last)) return reply.code(400).send({ error: 'Your cart is empty.' });
        orderId = last;
      }
      return payOrder(api, customer, orderId);
    });

    // The order page's "Pay with PayPal", after the buyer cancelled at PayPal.
    demo.post<{ Params: { orderId: string } }>('/demo/api/orders/:orderId/pay', async (request, reply) => {
      const api = await orders(reply);
      if (!api) return reply;
      if (!isUuid(request.params.orderId)) return reply.code(404).send({ error: 'No such order.' });
      return payOrder(api, customerOf(request, reply), request.params.orderId);
    });

    demo.get<{ Params: { orderId: string } }>('/demo/api/orders/:orderId', async (request, reply) => {
      const api = await orders(reply);
      if (!api) return reply;
      if (!isUuid(request.params.orderId)) return reply.code(404).send({ error: 'No such order.' });
      const order = await api.orders.get.query({ customer: customerOf(request, reply), orderId: request.params.orderId });
      return { id: order.id, number: order.number, status: order.status, paymentStatus: order.paymentStatus, total: order.total, currency: order.currency };
    });
  });
}

/** The HTTP status of a refusal from Orders (the client's TRPCClientError; 502 when it has none), or undefined for any other error. */
function refusalStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== 'TRPCClientError') return undefined;
  return (error as Error & { data?: { httpStatus?: number } }).data?.httpStatus ?? 502;
}

/**
 * The request's cookies by name. Other applications on the same host set cookies too, and theirs need
 * not be percent-encoding (`promo=50%`): such a value is kept as sent, never an error (decoding it
 * threw, and the whole shop answered 500 to that browser).
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const raw = part.slice(eq + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // Not ours: kept as sent.
    }
    cookies[part.slice(0, eq).trim()] = value;
  }
  return cookies;
}

function setCookie(reply: FastifyReply, name: string, value: string, maxAgeSeconds = 30 * 24 * 3600): void {
  const cookie = `${name}=${encodeURIComponent(value)}; Path=/demo; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax`;
  const existing = reply.getHeader('set-cookie');
  reply.header('set-cookie', existing === undefined ? [cookie] : [...(Array.isArray(existing) ? existing : [String(existing)]), cookie]);
}
