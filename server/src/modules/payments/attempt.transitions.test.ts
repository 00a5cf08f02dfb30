import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTEMPT_STATUSES, type AttemptStatus } from '@orders/shared';
import { createHarness, customer, type TestHarness } from '../../testing/harness.js';
import { ATTEMPT_TRANSITIONS, attemptCanBecome, changeAttempt, transitionAttempt } from './attempt.transitions.js';

/*
 * Generated from the state table: every (from, to) pair of attempt statuses, on a real row. The
 * allowed ones move the attempt; every other one leaves it as it was — through both writers.
 */

let h: TestHarness;
let orderId: string;

beforeAll(async () => {
  h = await createHarness();
  const api = h.serviceCaller();
  const who = customer();
  const sku = `AT-${randomUUID().slice(0, 8)}`;
  await api.catalog.upsertProduct({ sku, name: 'Transition', unitPrice: 100, currency: 'USD', stock: 1000 });
  const cart = await api.carts.create({ customer: who });
  await api.carts.setItem({ customer: who, cartId: cart.id, sku, quantity: 1 });
  orderId = (await api.orders.create({ customer: who, cartId: cart.id })).id;
});
afterAll(() => h.close());

/** A fresh attempt in `status`; the order's earlier success is removed first (at most one may succeed). */
async function attemptIn(status: AttemptStatus): Promise<string> {
  await h.pool.query(`delete from order_payment_attempt where order_id = $1 and status = 'succeeded'`, [orderId]);
  const id = randomUUID();
  await h.pool.query(
    `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency)
     values ($1, now(), now(), $2, 'paypal', $3, 100, 'USD')`,
    [id, orderId, status],
  );
  return id;
}

async function statusOf(attemptId: string): Promise<string> {
  const { rows } = await h.pool.query<{ status: string }>('select status from order_payment_attempt where id = $1', [attemptId]);
  return rows[0]!.status;
}

const pairs = ATTEMPT_STATUSES.flatMap((from) => ATTEMPT_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

describe('attempt transitions, generated from the table', () => {
  it('the table names every status', () => {
    expect(Object.keys(ATTEMPT_TRANSITIONS).sort()).toEqual([...ATTEMPT_STATUSES].sort());
  });

  it.each(pairs)('%s → %s through transitionAttempt', async (from, to) => {
    const id = await attemptIn(from);
    const allowed = attemptCanBecome(from, to);
    const moved = await h.orm.em.fork().transactional((tx) => transitionAttempt(tx, id, to, 'table test'));
    expect(moved).toBe(allowed);
    expect(await statusOf(id)).toBe(allowed ? to : from);
  });

  it.each(pairs)('%s → %s through changeAttempt', async (from, to) => {
    const id = await attemptIn(from);
    const change = h.orm.em.fork().transactional((tx) => changeAttempt(tx, id, { status: to }));
    if (attemptCanBecome(from, to)) await expect(change).resolves.toMatchObject({ status: to });
    else await expect(change).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await statusOf(id)).toBe(attemptCanBecome(from, to) ? to : from);
  });
});
