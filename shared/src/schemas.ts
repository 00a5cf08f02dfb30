import { z } from 'zod';
import { SUPPORTED_CURRENCIES, maxMinorAmount, type Currency } from './money.js';
import { ATTEMPT_STATUSES, CUSTOMER_TYPES, ORDER_STATUSES, STAFF_ROLES, API_KEY_SCOPES } from './status.js';

/** Every id the API hands out is a UUID (v7); anything else cannot name one of our rows. */
export const id = z.uuid({ error: 'must be a UUID' });

/** PostgreSQL text cannot hold NUL; refusing it here keeps such input a 400, never a 500. */
/** PostgreSQL text cannot hold NUL: refused as bad input, never sent to the database. */
export const noNul = (value: string) => !value.includes('\u0000');
/** A character that shows: not whitespace, not a format character (zero-width space, joiner, direction mark), not a control. */
const VISIBLE = /[^\s\p{Cf}\p{Cc}]/u;

/** Letters, marks and digits of any script, and the ASCII characters addresses commonly carry. */
const LOCAL_PART = String.raw`[\p{L}\p{M}\p{N}_'+\-]+(?:\.[\p{L}\p{M}\p{N}_'+\-]+)*`;
// Each hyphen run is followed by a letter or digit: one way to read a label, so a long one that
// fails fails at once (the `[…-]*[…]` form backtracked ~3 ms on 250 characters).
const DOMAIN_LABEL = String.raw`[\p{L}\p{M}\p{N}](?:-*[\p{L}\p{M}\p{N}])*`;
/**
 * An email address, internationalised ones included (RFC 6531: `zoë@exämple.com`, `用户@例子.广告`):
 * a local part of letters, digits and `_ ' + - .` (no dot first, last or twice), `@`, a domain of
 * letter-or-digit labels with inner hyphens, and a top-level domain of two letters or more (or
 * punycode, `xn--…`). zod's own email pattern is ASCII only; its unicode one also takes `x@y` and
 * `<a>@b.com`.
 */
export const EMAIL_ADDRESS = new RegExp(String.raw`^${LOCAL_PART}@(?:${DOMAIN_LABEL}\.)+(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9\-]+)$`, 'iu');

/** An email address (EMAIL_ADDRESS), at most 254 characters. */
export const emailAddress = z.string().max(254, { abort: true }).regex(EMAIL_ADDRESS, 'must be an email address');

export const boundedString = (max: number) => z.string().trim().min(1).max(max).refine(noNul, 'must not contain NUL characters');

export const currency = z.enum(SUPPORTED_CURRENCIES, { error: 'must be a supported ISO 4217 currency' });

/** Integer minor units; the upper bound keeps every amount representable for PayPal and in int8. */
export const minorAmount = z.number().int().nonnegative().max(maxMinorAmount('USD'));

export const customer = z.strictObject({
  type: z.enum(CUSTOMER_TYPES),
  id: boundedString(200),
});
export type Customer = z.infer<typeof customer>;

export const sku = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

export const upsertProductInput = z
  .strictObject({
    sku,
    name: boundedString(200),
    unitPrice: minorAmount,
    currency,
    stock: z.number().int().nonnegative().max(1_000_000_000),
  })
  .refine((p) => p.unitPrice <= maxMinorAmount(p.currency as Currency), {
    path: ['unitPrice'],
    message: 'too large for this currency',
  });

export const createCartInput = z.strictObject({ customer });
export const cartRefInput = z.strictObject({ customer, cartId: id });
export const setCartItemInput = z.strictObject({
  customer,
  cartId: id,
  sku,
  quantity: z.number().int().nonnegative().max(10_000),
});

/** One line of a one-call checkout: a catalog sku and how many (prices are the catalog's, never the caller's). */
export const orderItem = z.strictObject({ sku, quantity: z.number().int().min(1).max(10_000) });
export type OrderItem = z.infer<typeof orderItem>;

/**
 * `orders.create`: from the customer's cart (`cartId`), or in one call from `items` for services that
 * keep their own cart (a cart is created and frozen inside, exactly as `carts.*` would have built it).
 */
export const createOrderInput = z
  .strictObject({
    customer,
    /** For staff to recognise the customer (shown in the back office, returned with the order); never used to authenticate. */
    customerEmail: emailAddress.optional(),
    /** The customer's display name, trimmed; at most 200 characters, something staff can see (not only zero-width characters). */
    customerName: boundedString(200).refine((name) => VISIBLE.test(name), 'must contain a visible character').optional(),
    cartId: id.optional(),
    items: z
      .array(orderItem)
      .min(1, 'at least one item')
      .max(100, 'at most 100 lines')
      .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku once')
      .optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.cartId === undefined) === (input.items === undefined)) {
      ctx.addIssue({ code: 'custom', path: [input.cartId === undefined ? 'cartId' : 'items'], message: 'give either cartId or items' });
    }
  });
export type CreateOrderInput = z.infer<typeof createOrderInput>;
export const orderRefInput = z.strictObject({ customer, orderId: id });
export const listOrdersInput = z.strictObject({
  customer,
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(1).max(100).default(20),
  /**
   * Keyset cursor from a previous page's `nextCursor`: pages stay free of duplicates and gaps
   * while new orders arrive. Without it, `page` is an offset, as `orders.list` paged before cursors existed.
   */
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this server issued').optional(),
});
export const getToPayInput = z.strictObject({ orderId: id });
export const processOrderToPaidInput = z.strictObject({ orderId: id });

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);
export const attemptToPayInput = z.strictObject({
  customer,
  orderId: id,
  returnUrl: httpUrl.optional(),
  cancelUrl: httpUrl.optional(),
});
export const updateAttemptInput = z.strictObject({
  externalId: z.string().trim().min(1).max(128).refine(noNul, 'must not contain NUL characters'),
  status: z.enum(ATTEMPT_STATUSES),
  amount: minorAmount,
  currency,
});

export const loginInput = z.strictObject({
  email: emailAddress,
  password: z.string().min(1).max(1000).refine(noNul, 'must not contain NUL characters'),
});

export const orderStatus = z.enum(ORDER_STATUSES);
export const staffRole = z.enum(STAFF_ROLES);
export const apiKeyScope = z.enum(API_KEY_SCOPES);
