import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, customer, type TestHarness } from '@orders/server/testing/harness.ts';
import { DomainError } from '@orders/server/errors.ts';
import { applyPaymentOutcome } from '@orders/server/modules/payments/payment-outcome.ts';
import type { PaymentOutcome } from '@orders/server/paypal/outcomes.ts';
import { transitionToUnpaidEnd } from '@orders/server/modules/orders/order.transitions.ts';

/*
 * Random sequences of everything that can happen to an order's payments — attempts, PayPal saying
 * completed / pending / failed (right or wrong amount, repeated), refunds, reversals, cancellation,
 * processOrderToPaid — applied through the real code on a real database. After every step the
 * invariants must hold: nothing reaches an illegal state, nothing is paid twice.
 */

const STOCK = 50;
const QUANTITY = 2;
const PRICE = 1500;
const TOTAL = QUANTITY * PRICE;

type Command =
  | { kind: 'attempt' }
  | { kind: 'completed'; attempt: number; sale: number; wrongAmount: boolean }
  | { kind: 'pending'; attempt: number }
  | { kind: 'failed'; attempt: number }
  | { kind: 'refund'; amount: number; movement: 'refund' | 'reversal' }
  | { kind: 'reversal_canceled'; amount: number }
  | { kind: 'cancel' }
  | { kind: 'processOrderToPaid' };

// Whole and half refunds are what happens most; odd amounts find the edges.
const refundAmount = fc.oneof(fc.constant(TOTAL), fc.constant(TOTAL / 2), fc.integer({ min: 1, max: TOTAL }));

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant<Command>({ kind: 'attempt' }),
  fc.record({ kind: fc.constant('completed' as const), attempt: fc.nat(3), sale: fc.nat(2), wrongAmount: fc.boolean() }),
  fc.record({ kind: fc.constant('pending' as const), attempt: fc.nat(3) }),
  fc.record({ kind: fc.constant('failed' as const), attempt: fc.nat(3) }),
  fc.record({ kind: fc.constant('refund' as const), amount: refundAmount, movement: fc.constantFrom('refund' as const, 'reversal' as const) }),
  fc.record({ kind: fc.constant('reversal_canceled' as const), amount: refundAmount }),
  fc.constant<Command>({ kind: 'cancel' }),
  fc.constant<Command>({ kind: 'processOrderToPaid' }),
);

let h: TestHarness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

async function freshOrder() {
  const api = h.serviceCaller();
  const who = customer();
  const sku = `PROP-${randomUUID().slice(0, 8)}`;
  await api.catalog.upsertProduct({ sku, name: 'Property', unitPrice: PRICE, currency: 'USD', stock: STOCK });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity: QUANTITY });
  const order = await api.orders.create({ customer: who, cartId: cart.id });
  return { api, sku, orderId: order.id };
}

async function newAttempt(orderId: string): Promise<string> {
  const id = randomUUID();
  await h.pool.query(
    `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, external_id)
     values ($1, now(), now(), $2, 'paypal', 'created', $3, 'USD', $4)`,
    [id, orderId, TOTAL, `PAY-${id}`],
  );
  return id;
}

const actor = { type: 'paypal' as const, id: null };

async function apply(orderId: string, attempts: string[], sales: string[], cmd: Command, api: Awaited<ReturnType<typeof freshOrder>>['api']) {
  const em = h.orm.em.fork();
  const onAttempt = async (index: number, outcome: PaymentOutcome) => {
    const attemptId = attempts[index % Math.max(attempts.length, 1)];
    if (!attemptId) return;
    await em.transactional((tx) => applyPaymentOutcome(tx, attemptId, outcome, actor));
  };
  switch (cmd.kind) {
    case 'attempt':
      attempts.push(await newAttempt(orderId));
      return;
    case 'completed':
      return onAttempt(cmd.attempt, { kind: 'completed', saleId: sales[cmd.sale]!, amount: cmd.wrongAmount ? TOTAL - 1 : TOTAL, currency: 'USD' });
    case 'pending':
      return onAttempt(cmd.attempt, { kind: 'pending', saleId: null });
    case 'failed':
      return onAttempt(cmd.attempt, { kind: 'failed', reason: 'property test' });
    case 'refund':
    case 'reversal_canceled': {
      // Refunds and reversals name the sale of the succeeded attempt, as PayPal's IPNs do (or one not
      // recorded yet, when nothing succeeded: then they wait for it), each with a transaction id of its own.
      const { rows } = await h.pool.query(`select id, sale_id from order_payment_attempt where order_id = $1 and status = 'succeeded'`, [orderId]);
      const attemptId: string | undefined = rows[0]?.id ?? attempts[0];
      const saleId: string = rows[0]?.sale_id ?? sales[0]!;
      const txnId = randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase();
      const outcome: PaymentOutcome =
        cmd.kind === 'refund'
          ? { kind: 'refunded', movement: cmd.movement, saleId, amount: cmd.amount, currency: 'USD', reason: cmd.movement, refundTxnId: txnId }
          : { kind: 'reversal_canceled', saleId, amount: cmd.amount, currency: 'USD', txnId };
      if (attemptId) await em.transactional((tx) => applyPaymentOutcome(tx, attemptId, outcome, actor));
      return;
    }
    case 'cancel':
      await em.transactional((tx) => transitionToUnpaidEnd(tx, orderId, 'cancelled', { actor, reason: 'property test' }));
      return;
    case 'processOrderToPaid':
      await api.payments.processOrderToPaid({ orderId });
      return;
  }
}

const reached = new Set<string>();

async function checkInvariants(orderId: string, sku: string) {
  const { rows } = await h.pool.query(
    `select o.status, o.total, o.refunded_amount, o.stock_reserved, p.stock,
            (select count(*) from order_line l where l.order_id = o.id)::int as lines,
            (select coalesce(sum(l.line_total), 0) from order_line l where l.order_id = o.id)::int as snapshot_total,
            (select count(*) from audit_entry a where a.order_id = o.id and a.action = 'order.paid')::int as paid_entries,
            (select count(*) from order_payment_attempt t where t.order_id = o.id and t.status = 'succeeded')::int as succeeded,
            (select coalesce(sum(m.amount) filter (where m.kind = 'refund'), 0)
                    + greatest(0, coalesce(sum(m.amount) filter (where m.kind = 'reversal'), 0) - coalesce(sum(m.amount) filter (where m.kind = 'reversal_canceled'), 0))
               from money_movement m where m.sale_id = o.payment_transaction_id and m.state = 'applied')::int as ledger_returned
       from "order" o join cart_line cl on cl.cart_id = o.cart_id join product p on p.sku = cl.sku
      where o.id = $1 and p.sku = $2`,
    [orderId, sku],
  );
  const o = rows[0];
  reached.add(o.status);
  const moneyReceived = ['paid', 'partially_refunded', 'refunded'].includes(o.status);
  expect(o.paid_entries, 'paid at most once').toBeLessThanOrEqual(1);
  expect(o.succeeded, 'at most one succeeded attempt').toBeLessThanOrEqual(1);
  expect(o.lines > 0, 'a snapshot exists exactly when money was received').toBe(moneyReceived);
  if (moneyReceived) expect(o.snapshot_total).toBe(o.total);
  expect(o.refunded_amount).toBeGreaterThanOrEqual(0);
  expect(o.refunded_amount).toBeLessThanOrEqual(o.total);
  if (o.status === 'paid') expect(o.refunded_amount).toBe(0);
  if (o.status === 'refunded') expect(o.refunded_amount).toBe(o.total);
  if (o.status === 'partially_refunded') expect(o.refunded_amount > 0 && o.refunded_amount < o.total).toBe(true);
  if (o.refunded_amount > 0) expect(['partially_refunded', 'refunded']).toContain(o.status);
  // The refunded amount is what the ledger of the order's sale says, however the messages came.
  if (moneyReceived) expect(o.refunded_amount, 'refunded amount equals the ledger').toBe(Math.min(o.total, Math.max(0, o.ledger_returned)));
  // Stock is conserved: held exactly while the order holds it.
  expect(o.stock).toBe(o.stock_reserved ? STOCK - QUANTITY : STOCK);
  if (o.status === 'cancelled') expect(o.stock_reserved).toBe(false);
}

it('no sequence of payment events reaches an illegal state or pays twice', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
      const { api, sku, orderId } = await freshOrder();
      const attempts: string[] = [await newAttempt(orderId)];
      const sales = [0, 1, 2].map(() => randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase());
      for (const cmd of commands) {
        try {
          await apply(orderId, attempts, sales, cmd, api);
        } catch (error) {
          // A refused transition is fine — as long as it is a clear domain refusal that changed nothing.
          const code = (error as { code?: string }).code;
          if (!(error instanceof DomainError) && code !== 'CONFLICT') throw error;
        }
        await checkInvariants(orderId, sku);
      }
    }),
    {
      numRuns: 150,
      // Run first, whatever the seed: a sequence to each status, so that every status's invariants are
      // checked in every run. Random sequences reach "refunded" rarely (a capture of the right amount,
      // then refunds summing to the total): 1, 4, 4 and 7 of 150 in four runs, so about one run in 50
      // (e^-4) reached it in none and the closing check failed for want of luck, not of a fault.
      examples: [
        [[{ kind: 'completed', attempt: 0, sale: 0, wrongAmount: false }, { kind: 'refund', amount: TOTAL, movement: 'refund' }]],
        [[{ kind: 'completed', attempt: 0, sale: 0, wrongAmount: false }, { kind: 'refund', amount: TOTAL / 2, movement: 'reversal' }, { kind: 'refund', amount: TOTAL / 2, movement: 'refund' }]],
        [[{ kind: 'pending', attempt: 0 }, { kind: 'failed', attempt: 0 }]],
        [[{ kind: 'cancel' }]],
      ],
      ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
    },
  );
  // The sequences really went everywhere: every order status was reached and checked (the examples
  // above reach each through the real code: a change that stops one from being reached fails here).
  expect([...reached].sort()).toEqual(['cancelled', 'failed', 'paid', 'partially_refunded', 'pending', 'refunded']);
});
