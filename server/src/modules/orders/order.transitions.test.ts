import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUSES, type OrderStatus } from '@orders/shared';
import { createHarness, customer, type TestHarness } from '../../testing/harness.js';
import { PAID_STATUSES, canTransition } from './order-state.js';
import { reopenFailedOrder, settleRefunds, transitionToPaid, transitionToUnpaidEnd } from './order.transitions.js';
import { findOrder } from './order.repository.js';

/*
 * Generated from the order state table: every (from, to) pair, on a real order, through the one
 * function that writes that move. Allowed moves happen (with their audit entry); every other one is
 * refused or changes nothing.
 */

let h: TestHarness;
const actor = { type: 'system' as const, id: null };

beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

/** A fresh order put straight into `status`; a paid one holds a captured sale of its total in the ledger. */
async function orderIn(status: OrderStatus): Promise<{ id: string; total: number; saleId: string }> {
  const api = h.serviceCaller();
  const who = customer();
  const sku = `OT-${randomUUID().slice(0, 8)}`;
  await api.catalog.upsertProduct({ sku, name: 'Transition', unitPrice: 1000, currency: 'USD', stock: 100 });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity: 2 });
  const order = await api.orders.create({ customer: who, cartId: cart.id });
  const saleId = randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase();
  const paid = PAID_STATUSES.includes(status);
  const refunded = status === 'refunded' ? order.total : status === 'partially_refunded' ? order.total / 2 : 0;
  await h.pool.query(
    `update "order" set status = $2, refunded_amount = $3, payment_transaction_id = $4, stock_reserved = $5 where id = $1`,
    [order.id, status, refunded, paid ? saleId : null, status !== 'cancelled' && status !== 'failed'],
  );
  if (paid) {
    await h.pool.query(
      `insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id)
       values (gen_random_uuid(), now(), now(), $1, 'capture', $2, 'USD', 'applied', $1, $3)`,
      [saleId, order.total, order.id],
    );
    if (refunded > 0) {
      await h.pool.query(
        `insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id)
         values (gen_random_uuid(), now(), now(), $1, 'refund', $2, 'USD', 'applied', $3, $4)`,
        [saleId, refunded, `R${saleId.slice(1)}`, order.id],
      );
    }
  }
  return { id: order.id, total: order.total, saleId };
}

/** Moves the order to `to` through the writer of that move; for the refund states, by a ledger movement then settling. */
async function move(order: { id: string; total: number; saleId: string }, to: OrderStatus): Promise<void> {
  await h.orm.em.fork().transactional(async (tx) => {
    switch (to) {
      case 'paid':
        await transitionToPaid(tx, order.id, { actor, saleId: order.saleId });
        return;
      case 'failed':
      case 'cancelled':
        await transitionToUnpaidEnd(tx, order.id, to, { actor, reason: 'table test' });
        return;
      case 'pending':
        await reopenFailedOrder(tx, (await findOrder(tx, order.id))!, actor);
        return;
      case 'refunded':
      case 'partially_refunded': {
        const current = (await findOrder(tx, order.id))!;
        const want = to === 'refunded' ? order.total : order.total / 4;
        // The ledger says `want` went back in all; settling makes the order say so.
        await tx.getConnection().execute(
          `delete from money_movement where sale_id = ? and kind <> 'capture'`, [order.saleId]);
        await tx.getConnection().execute(
          `insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id)
           values (gen_random_uuid(), now(), now(), ?, 'refund', ?, 'USD', 'applied', ?, ?)`,
          [order.saleId, want, randomUUID().slice(0, 17), order.id],
        );
        await settleRefunds(tx, current, { actor, reason: 'table test', paymentStatus: 'refunded' });
        return;
      }
    }
  });
}

async function statusOf(orderId: string): Promise<OrderStatus> {
  const { rows } = await h.pool.query<{ status: OrderStatus }>('select status from "order" where id = $1', [orderId]);
  return rows[0]!.status;
}

const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

describe('order transitions, generated from the table', () => {
  it.each(pairs)('%s → %s', async (from, to) => {
    const order = await orderIn(from);
    const allowed = canTransition(from, to);
    // Paid money stays paid: transitionToPaid on an order that already holds money changes nothing.
    const expected = to === 'paid' && PAID_STATUSES.includes(from) && from !== 'paid' ? from : allowed ? to : from;
    await move(order, to).catch((error: { code?: string }) => {
      expect(allowed && expected === to, `${from} → ${to} refused`).toBe(false);
      expect(error.code).toBe('CONFLICT');
    });
    expect(await statusOf(order.id)).toBe(expected);
    if (expected === to) {
      const { rows } = await h.pool.query('select count(*)::int as n from audit_entry where order_id = $1 and created_at > now() - interval \'1 minute\' and action like \'order.%\' and action <> \'order.created\'', [order.id]);
      expect(rows[0].n, 'the move is audited').toBeGreaterThan(0);
    }
  });
});
