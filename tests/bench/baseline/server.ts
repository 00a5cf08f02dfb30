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
import { SUPPORTED_CURRENCIES, isSupportedCurrency, maxMinorAmount, parseDecimalString, schemas, type Currency, type Customer } from '@orders/shared';
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

/** Lines that come back as one JSON array from a statement (pg parses json; null when none). */
const jsonLines = (lines: LineRow[] | string | null): LineRow[] => (typeof lines === 'string' ? (JSON.parse(lines) as LineRow[]) : (lines ?? []));

/** The largest amount PayPal accepts per currency, as JSON (carts.service MAX_AMOUNTS). */
const MAX_AMOUNTS = JSON.stringify(Object.fromEntries(SUPPORTED_CURRENCIES.map((currency) => [currency, maxMinorAmount(currency)])));
/** Orders' retry bound for a cart whose row changed under the statement (createPendingOrder, setItem). */
const ROUNDS = 5;
/** deps.config.executeClaimMs = 2 × the PayPal timeout (server.ts), in seconds as attemptToPay binds it. */
const EXECUTE_CLAIM_SECONDS = (2 * 20_000) / 1000;

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

interface SetItemVerdict {
  found: boolean;
  checkedOut: boolean;
  moved: boolean;
  productFound: boolean;
  currency: Currency | null;
  stock: number | null;
  unitPrice: number | null;
  otherCurrency: Currency | null;
  tooLarge: boolean | null;
  customerType: Customer['type'];
  customerId: string;
  checkedOutAt: Date | null;
  createdAt: Date;
  updatedAt: Date | null;
  lines: LineRow[] | string | null;
}
type CreateVerdict = {
  found: boolean;
  checkedOut: boolean;
  moved: boolean;
  unknownItem: number | null;
  lineCount: number;
  currencies: number;
  quotedCurrency: Currency | null;
  quotedTotal: string;
  short: string[] | null;
  lines: LineRow[] | string | null;
} & ({ [K in keyof OrderRow]: OrderRow[K] | null });

const router = t.router({
  carts: t.router({
    create: withScope('carts:write')
      .input(schemas.createCartInput)
      .mutation(async ({ input }) => {
        const cart = await one<CartRow>(pool, q.CART_INSERT, [uuidv7(), input.customer.type, input.customer.id]);
        return cartDto(cart!, []);
      }),
    // One statement (CartsService.setItem), run again while the cart row moved under it.
    setItem: withScope('carts:write')
      .input(schemas.setCartItemInput)
      .mutation(async ({ input }) => {
        const { customer, cartId, sku, quantity } = input;
        for (let round = 0; round < ROUNDS; round++) {
          const v = (await one<SetItemVerdict>(pool, q.CART_SET_ITEM, [
            cartId, customer.type, customer.id, cartId, sku, sku, quantity, MAX_AMOUNTS, quantity, quantity, cartId, sku, quantity,
            uuidv7(), cartId, sku, quantity, quantity, cartId, quantity, sku, quantity,
          ]))!;
          if (v.moved) continue;
          if (!v.found) throw fail('NOT_FOUND', 'cart not found');
          if (v.checkedOut) throw fail('CONFLICT', 'cart is already checked out');
          if (quantity > 0) {
            if (!v.productFound) throw fail('NOT_FOUND', `product ${sku} not found`);
            if (v.otherCurrency) throw fail('CONFLICT', 'a cart holds one currency');
            if (quantity > v.stock!) throw fail('CONFLICT', `only ${v.stock} of ${sku} in stock`);
            if (v.tooLarge) throw fail('BAD_REQUEST', 'line total too large');
          }
          return cartDto({ id: cartId, customerType: v.customerType, customerId: v.customerId, checkedOutAt: v.checkedOutAt, createdAt: v.createdAt, updatedAt: v.updatedAt! }, jsonLines(v.lines));
        }
        throw fail('CONFLICT', 'the cart kept changing; try again');
      }),
  }),
  orders: t.router({
    // One statement in both forms (createPendingOrder), run again while the cart row moved under it.
    create: withScope('orders:write')
      .input(schemas.createOrderInput)
      .mutation(async ({ input, ctx }) => {
        const { customer } = input;
        const email = input.customerEmail ?? null;
        const name = input.customerName ?? null;
        for (let round = 0; round < ROUNDS; round++) {
          let v: CreateVerdict;
          if (input.cartId) {
            const cartId = input.cartId;
            v = (await one<CreateVerdict>(pool, q.ORDER_FROM_CART, [
              cartId, customer.type, customer.id, cartId, MAX_AMOUNTS, cartId,
              uuidv7(), customer.type, customer.id, email, name, cartId, uuidv7(), 'service', ctx.actorId,
            ]))!;
          } else {
            const items = input.items!;
            const cartId = uuidv7();
            v = (await one<CreateVerdict>(pool, q.ORDER_FROM_ITEMS, [
              items.map((i) => i.sku), items.map((i) => i.quantity), MAX_AMOUNTS, cartId, customer.type, customer.id, cartId,
              uuidv7(), customer.type, customer.id, email, name, cartId, uuidv7(), 'service', ctx.actorId,
            ]))!;
          }
          if (v.moved) continue;
          if (!v.found) throw fail('NOT_FOUND', 'cart not found');
          if (v.checkedOut) throw fail('CONFLICT', 'cart is already checked out');
          if (v.unknownItem !== null) throw fail('BAD_REQUEST', `items.${v.unknownItem}.sku: unknown sku`);
          if (v.lineCount === 0) throw fail('BAD_REQUEST', 'cart is empty');
          if (v.currencies > 1) throw fail('CONFLICT', 'cart mixes currencies');
          if (Number(v.quotedTotal) > maxMinorAmount(v.quotedCurrency!)) throw fail('BAD_REQUEST', 'order total too large');
          if (v.short) throw fail('CONFLICT', `out of stock: ${v.short.join(', ')}`);
          if (!v.id) throw new Error('order not created although every rule held');
          return orderDto(v as OrderRow, jsonLines(v.lines));
        }
        throw fail('CONFLICT', 'the cart kept changing while the order was being created; try again');
      }),
  }),
  payments: t.router({
    attemptToPay: withScope('payments:write')
      .input(schemas.attemptToPayInput)
      .mutation(async ({ input }) => {
        const { attempt, order, lines } = await inTransaction(async (c) => {
          const order = await one<OrderRow>(c, q.ORDER_LOCK_OWNED, [input.orderId, input.customer.type, input.customer.id]);
          if (!order) throw fail('NOT_FOUND', 'order not found');
          // The benchmark pays pending orders: reopenFailedOrder (a failed one) issues nothing for them in Orders either.
          if (order.status !== 'pending') throw fail('CONFLICT', `order is ${order.status}`);
          const started = await one<{ executing: boolean; lost: string[] }>(c, q.EXECUTING_ATTEMPT, [order.id, 'created', 'approved', EXECUTE_CLAIM_SECONDS]);
          if (started?.executing) throw fail('CONFLICT', 'a payment for this order is being confirmed with PayPal; try again in a moment');
          if (started?.lost.length) throw fail('CONFLICT', 'an earlier payment of this order was never answered by PayPal (the baseline does not ask)');
          const created = (await one<AttemptRow & { lines: LineRow[] | string | null }>(c, q.ATTEMPT_CREATE, [
            'superseded by a newer attempt', order.id, 'created', 'approved',
            uuidv7(), order.id, order.total, order.currency, input.returnUrl ?? null, input.cancelUrl ?? null, order.cartId,
          ]))!;
          const { lines, ...attempt } = created;
          return { attempt, order, lines: jsonLines(lines) };
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
        await pool.query(q.ATTEMPT_STORE_CREATED, [
          created.paymentId, created.approvalUrl, JSON.stringify(created.raw), attempt.id,
          uuidv7(), 'provider', attempt.id, order.id, created.paymentId, null, null, 'created', null, null, null,
          JSON.stringify(created.raw), 'not_applicable', 'processed', 'payment created', null,
        ]);
        return { attemptId: attempt.id, externalId: created.paymentId, approvalUrl: created.approvalUrl };
      }),
  }),
});

// ---- IPN: store raw + enqueue; workers verify and apply with Orders' statements ----

/** The listener's enqueues, sent as one insert per 10 ms window (up to 500), as Orders' queue.ts SendBatch does. */
const SEND_WINDOW_MS = 10;
const SEND_BATCH_MAX = 500;
let pendingJobs: string[] = [];
let sendTimer: NodeJS.Timeout | undefined;
async function flushJobs(): Promise<void> {
  clearTimeout(sendTimer);
  sendTimer = undefined;
  const ids = pendingJobs;
  pendingJobs = [];
  if (ids.length === 0) return;
  await pool.query(q.JOB_ENQUEUE, [[...new Set(ids)]]).catch((error: unknown) => console.error(`baseline IPN enqueue: ${(error as Error).message}`));
}
function enqueueIpn(eventId: string): void {
  pendingJobs.push(eventId);
  if (pendingJobs.length >= SEND_BATCH_MAX) void flushJobs();
  else sendTimer ??= setTimeout(() => void flushJobs(), SEND_WINDOW_MS);
}

/** One insert (storeNotification), then the 200; the job goes out with the next batch. */
async function receiveIpn(raw: Buffer): Promise<void> {
  const fields = parseIpn(raw);
  const column = (value: string | undefined, max: number) => (value === undefined ? null : value.replaceAll('\u0000', '').slice(0, max));
  const event = await one<{ id: string }>(pool, q.EVENT_INSERT_RECEIVED, [
    uuidv7(), 'ipn', null, null, null, column(fields.txn_id, 64), column(fields.parent_txn_id, 64),
    column(fields.payment_status, 64), null, column(fields.mc_currency, 3), raw, null, 'pending', 'received', null, null, null,
  ]);
  enqueueIpn(event!.id);
}

let ipnVerifyUrl = '';

/** Same verification and the same statements as PaymentsService.processIpn on the happy path (a Completed sale). */
async function processIpn(eventId: string): Promise<string> {
  const event = await one<{ rawBody: Buffer; processing: string }>(pool, q.IPN_EVENT_LOAD, [eventId, 'ipn']);
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
      const hash = hashSecret(token);
      const found = await one<{ kind: string; id: string; scopes: string[] | null; usedLongAgo: boolean | null }>(pool, q.AUTHENTICATE, [q.API_KEY_LAST_USED_EVERY, hash, hash]);
      if (!found || found.kind !== 'service') return { scopes: undefined, apiKeyId: undefined };
      if (found.usedLongAgo) await pool.query(q.API_KEY_TOUCH, [found.id, q.API_KEY_LAST_USED_EVERY]).catch(() => undefined);
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
  await flushJobs();
  await Promise.all(workers);
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
