/**
 * The bench's baseline: the smallest hand-written server that does what Orders does for the
 * benchmarked operations — same HTTP stack (Fastify + tRPC, same router shape and zod inputs from
 * @orders/shared), same SQL statements (./sql.ts), same PayPal gateway and the same external simulator —
 * but each procedure runs its statements straight on a pg.Pool: no MikroORM, no services, no
 * kysely, no pg-boss (a plain job table instead). What Orders costs beyond this is what its layers cost.
 *
 * Run as a child process by tests/bench/run.ts with the bench simulator's PAYPAL_* variables (lib/simulator.ts);
 * prints `BASELINE READY <url>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { initTRPC, TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import pg from 'pg';
import { pino } from 'pino';
import { isSupportedCurrency, maxMinorAmount, parseDecimalString, schemas, type Currency, type Customer } from '@orders/shared';
import { PaypalRestGateway } from '@orders/server/paypal/paypal-rest-gateway.ts';
import { parseIpn, verifyIpn } from '@orders/server/paypal/ipn/ipn-message.ts';
import * as q from './sql.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const RECEIVER_EMAIL = 'merchant@orders.example';
const IPN_WORKERS = Number(process.env.BASELINE_IPN_WORKERS ?? 4);
const IPN_POLL_MS = 500;

// The same pool size as Orders' MikroORM pool (server/src/db/orm.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });

/** UUID v7 (time-ordered), as Orders' ids are. */
function uuidv7(): string {
  const bytes = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function one<T>(client: pg.Pool | pg.PoolClient, text: string, values: unknown[] = []): Promise<T | undefined> {
  return (await client.query(text, values)).rows[0] as T | undefined;
}

async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const fail = (code: TRPCError['code'], message: string) => new TRPCError({ code, message });
const iso = (value: Date | null) => (value === null ? null : value.toISOString());

interface LineRow {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
  currency: Currency;
}
interface CartRow {
  id: string;
  customerType: Customer['type'];
  customerId: string;
  checkedOutAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
interface OrderRow {
  id: string;
  customerType: Customer['type'];
  customerId: string;
  cartId: string;
  status: string;
  total: number;
  currency: Currency;
  refundedAmount: number;
  paymentStatus: string | null;
  paymentTransactionId: string | null;
  stockReserved: boolean;
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
}
interface AttemptRow {
  id: string;
  orderId: string;
  status: string;
  amount: number;
  currency: Currency;
  externalId: string | null;
  saleId: string | null;
}

const loadLines = async (c: pg.PoolClient | pg.Pool, cartId: string) => (await c.query<LineRow>(q.LOAD_LINES, [cartId])).rows;

const cartDto = (cart: CartRow, lines: LineRow[]) => ({
  id: cart.id,
  customer: { type: cart.customerType, id: cart.customerId },
  lines,
  subtotal: lines.reduce((sum, l) => sum + l.lineTotal, 0),
  currency: lines[0]?.currency ?? null,
  checkedOut: cart.checkedOutAt !== null,
  createdAt: iso(cart.createdAt),
  updatedAt: iso(cart.updatedAt),
});

const orderDto = (o: OrderRow, lines: LineRow[]) => ({
  id: o.id,
  customer: { type: o.customerType, id: o.customerId },
  status: o.status,
  total: o.total,
  currency: o.currency,
  refundedAmount: o.refundedAmount,
  paymentStatus: o.paymentStatus,
  paymentTransactionId: o.paymentTransactionId,
  lines,
  linesFrozen: false,
  createdAt: iso(o.createdAt),
  updatedAt: iso(o.updatedAt),
  paidAt: iso(o.paidAt),
});

async function lockOwnedCart(c: pg.PoolClient, customer: Customer, cartId: string): Promise<CartRow> {
  const cart = await one<CartRow>(c, q.CART_LOCK, [cartId, customer.type, customer.id]);
  if (!cart) throw fail('NOT_FOUND', 'cart not found');
  return cart;
}

// ---- tRPC: the same router shape and inputs as Orders for the benchmarked procedures ----

interface Context {
  scopes: ReadonlySet<string> | undefined;
  apiKeyId: string | undefined;
}
const t = initTRPC.context<Context>().create();
const withScope = (scope: string) =>
  t.procedure.use(({ ctx, next }) => {
    if (!ctx.scopes) throw fail('UNAUTHORIZED', 'a valid API key is required');
    if (!ctx.scopes.has(scope)) throw fail('FORBIDDEN', `the API key lacks the ${scope} scope`);
    return next({ ctx: { ...ctx, actorId: ctx.apiKeyId! } });
  });

let gateway: PaypalRestGateway;
let publicBaseUrl = '';

const router = t.router({
  carts: t.router({
    create: withScope('carts:write')
      .input(schemas.createCartInput)
      .mutation(async ({ input }) => {
        const cart = await one<CartRow>(pool, q.CART_INSERT, [uuidv7(), input.customer.type, input.customer.id]);
        return cartDto(cart!, []);
      }),
    setItem: withScope('carts:write')
      .input(schemas.setCartItemInput)
      .mutation(({ input }) =>
        inTransaction(async (c) => {
          const cart = await lockOwnedCart(c, input.customer, input.cartId);
          if (cart.checkedOutAt) throw fail('CONFLICT', 'cart is already checked out');
          if (input.quantity === 0) {
            await c.query(q.CART_LINE_DELETE, [input.cartId, input.sku]);
          } else {
            const product = await one<{ currency: Currency; stock: number; unitPrice: number; otherCurrency: string | null }>(
              c,
              q.PRODUCT_FOR_LINE,
              [input.cartId, input.sku],
            );
            if (!product) throw fail('NOT_FOUND', `product ${input.sku} not found`);
            if (product.otherCurrency) throw fail('CONFLICT', 'a cart holds one currency');
            if (input.quantity > product.stock) throw fail('CONFLICT', `only ${product.stock} of ${input.sku} in stock`);
            if (input.quantity * product.unitPrice > maxMinorAmount(product.currency)) throw fail('BAD_REQUEST', 'line total too large');
            await c.query(q.CART_LINE_UPSERT, [uuidv7(), input.cartId, input.sku, input.quantity]);
          }
          const updated = await one<{ updatedAt: Date }>(c, q.CART_TOUCH, [input.cartId]);
          return cartDto({ ...cart, updatedAt: updated!.updatedAt }, await loadLines(c, input.cartId));
        }),
      ),
  }),
  orders: t.router({
    create: withScope('orders:write')
      .input(schemas.createOrderInput)
      .mutation(({ input, ctx }) =>
        inTransaction(async (c) => {
          const { customer } = input;
          let cartId = input.cartId;
          if (!cartId) {
            // One-call checkout: the cart and its lines first, in the same transaction, as Orders does.
            const items = input.items!;
            cartId = uuidv7();
            await c.query(q.CART_INSERT_BARE, [cartId, customer.type, customer.id]);
            const inserted = (await c.query<{ sku: string }>(q.CART_LINES_FROM_ITEMS, [cartId, items.map((i) => i.sku), items.map((i) => i.quantity)])).rows;
            if (inserted.length < items.length) throw fail('BAD_REQUEST', 'items: unknown sku');
          }
          const cart = await lockOwnedCart(c, customer, cartId);
          if (cart.checkedOutAt) throw fail('CONFLICT', 'cart is already checked out');
          const quoted = (await c.query<{ currency: Currency; total: string }>(q.QUOTE_LINES, [cartId])).rows;
          if (quoted.length === 0) throw fail('BAD_REQUEST', 'cart is empty');
          const currency = quoted[0]!.currency;
          if (quoted.some((l) => l.currency !== currency)) throw fail('CONFLICT', 'cart mixes currencies');
          const total = quoted.reduce((sum, l) => sum + Number(l.total), 0);
          if (total > maxMinorAmount(currency)) throw fail('BAD_REQUEST', 'order total too large');
          const wanted = (await c.query<{ sku: string; quantity: number; stock: number }>(q.RESERVE_LOCK, [cartId])).rows;
          const short = wanted.filter((w) => w.stock < w.quantity).map((w) => w.sku);
          if (short.length > 0) throw fail('CONFLICT', `out of stock: ${short.join(', ')}`);
          await c.query(q.RESERVE_TAKE, [cartId]);
          await c.query(q.CART_CHECKOUT, [cartId]);
          const order = await one<OrderRow>(c, q.ORDER_INSERT, [uuidv7(), customer.type, customer.id, cartId, total, currency]);
          await c.query(q.AUDIT_INSERT, [
            uuidv7(), 'service', ctx.actorId, 'order.created', order!.id, null,
            JSON.stringify({ status: 'pending', total, currency }), null,
          ]);
          return orderDto(order!, await loadLines(c, cartId));
        }),
      ),
  }),
  payments: t.router({
    attemptToPay: withScope('payments:write')
      .input(schemas.attemptToPayInput)
      .mutation(async ({ input }) => {
        const { attempt, order, lines } = await inTransaction(async (c) => {
          const order = await one<OrderRow>(c, q.ORDER_LOCK_OWNED, [input.orderId, input.customer.type, input.customer.id]);
          if (!order) throw fail('NOT_FOUND', 'order not found');
          if (order.status !== 'pending') throw fail('CONFLICT', `order is ${order.status}`);
          await c.query(q.ATTEMPTS_SUPERSEDE, [order.id]);
          const attempt = (await one<AttemptRow>(c, q.ATTEMPT_INSERT, [
            uuidv7(), order.id, order.total, order.currency, input.returnUrl ?? null, input.cancelUrl ?? null,
          ]))!;
          return { attempt, order, lines: await loadLines(c, order.cartId) };
        });
        const created = await gateway.createPayment({
          requestId: attempt.id,
          amount: attempt.amount,
          currency: attempt.currency,
          items: lines.map((l) => ({ sku: l.sku, name: l.name, unitPrice: l.unitPrice, quantity: l.quantity })),
          description: `Order ${order.id}`,
          invoiceNumber: attempt.id,
          custom: order.id,
          notifyUrl: `${publicBaseUrl}/paypal/ipn`,
          returnUrl: `${publicBaseUrl}/paypal/return?attemptId=${attempt.id}`,
          cancelUrl: `${publicBaseUrl}/paypal/cancel?attemptId=${attempt.id}`,
        });
        await inTransaction(async (c) => {
          await c.query(q.ATTEMPT_CREATED, [created.paymentId, created.approvalUrl, JSON.stringify(created.raw), attempt.id]);
          await c.query(q.EVENT_INSERT_PROCESSED, [
            uuidv7(), 'provider', attempt.id, order.id, created.paymentId, null, null, 'created', null, null, null,
            JSON.stringify(created.raw), 'not_applicable', 'processed', 'payment created',
          ]);
        });
        return { attemptId: attempt.id, externalId: created.paymentId, approvalUrl: created.approvalUrl };
      }),
  }),
});

// ---- IPN: store raw + enqueue; workers verify and apply with Orders' statements ----

async function receiveIpn(raw: Buffer): Promise<void> {
  const fields = parseIpn(raw);
  const event = await one<{ id: string }>(pool, q.EVENT_INSERT_RECEIVED, [
    uuidv7(), 'ipn', null, null, null, fields.txn_id?.slice(0, 64) ?? null, fields.parent_txn_id?.slice(0, 64) ?? null,
    fields.payment_status?.slice(0, 64) ?? null, null, fields.mc_currency?.slice(0, 3) ?? null, raw, null, 'pending', 'received', null,
  ]);
  await pool.query(q.JOB_ENQUEUE, [event!.id]);
}

let ipnVerifyUrl = '';

/** Same verification and the same statements as PaymentsService.processIpn on the happy path (a Completed sale). */
async function processIpn(eventId: string): Promise<string> {
  const event = await one<{ rawBody: Buffer; processing: string }>(pool, q.IPN_EVENT_LOAD, [eventId]);
  if (!event || event.processing !== 'received') return event?.processing ?? 'ignored';
  const raw = Buffer.from(event.rawBody);
  const verdict = await verifyIpn(ipnVerifyUrl, raw);
  const fields = parseIpn(raw);
  const verification = verdict === 'VERIFIED' ? 'verified' : 'invalid';
  const finish = (c: pg.PoolClient | pg.Pool, processing: string, outcome: string, extra: { attemptId?: string; orderId?: string; dedupKey?: string; amount?: number } = {}) =>
    c.query(q.IPN_FINISH, [verification, processing, outcome, extra.attemptId ?? null, extra.orderId ?? null, extra.dedupKey ?? null, extra.amount ?? null, eventId]);
  if (verdict === 'INVALID') {
    await finish(pool, 'ignored', 'PayPal answered INVALID');
    return 'ignored';
  }
  const receiver = (fields.receiver_email ?? fields.business ?? '').toLowerCase();
  if (receiver !== RECEIVER_EMAIL) {
    await finish(pool, 'flagged', 'receiver is not ours');
    return 'flagged';
  }
  const txnId = fields.txn_id ?? '';
  const dedupKey = `ipn:${txnId}:${fields.payment_status ?? ''}`;
  return inTransaction(async (c) => {
    const mine = await one<{ processing: string }>(c, q.IPN_EVENT_LOCK, [eventId]);
    if (mine?.processing !== 'received') return mine?.processing ?? 'ignored';
    const seen = await one<{ id: string }>(c, q.IPN_DEDUP, [dedupKey]);
    if (seen) {
      await finish(c, 'duplicate', `already processed as event ${seen.id}`);
      return 'duplicate';
    }
    const saleId = fields.parent_txn_id || txnId;
    const found =
      (saleId ? await one<AttemptRow>(c, q.ATTEMPT_BY_SALE, [saleId]) : undefined) ??
      (fields.invoice ? await one<AttemptRow>(c, q.ATTEMPT_BY_ID, [fields.invoice]) : undefined);
    if (!found) {
      await finish(c, 'unmatched', 'no attempt matches', { dedupKey });
      return 'unmatched';
    }
    // The benchmark sends Completed IPNs whose amount matches: Orders' mapping and checks reduce to this.
    const currency = (fields.mc_currency ?? '').toUpperCase();
    const amount = isSupportedCurrency(currency) ? parseDecimalString(fields.mc_gross ?? '', currency) : null;
    if (fields.payment_status !== 'Completed' || amount === null || amount !== found.amount || currency !== found.currency) {
      await finish(c, 'flagged', 'not a matching Completed IPN', { attemptId: found.id, orderId: found.orderId, dedupKey });
      return 'flagged';
    }
    // lockOrderAndAttempt
    const order = (await one<OrderRow>(c, q.ORDER_LOCK_BY_ATTEMPT, [found.id]))!;
    const attempt = (await one<AttemptRow>(c, q.ATTEMPT_LOCK, [found.id]))!;
    if (attempt.status === 'succeeded') {
      await finish(c, 'processed', 'already applied', { attemptId: attempt.id, orderId: order.id, dedupKey, amount });
      return 'processed';
    }
    const others = await one<{ saleOwner: string | null; otherSuccess: string | null }>(c, q.SALE_OWNER_AND_OTHER_SUCCESS, [txnId, attempt.id, order.id]);
    if (others?.saleOwner) throw new Error('a sale claimed twice is not part of the benchmark');
    if (others?.otherSuccess) throw new Error('double payment is not part of the benchmark');
    await c.query(q.ATTEMPT_SET, ['succeeded', txnId, 'completed', null, fields.payer_id ?? null, fields.payer_email ?? null, attempt.id]);
    const won = await one<OrderRow & { previousStatus: string }>(c, q.ORDER_TO_PAID, [txnId, 'completed', order.id]);
    if (won) {
      const snapshot = (await c.query<{ total: number }>(q.SNAPSHOT_LINES, [order.id, won.currency, won.cartId])).rows;
      const snapshotTotal = snapshot.reduce((sum, l) => sum + l.total, 0);
      if (snapshotTotal !== won.total) throw new Error(`snapshot total ${snapshotTotal} differs from ${won.total}`);
      await c.query(q.AUDIT_INSERT, [
        uuidv7(), 'paypal', null, 'order.paid', order.id, JSON.stringify({ status: won.previousStatus }),
        JSON.stringify({ status: 'paid', paymentTransactionId: won.paymentTransactionId }), `sale ${txnId}`,
      ]);
    }
    await finish(c, 'processed', won ? 'order paid' : 'order was already paid', { attemptId: attempt.id, orderId: order.id, dedupKey, amount });
    return 'processed';
  });
}

let stopping = false;
const workers: Promise<void>[] = [];

/** One worker: claim a job, process it, delete it; poll again at once while there is work, every 500 ms when idle. */
async function ipnWorker(): Promise<void> {
  while (!stopping) {
    let job: { id: string; eventId: string } | undefined;
    try {
      job = await one<{ id: string; eventId: string }>(pool, q.JOB_CLAIM);
      if (job) {
        await processIpn(job.eventId);
        await pool.query(q.JOB_DONE, [job.id]);
      }
    } catch (error) {
      console.error(`baseline IPN worker: ${(error as Error).message}`);
    }
    if (!job && !stopping) await sleep(IPN_POLL_MS);
  }
}

// ---- start ----

// PayPal is the bench's external simulator, reached the way Orders reaches it (PAYPAL_MODE=sandbox).
const paypalEnv = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required (the bench's simulator)`);
  return value;
};
ipnVerifyUrl = paypalEnv('PAYPAL_IPN_VERIFY_URL');
gateway = new PaypalRestGateway({ mode: 'sandbox', clientId: paypalEnv('PAYPAL_CLIENT_ID'), clientSecret: paypalEnv('PAYPAL_CLIENT_SECRET'), apiBase: paypalEnv('PAYPAL_API_BASE'), timeoutMs: 20_000 });
await pool.query(q.JOB_TABLE);

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
const bearer = (header: string | undefined) => /^Bearer\s+(\S{1,512})$/i.exec(header ?? '')?.[1];

// The same Fastify options as Orders' buildHttpApp (server/src/http/app.ts).
const app = Fastify({
  loggerInstance: pino({ level: 'warn' }),
  bodyLimit: 1024 * 1024,
  onProtoPoisoning: 'remove',
  onConstructorPoisoning: 'remove',
});
await app.register(fastifyTRPCPlugin, {
  prefix: '/trpc',
  trpcOptions: {
    router,
    createContext: async ({ req }): Promise<Context> => {
      const token = bearer(req.headers.authorization);
      if (!token) return { scopes: undefined, apiKeyId: undefined };
      const found = await one<{ kind: string; id: string; scopes: string[] | null }>(pool, q.AUTHENTICATE, [hashSecret(token)]);
      if (!found || found.kind !== 'service') return { scopes: undefined, apiKeyId: undefined };
      return { scopes: new Set(found.scopes ?? []), apiKeyId: found.id };
    },
  } satisfies FastifyTRPCPluginOptions<typeof router>['trpcOptions'],
});
await app.register(async (scope) => {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
  scope.post('/paypal/ipn', async (request, reply) => {
    if (!Buffer.isBuffer(request.body) || request.body.length === 0) return reply.status(400).send();
    await receiveIpn(request.body);
    return reply.status(200).send();
  });
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
publicBaseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
for (let i = 0; i < IPN_WORKERS; i++) workers.push(ipnWorker());
console.log(`BASELINE READY ${publicBaseUrl}`);

const shutdown = async () => {
  stopping = true;
  await app.close();
  await Promise.all(workers);
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
