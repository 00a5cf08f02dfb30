import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_SCOPES, type ApiKeyScope, type Customer } from '@orders/shared';
import { DomainError } from '@orders/server/errors.ts';
import type { Principal } from '@orders/server/modules/staff/staff.service.ts';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';

/*
 * Every row is one bad call through createCaller. Each must fail with exactly the expected tRPC
 * code, name the offending field when it is BAD_REQUEST, and leave every table exactly as it was.
 */

type Api = ReturnType<TestHarness['caller']>;
type Code = 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHORIZED' | 'FORBIDDEN';

interface Fixtures {
  who: Customer;
  other: Customer;
  /** `who`'s open cart holding one BI-USD. */
  cartId: string;
  emptyCartId: string;
  /** `other`'s open cart holding one BI-USD. */
  otherCartId: string;
  /** `who`'s cart that became `orderId`. */
  checkedOutCartId: string;
  orderId: string;
  paidOrderId: string;
  otherOrderId: string;
}

interface Row {
  name: string;
  code: Code;
  /** For BAD_REQUEST: the dotted path of the field the error must name. */
  field?: string;
  /** Who calls: all service scopes by default. */
  as?: 'nobody' | 'staff' | ApiKeyScope[];
  call(api: Api, f: Fixtures): Promise<unknown>;
}

/** Lets a row send what the types forbid, as a careless or hostile caller would. */
const raw = <T>(value: unknown) => value as T;
const KB100 = 'x'.repeat(100 * 1024);
const UNKNOWN_UUID = '0190f3a8-7d3c-7cc1-9a52-3c4e5f607182';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

const product = { sku: 'BI-NEW', name: 'Widget', unitPrice: 1000, currency: 'USD', stock: 5 } as const;
const upsert = (api: Api, overrides: Record<string, unknown>) => api.catalog.upsertProduct(raw({ ...product, ...overrides }));
const setItem = (api: Api, f: Fixtures, overrides: Record<string, unknown>) =>
  api.carts.setItem(raw({ customer: f.who, cartId: f.cartId, sku: 'BI-USD', quantity: 1, ...overrides }));

const quantityRows: Row[] = [
  ['negative', -1],
  ['fractional', 1.5],
  ['huge (1e12)', 1e12],
  ['beyond the safe integers', Number.MAX_SAFE_INTEGER + 2],
  ['over the per-line maximum', 10_001],
  ['a numeric string', '2'],
  ['NaN', Number.NaN],
  ['null', null],
  ['a boolean', true],
  ['an object', { value: 1 }],
].map(([label, quantity]) => ({
  name: `carts.setItem: quantity ${String(label)}`,
  code: 'BAD_REQUEST' as const,
  field: 'quantity',
  call: (api: Api, f: Fixtures) => setItem(api, f, { quantity }),
}));

const productRows: Row[] = [
  { name: 'negative unitPrice', field: 'unitPrice', input: { unitPrice: -1 } },
  { name: 'fractional unitPrice', field: 'unitPrice', input: { unitPrice: 12.5 } },
  { name: 'huge unitPrice (1e12)', field: 'unitPrice', input: { unitPrice: 1e12 } },
  { name: 'unitPrice as a string', field: 'unitPrice', input: { unitPrice: '1000' } },
  { name: 'JPY unitPrice over what PayPal accepts', field: 'unitPrice', input: { currency: 'JPY', unitPrice: 10_000_000 } },
  { name: 'negative stock', field: 'stock', input: { stock: -1 } },
  { name: 'fractional stock', field: 'stock', input: { stock: 0.5 } },
  { name: 'huge stock (1e12)', field: 'stock', input: { stock: 1e12 } },
  { name: 'stock beyond the safe integers', field: 'stock', input: { stock: Number.MAX_SAFE_INTEGER + 2 } },
  { name: 'lower-case currency', field: 'currency', input: { currency: 'usd' } },
  { name: 'unknown currency', field: 'currency', input: { currency: 'XXX' } },
  { name: 'currency as a number', field: 'currency', input: { currency: 840 } },
  { name: '100 KB name', field: 'name', input: { name: KB100 } },
  { name: 'blank name', field: 'name', input: { name: '   ' } },
  { name: 'name as an array', field: 'name', input: { name: ['Widget'] } },
  { name: '100 KB sku', field: 'sku', input: { sku: KB100 } },
  { name: 'empty sku', field: 'sku', input: { sku: '' } },
  { name: 'sku with spaces and quotes', field: 'sku', input: { sku: `x' or '1'='1` } },
  { name: 'missing stock', field: 'stock', input: { stock: undefined } },
  { name: 'extra unknown field id', field: 'id', input: { id: UNKNOWN_UUID } },
  // A NUL byte passes zod's length checks but PostgreSQL text cannot hold it.
  { name: 'NUL byte in the name', field: 'name', input: { name: 'Wid\u0000get' } },
].map(({ name, field, input }) => ({
  name: `catalog.upsertProduct: ${name}`,
  code: 'BAD_REQUEST' as const,
  field,
  call: (api: Api) => upsert(api, input),
}));

const customerRows: Row[] = [
  { name: '100 KB customer id', field: 'customer.id', customer: { type: 'user', id: KB100 } },
  { name: 'empty customer id', field: 'customer.id', customer: { type: 'user', id: '' } },
  { name: 'blank customer id', field: 'customer.id', customer: { type: 'user', id: '  ' } },
  { name: 'numeric customer id', field: 'customer.id', customer: { type: 'user', id: 42 } },
  { name: 'unknown customer type', field: 'customer.type', customer: { type: 'admin', id: 'x' } },
  { name: 'customer as a string', field: 'customer', customer: 'alice' },
  { name: 'customer null', field: 'customer', customer: null },
  { name: 'missing customer', field: 'customer', customer: undefined },
  { name: 'extra field on the customer', field: 'customer.role', customer: { type: 'user', id: 'x', role: 'admin' } },
  { name: 'NUL byte in the customer id', field: 'customer.id', customer: { type: 'user', id: 'ali\u0000ce' } },
].map(({ name, field, customer: who }) => ({
  name: `carts.create: ${name}`,
  code: 'BAD_REQUEST' as const,
  field,
  call: (api: Api) => api.carts.create(raw({ customer: who })),
}));

const uuidRows: Row[] = [
  ['not a UUID', 'not-a-uuid'],
  ['empty', ''],
  ['SQL in place of a UUID', `' or 1=1 --`],
  ['UUID with a trailing character', `${UNKNOWN_UUID}0`],
  ['UUID without dashes', UNKNOWN_UUID.replaceAll('-', '')],
  ['a number', 123],
  ['null', null],
].flatMap(([label, bad]): Row[] => [
  {
    name: `carts.get: cartId ${String(label)}`,
    code: 'BAD_REQUEST',
    field: 'cartId',
    call: (api, f) => api.carts.get(raw({ customer: f.who, cartId: bad })),
  },
  {
    name: `orders.get: orderId ${String(label)}`,
    code: 'BAD_REQUEST',
    field: 'orderId',
    call: (api, f) => api.orders.get(raw({ customer: f.who, orderId: bad })),
  },
  {
    name: `payments.processOrderToPaid: orderId ${String(label)}`,
    code: 'BAD_REQUEST',
    field: 'orderId',
    call: (api) => api.payments.processOrderToPaid(raw({ orderId: bad })),
  },
]);

const shapeRows: Row[] = [
  // Missing fields.
  { name: 'carts.setItem without sku', code: 'BAD_REQUEST', field: 'sku', call: (api, f) => setItem(api, f, { sku: undefined }) },
  { name: 'carts.setItem without quantity', code: 'BAD_REQUEST', field: 'quantity', call: (api, f) => setItem(api, f, { quantity: undefined }) },
  { name: 'orders.create without cartId', code: 'BAD_REQUEST', field: 'cartId', call: (api, f) => api.orders.create(raw({ customer: f.who })) },
  { name: 'orders.get without orderId', code: 'BAD_REQUEST', field: 'orderId', call: (api, f) => api.orders.get(raw({ customer: f.who })) },
  { name: 'payments.processOrderToPaid with {}', code: 'BAD_REQUEST', field: 'orderId', call: (api) => api.payments.processOrderToPaid(raw({})) },
  { name: 'orders.getToPay with no input at all', code: 'BAD_REQUEST', field: '', call: (api) => api.orders.getToPay(raw(undefined)) },
  { name: 'carts.create with an array as input', code: 'BAD_REQUEST', field: '', call: (api, f) => api.carts.create(raw([f.who])) },
  // Wrong types.
  { name: 'carts.setItem: sku as a number', code: 'BAD_REQUEST', field: 'sku', call: (api, f) => setItem(api, f, { sku: 42 }) },
  { name: 'carts.setItem: sku with a slash', code: 'BAD_REQUEST', field: 'sku', call: (api, f) => setItem(api, f, { sku: '../BI-USD' }) },
  { name: 'carts.setItem: 100 KB sku', code: 'BAD_REQUEST', field: 'sku', call: (api, f) => setItem(api, f, { sku: KB100 }) },
  // Extra unknown fields: the schemas are strict, so a caller cannot smuggle a price or a total in.
  { name: 'carts.create with an extra field', code: 'BAD_REQUEST', field: 'extra', call: (api, f) => api.carts.create(raw({ customer: f.who, extra: 1 })) },
  { name: 'carts.setItem with a caller-chosen unitPrice', code: 'BAD_REQUEST', field: 'unitPrice', call: (api, f) => setItem(api, f, { unitPrice: 1 }) },
  { name: 'orders.create with a caller-chosen total', code: 'BAD_REQUEST', field: 'total', call: (api, f) => api.orders.create(raw({ customer: f.who, cartId: f.cartId, total: 1 })) },
  { name: 'payments.processOrderToPaid with a status', code: 'BAD_REQUEST', field: 'status', call: (api, f) => api.payments.processOrderToPaid(raw({ orderId: f.orderId, status: 'paid' })) },
  // Prototype keys, as JSON.parse makes them: own properties, not prototypes.
  {
    name: 'carts.create with a top-level __proto__ key',
    code: 'BAD_REQUEST',
    field: '__proto__',
    call: (api, f) => api.carts.create(JSON.parse(`{"customer":${JSON.stringify(f.who)},"__proto__":{"isAdmin":true}}`)),
  },
  {
    name: 'orders.create with __proto__ inside the customer',
    code: 'BAD_REQUEST',
    field: 'customer.__proto__',
    call: (api, f) =>
      api.orders.create(JSON.parse(`{"customer":{"type":"user","id":"${f.other.id}","__proto__":{"id":"${f.who.id}"}},"cartId":"${f.cartId}"}`)),
  },
  {
    name: 'catalog.upsertProduct with a constructor key',
    code: 'BAD_REQUEST',
    field: 'constructor',
    call: (api) => api.catalog.upsertProduct(JSON.parse(`{${JSON.stringify(product).slice(1, -1)},"constructor":{"prototype":{"x":1}}}`)),
  },
  // orders.list paging.
  { name: 'orders.list: pageSize 0', code: 'BAD_REQUEST', field: 'pageSize', call: (api, f) => api.orders.list({ customer: f.who, pageSize: 0 }) },
  { name: 'orders.list: pageSize 101', code: 'BAD_REQUEST', field: 'pageSize', call: (api, f) => api.orders.list({ customer: f.who, pageSize: 101 }) },
  { name: 'orders.list: pageSize 1e12', code: 'BAD_REQUEST', field: 'pageSize', call: (api, f) => api.orders.list({ customer: f.who, pageSize: 1e12 }) },
  { name: 'orders.list: page 0', code: 'BAD_REQUEST', field: 'page', call: (api, f) => api.orders.list({ customer: f.who, page: 0 }) },
  { name: 'orders.list: negative page', code: 'BAD_REQUEST', field: 'page', call: (api, f) => api.orders.list({ customer: f.who, page: -3 }) },
  { name: 'orders.list: fractional page', code: 'BAD_REQUEST', field: 'page', call: (api, f) => api.orders.list({ customer: f.who, page: 1.5 }) },
  { name: 'orders.list: page as a string', code: 'BAD_REQUEST', field: 'page', call: (api, f) => api.orders.list(raw({ customer: f.who, page: '2' })) },
  { name: 'orders.list: cursor that is not ours', code: 'BAD_REQUEST', field: 'cursor', call: (api, f) => api.orders.list({ customer: f.who, cursor: 'garbage' }) },
  { name: 'orders.list: 201-character cursor', code: 'BAD_REQUEST', field: 'cursor', call: (api, f) => api.orders.list({ customer: f.who, cursor: 'a'.repeat(201) }) },
  {
    name: 'orders.list: cursor whose time JavaScript parses but PostgreSQL does not',
    code: 'BAD_REQUEST',
    field: 'cursor',
    call: (api, f) => api.orders.list({ customer: f.who, cursor: cursorOf(`foo 2020|${UNKNOWN_UUID}`) }),
  },
  {
    name: 'orders.list: cursor with a year-0 time',
    code: 'BAD_REQUEST',
    field: 'cursor',
    call: (api, f) => api.orders.list({ customer: f.who, cursor: cursorOf(`0000-01-01T00:00:00Z|${UNKNOWN_UUID}`) }),
  },
  {
    name: 'orders.list: cursor whose id is 36 dashes',
    code: 'BAD_REQUEST',
    field: 'cursor',
    call: (api, f) => api.orders.list({ customer: f.who, cursor: cursorOf(`2026-01-01T00:00:00Z|${'-'.repeat(36)}`) }),
  },
  // auth.login.
  { name: 'auth.login: email that is not one', code: 'BAD_REQUEST', field: 'email', as: 'nobody', call: (api) => api.auth.login({ email: 'not-an-email', password: 'whatever123' }) },
  { name: 'auth.login: 100 KB email', code: 'BAD_REQUEST', field: 'email', as: 'nobody', call: (api) => api.auth.login({ email: `${KB100}@example.com`, password: 'whatever123' }) },
  { name: 'auth.login: empty password', code: 'BAD_REQUEST', field: 'password', as: 'nobody', call: (api) => api.auth.login({ email: 'a@example.com', password: '' }) },
  { name: 'auth.login: 100 KB password', code: 'BAD_REQUEST', field: 'password', as: 'nobody', call: (api) => api.auth.login({ email: 'a@example.com', password: KB100 }) },
  { name: 'auth.login: extra role field', code: 'BAD_REQUEST', field: 'role', as: 'nobody', call: (api) => api.auth.login(raw({ email: 'a@example.com', password: 'whatever123', role: 'admin' })) },
];

const stateRows: Row[] = [
  // Empty cart: BAD_REQUEST naming the cart.
  { name: 'orders.create from an empty cart', code: 'BAD_REQUEST', field: 'cartId', call: (api, f) => api.orders.create({ customer: f.who, cartId: f.emptyCartId }) },
  // Things that do not exist.
  { name: 'carts.setItem: unknown sku', code: 'NOT_FOUND', call: (api, f) => setItem(api, f, { sku: 'NO-SUCH-SKU' }) },
  { name: 'carts.setItem: unknown cart', code: 'NOT_FOUND', call: (api, f) => setItem(api, f, { cartId: UNKNOWN_UUID }) },
  { name: 'carts.get: nil UUID', code: 'NOT_FOUND', call: (api, f) => api.carts.get({ customer: f.who, cartId: NIL_UUID }) },
  { name: 'orders.create: unknown cart', code: 'NOT_FOUND', call: (api, f) => api.orders.create({ customer: f.who, cartId: UNKNOWN_UUID }) },
  { name: 'orders.get: unknown order', code: 'NOT_FOUND', call: (api, f) => api.orders.get({ customer: f.who, orderId: UNKNOWN_UUID }) },
  { name: 'orders.get: a cart id is not an order id', code: 'NOT_FOUND', call: (api, f) => api.orders.get({ customer: f.who, orderId: f.cartId }) },
  { name: 'orders.getToPay: unknown order', code: 'NOT_FOUND', call: (api) => api.orders.getToPay({ orderId: UNKNOWN_UUID }) },
  { name: 'payments.processOrderToPaid: unknown order', code: 'NOT_FOUND', call: (api) => api.payments.processOrderToPaid({ orderId: UNKNOWN_UUID }) },
  { name: 'payments.processOrderToPaid: nil UUID', code: 'NOT_FOUND', call: (api) => api.payments.processOrderToPaid({ orderId: NIL_UUID }) },
  // Someone else's cart or order does not exist for this customer.
  { name: 'carts.get: someone else’s cart', code: 'NOT_FOUND', call: (api, f) => api.carts.get({ customer: f.who, cartId: f.otherCartId }) },
  { name: 'carts.setItem: someone else’s cart', code: 'NOT_FOUND', call: (api, f) => setItem(api, f, { cartId: f.otherCartId, quantity: 2 }) },
  { name: 'carts.setItem: removing from someone else’s cart', code: 'NOT_FOUND', call: (api, f) => setItem(api, f, { cartId: f.otherCartId, quantity: 0 }) },
  { name: 'orders.create: someone else’s cart', code: 'NOT_FOUND', call: (api, f) => api.orders.create({ customer: f.who, cartId: f.otherCartId }) },
  { name: 'orders.get: someone else’s order', code: 'NOT_FOUND', call: (api, f) => api.orders.get({ customer: f.who, orderId: f.otherOrderId }) },
  {
    name: 'orders.get: same id string, other customer type',
    code: 'NOT_FOUND',
    call: (api, f) => api.orders.get({ customer: { type: 'anonymous', id: f.who.id }, orderId: f.orderId }),
  },
  {
    name: 'orders.create: same id string, other customer type',
    code: 'NOT_FOUND',
    call: (api, f) => api.orders.create({ customer: { type: 'anonymous', id: f.who.id }, cartId: f.cartId }),
  },
  // States that forbid the action.
  { name: 'carts.setItem: more than in stock', code: 'CONFLICT', call: (api, f) => setItem(api, f, { quantity: 6 }) },
  { name: 'carts.setItem: a second currency', code: 'CONFLICT', call: (api, f) => setItem(api, f, { sku: 'BI-JPY' }) },
  { name: 'carts.setItem: checked-out cart', code: 'CONFLICT', call: (api, f) => setItem(api, f, { cartId: f.checkedOutCartId, quantity: 2 }) },
  { name: 'carts.setItem: removing from a checked-out cart', code: 'CONFLICT', call: (api, f) => setItem(api, f, { cartId: f.checkedOutCartId, quantity: 0 }) },
  { name: 'orders.create: checked-out cart', code: 'CONFLICT', call: (api, f) => api.orders.create({ customer: f.who, cartId: f.checkedOutCartId }) },
  { name: 'orders.getToPay: paid order', code: 'CONFLICT', call: (api, f) => api.orders.getToPay({ orderId: f.paidOrderId }) },
];

const serviceCalls: { name: string; call(api: Api, f: Fixtures): Promise<unknown> }[] = [
  { name: 'catalog.upsertProduct', call: (api) => api.catalog.upsertProduct({ ...product }) },
  { name: 'carts.create', call: (api, f) => api.carts.create({ customer: f.who }) },
  { name: 'carts.setItem', call: (api, f) => setItem(api, f, { quantity: 2 }) },
  { name: 'carts.get', call: (api, f) => api.carts.get({ customer: f.who, cartId: f.cartId }) },
  { name: 'orders.create', call: (api, f) => api.orders.create({ customer: f.who, cartId: f.cartId }) },
  { name: 'orders.get', call: (api, f) => api.orders.get({ customer: f.who, orderId: f.orderId }) },
  { name: 'orders.list', call: (api, f) => api.orders.list({ customer: f.who }) },
  { name: 'orders.getToPay', call: (api, f) => api.orders.getToPay({ orderId: f.orderId }) },
  { name: 'payments.processOrderToPaid', call: (api, f) => api.payments.processOrderToPaid({ orderId: f.orderId }) },
];

const principalRows: Row[] = [
  ...serviceCalls.map((c): Row => ({ ...c, name: `${c.name} with no principal`, code: 'UNAUTHORIZED', as: 'nobody' })),
  ...serviceCalls.map((c): Row => ({ ...c, name: `${c.name} as staff`, code: 'FORBIDDEN', as: 'staff' })),
  // Credentials are checked before input: a caller without them learns nothing about validation.
  { name: 'bad input with no principal', code: 'UNAUTHORIZED', as: 'nobody', call: (api) => api.carts.create(raw({ customer: 'x' })) },
  { name: 'bad input as staff', code: 'FORBIDDEN', as: 'staff', call: (api) => api.orders.list(raw({ customer: 'x' })) },
  { name: 'carts.create with only orders:read', code: 'FORBIDDEN', as: ['orders:read'], call: (api, f) => api.carts.create({ customer: f.who }) },
  { name: 'catalog.upsertProduct with the customer scopes only', code: 'FORBIDDEN', as: [...CUSTOMER_SCOPES], call: (api) => api.catalog.upsertProduct({ ...product }) },
  { name: 'orders.create with only carts:write', code: 'FORBIDDEN', as: ['carts:write'], call: (api, f) => api.orders.create({ customer: f.who, cartId: f.cartId }) },
  { name: 'orders.get with only orders:write', code: 'FORBIDDEN', as: ['orders:write'], call: (api, f) => api.orders.get({ customer: f.who, orderId: f.orderId }) },
  { name: 'orders.list with no scopes', code: 'FORBIDDEN', as: [], call: (api, f) => api.orders.list({ customer: f.who }) },
  {
    name: 'payments.processOrderToPaid with orders scopes only',
    code: 'FORBIDDEN',
    as: ['orders:read', 'orders:write'],
    call: (api, f) => api.payments.processOrderToPaid({ orderId: f.orderId }),
  },
  {
    name: 'payments.processOrderToPaid on an unknown order without the scope',
    code: 'FORBIDDEN',
    as: ['orders:read'],
    call: (api) => api.payments.processOrderToPaid({ orderId: UNKNOWN_UUID }),
  },
];

let h: TestHarness;
let f: Fixtures;

beforeAll(async () => {
  h = await createHarness();
  const api = h.serviceCaller();
  await api.catalog.upsertProduct({ sku: 'BI-USD', name: 'Mug', unitPrice: 1000, currency: 'USD', stock: 5 });
  await api.catalog.upsertProduct({ sku: 'BI-JPY', name: 'Tea', unitPrice: 1500, currency: 'JPY', stock: 5 });
  const who = customer('user');
  const other = customer('user');
  const cartWithMug = async (owner: Customer) => {
    const cart = await api.carts.create({ customer: owner });
    await api.carts.setItem({ customer: owner, cartId: cart.id, sku: 'BI-USD', quantity: 1 });
    return cart.id;
  };
  const checkedOutCartId = await cartWithMug(who);
  const order = await api.orders.create({ customer: who, cartId: checkedOutCartId });
  const paidOrder = await api.orders.create({ customer: who, cartId: await cartWithMug(who) });
  await api.payments.processOrderToPaid({ orderId: paidOrder.id });
  const otherOrder = await api.orders.create({ customer: other, cartId: await cartWithMug(other) });
  f = {
    who,
    other,
    cartId: await cartWithMug(who),
    emptyCartId: (await api.carts.create({ customer: who })).id,
    otherCartId: await cartWithMug(other),
    checkedOutCartId,
    orderId: order.id,
    paidOrderId: paidOrder.id,
    otherOrderId: otherOrder.id,
  };
});
afterAll(() => h?.close());

function callerFor(as: Row['as']): Api {
  if (as === 'nobody') return h.caller(undefined);
  if (as === 'staff') {
    const staff: Principal = { kind: 'staff', staffId: randomUUID(), email: 'admin@example.com', role: 'admin', sessionId: randomUUID() };
    return h.caller(staff);
  }
  return h.serviceCaller(as);
}

/**
 * Counts and contents of every table: "changes nothing" must hold for updates too, not only
 * for inserts.
 */
async function fingerprint(): Promise<Record<string, unknown>> {
  const counts = await h.rowCounts();
  const contents: Record<string, string> = {};
  for (const table of Object.keys(counts)) {
    const { rows } = await h.pool.query<{ digest: string }>(
      `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from "${table}" t`,
    );
    contents[table] = rows[0]!.digest;
  }
  return { counts, contents };
}

interface IssueLike {
  code: string;
  path: PropertyKey[];
  keys?: string[];
}

/** The field an error names: the first zod issue's path (plus the key, for unknown keys), or the domain error's field. */
function namedField(error: unknown): string | null {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof DomainError) return cause.field ?? null;
  const issues = (cause as { name?: string; issues?: IssueLike[] } | undefined)?.issues;
  if ((cause as { name?: string } | undefined)?.name === 'ZodError' && issues?.[0]) {
    const issue = issues[0];
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys?.[0]] : issue.path;
    return path.map(String).join('.');
  }
  return null;
}

async function expectRefused(row: Row): Promise<void> {
  const before = await fingerprint();
  const error = await row.call(callerFor(row.as), f).then(
    (value) => {
      throw new Error(`expected ${row.code}, but the call succeeded with ${JSON.stringify(value).slice(0, 200)}`);
    },
    (e: unknown) => e,
  );
  expect(error, String(error)).toMatchObject({ name: 'TRPCError', code: row.code });
  if (row.code === 'BAD_REQUEST') expect(namedField(error), `field named by: ${String(error)}`).toBe(row.field);
  expect(await fingerprint()).toEqual(before);
}

describe.each([
  ['quantities', quantityRows],
  ['catalog.upsertProduct input', productRows],
  ['customers', customerRows],
  ['ids that are not UUIDs', uuidRows],
  ['shapes: missing, wrong-typed, unknown and prototype keys; paging; login', shapeRows],
  ['state: empty, unknown, someone else’s, forbidden by state', stateRows],
  ['principals and scopes', principalRows],
])('%s', (_title, rows) => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    await expectRefused(row);
  });
});

describe('amounts beyond what PayPal accepts or a 32-bit column holds', () => {
  // unit_price × quantity and order totals are int4 in PostgreSQL: 999,999,999 × 3 overflows.
  it('a line worth more than PostgreSQL int4 is refused as bad input naming the quantity, and changes nothing', async () => {
    const api = h.serviceCaller();
    await api.catalog.upsertProduct({ sku: 'BI-DEAR', name: 'Yacht', unitPrice: 999_999_999, currency: 'USD', stock: 10 });
    const cart = await api.carts.create({ customer: f.who });
    await expectRefused({
      name: 'setItem quantity 3 of a 9,999,999.99 USD product',
      code: 'BAD_REQUEST',
      field: 'quantity',
      call: (a) => a.carts.setItem({ customer: f.who, cartId: cart.id, sku: 'BI-DEAR', quantity: 3 }),
    });
  });

  it('lines each payable but together over what PayPal accepts: orders.create refuses naming the cart, and changes nothing', async () => {
    const api = h.serviceCaller();
    await api.catalog.upsertProduct({ sku: 'BI-HALF-1', name: 'Half', unitPrice: 600_000_000, currency: 'USD', stock: 10 });
    await api.catalog.upsertProduct({ sku: 'BI-HALF-2', name: 'Half', unitPrice: 600_000_000, currency: 'USD', stock: 10 });
    const cart = await api.carts.create({ customer: f.who });
    await api.carts.setItem({ customer: f.who, cartId: cart.id, sku: 'BI-HALF-1', quantity: 1 });
    await api.carts.setItem({ customer: f.who, cartId: cart.id, sku: 'BI-HALF-2', quantity: 1 });
    await expectRefused({
      name: 'orders.create for 12,000,000.00 USD',
      code: 'BAD_REQUEST',
      field: 'cartId',
      call: (a) => a.orders.create({ customer: f.who, cartId: cart.id }),
    });
  });

  it('a price raised after the item was added: the cart still reads, and checkout is refused naming the cart', async () => {
    const api = h.serviceCaller();
    await api.catalog.upsertProduct({ sku: 'BI-RISING', name: 'Rising', unitPrice: 100, currency: 'USD', stock: 10 });
    const cart = await api.carts.create({ customer: f.who });
    await api.carts.setItem({ customer: f.who, cartId: cart.id, sku: 'BI-RISING', quantity: 3 });
    await api.catalog.upsertProduct({ sku: 'BI-RISING', name: 'Rising', unitPrice: 999_999_999, currency: 'USD', stock: 10 });
    const got = await api.carts.get({ customer: f.who, cartId: cart.id });
    expect(got.lines).toEqual([expect.objectContaining({ sku: 'BI-RISING', quantity: 3, unitPrice: 999_999_999, lineTotal: 2_999_999_997 })]);
    await expectRefused({
      name: 'orders.create for 29,999,999.97 USD',
      code: 'BAD_REQUEST',
      field: 'cartId',
      call: (a) => a.orders.create({ customer: f.who, cartId: cart.id }),
    });
  });
});
