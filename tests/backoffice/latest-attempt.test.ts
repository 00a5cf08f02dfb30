import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { newId } from '@orders/server/db/base.entity.ts';
import { LATEST_ATTEMPT_FILL } from '@orders/server/modules/backoffice/latest-attempt.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * "order" carries its latest attempt's PayPal payment id and payer email for the back-office list
 * (server/src/modules/backoffice/latest-attempt.ts): kept by a trigger on the attempts, filled for
 * orders already there by the migration. Here they are compared with the attempts themselves (the
 * newest by created_at, then id), after payments taken through the simulator and after every kind of
 * write the trigger must follow.
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
});
afterAll(() => env.close());

type Columns = { externalId: string | null; payerEmail: string | null };

/** The order's copies, and what its newest attempt says (null, null without one). */
async function copiesAndTruth(orderId: string): Promise<{ copies: Columns; truth: Columns; version: string }> {
  const { rows } = await env.pool.query<{ copies: Columns; truth: Columns; version: string }>(
    `select json_build_object('externalId', o.latest_attempt_external_id, 'payerEmail', o.latest_attempt_payer_email) as copies,
            json_build_object('externalId', l.external_id, 'payerEmail', l.payer_email) as truth, o.xmin::text as version
       from "order" o
       left join lateral (select a.external_id, a.payer_email from order_payment_attempt a where a.order_id = o.id
                           order by a.created_at desc, a.id desc limit 1) l on true
      where o.id = $1`,
    [orderId],
  );
  return rows[0]!;
}

/** A pending order of one item at 18.00 for `customer`. */
const newOrder = async (customer: Customer) => (await pendingOrder(env.client, { customer, unitPrice: 1800, quantity: 1, stock: 10 })).order;

/** Runs `statement` as attempt writers do: in a transaction that holds the order first. */
async function asWriter(orderId: string, statement: string, values: unknown[]) {
  const client = await env.pool.connect();
  try {
    await client.query('begin');
    await client.query(`select 1 from "order" where id = $1 for no key update`, [orderId]);
    await client.query(statement, values);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

describe("the order's copy of its latest attempt", () => {
  it('follows a buyer who starts over and pays the second attempt, and the list shows it', async () => {
    const customer: Customer = { type: 'user', id: `latest-${randomUUID()}` };
    const order = await newOrder(customer);
    expect((await copiesAndTruth(order.id)).copies).toEqual({ externalId: null, payerEmail: null });

    const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    let state = await copiesAndTruth(order.id);
    expect(state.copies).toEqual({ externalId: first.externalId, payerEmail: null });

    const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    expect(second.externalId).not.toBe(first.externalId);
    state = await copiesAndTruth(order.id);
    expect(state.copies).toEqual({ externalId: second.externalId, payerEmail: null });

    await buyerChooses(env, second.externalId, 'approve');
    await waitFor(async () => (await env.pool.query('select status from "order" where id = $1', [order.id])).rows[0].status === 'paid', 15_000, 'the order paid');
    state = await copiesAndTruth(order.id);
    expect(state.copies.externalId).toBe(second.externalId);
    expect(state.copies.payerEmail).toMatch(/@/);
    expect(state.copies).toEqual(state.truth);

    // What staff see: the list's row (by the order's number) and the detail's agree with the attempts.
    const listed = await viewer.client.backoffice.orders.search.query({ q: String(order.number), limit: 10 });
    const row = listed.items.find((r) => r.id === order.id)!;
    expect(row.externalId).toBe(second.externalId);
    expect(row.payerEmail).toBe(state.copies.payerEmail);
    const detail = await viewer.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.order.externalId).toBe(second.externalId);
  });

  it('takes the newest attempt whatever order they are written in, and writes only when a copy changes', async () => {
    const order = await newOrder({ type: 'anonymous', id: `anon-${randomUUID()}` });
    const insert = (id: string, createdAt: string, externalId: string | null, payerEmail: string | null) =>
      asWriter(
        order.id,
        `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, external_id, payer_email)
         values ($1, $2, $2, $3, 'paypal', 'cancelled', 1800, 'USD', $4, $5)`,
        [id, createdAt, order.id, externalId, payerEmail],
      );
    const check = async () => {
      const state = await copiesAndTruth(order.id);
      expect(state.copies).toEqual(state.truth);
      return state;
    };
    const tag = randomUUID().slice(0, 8).toUpperCase();
    const newest = newId();
    await insert(newest, '2026-06-02T10:00:00Z', `PAY-${tag}-NEWEST`, 'newest@buyers.example');
    expect((await check()).copies).toEqual({ externalId: `PAY-${tag}-NEWEST`, payerEmail: 'newest@buyers.example' });

    // An older attempt written later changes nothing, not even the order's row version.
    const before = await check();
    const older = newId();
    await insert(older, '2026-06-01T10:00:00Z', `PAY-${tag}-OLDER`, 'older@buyers.example');
    const afterOlder = await check();
    expect(afterOlder.copies.externalId).toBe(`PAY-${tag}-NEWEST`);
    expect(afterOlder.version).toBe(before.version);
    await asWriter(order.id, `update order_payment_attempt set payer_email = 'changed@buyers.example' where id = $1`, [older]);
    expect((await check()).version).toBe(before.version);

    // The newest attempt's payer changes: so does the copy. The same value again writes nothing.
    await asWriter(order.id, `update order_payment_attempt set payer_email = 'approved@buyers.example' where id = $1`, [newest]);
    const approved = await check();
    expect(approved.copies.payerEmail).toBe('approved@buyers.example');
    await asWriter(order.id, `update order_payment_attempt set payer_email = 'approved@buyers.example', status = 'cancelled' where id = $1`, [newest]);
    expect((await check()).version).toBe(approved.version);

    // A newer attempt PayPal has not answered yet: the list shows no PayPal id, as the attempt has none.
    const pending = newId();
    await insert(pending, '2026-06-03T10:00:00Z', null, null);
    expect((await check()).copies).toEqual({ externalId: null, payerEmail: null });
    await asWriter(order.id, `update order_payment_attempt set external_id = $2 where id = $1`, [pending, `PAY-${tag}-PENDING`]);
    expect((await check()).copies).toEqual({ externalId: `PAY-${tag}-PENDING`, payerEmail: null });

    // Two attempts at the same instant: the larger id is the newer, as in the search document.
    const sameInstant = [newId(), newId()].sort();
    await insert(sameInstant[1]!, '2026-06-04T10:00:00Z', `PAY-${tag}-B`, null);
    await insert(sameInstant[0]!, '2026-06-04T10:00:00Z', `PAY-${tag}-A`, null);
    expect((await check()).copies.externalId).toBe(`PAY-${tag}-B`);
  });

  it("the migration's fill sets the copies of orders already there, batch by batch", async () => {
    // Orders as they were before the migration: attempts, and copies not yet set.
    const orders = [];
    for (let i = 0; i < 5; i++) {
      const customer: Customer = { type: 'user', id: `fill-${randomUUID()}` };
      const order = await newOrder(customer);
      for (let n = 0; n <= i % 3; n++) await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
      orders.push(order);
    }
    const ids = orders.map((o) => o.id);
    await env.pool.query(`update "order" set latest_attempt_external_id = null, latest_attempt_payer_email = null where id = any($1)`, [ids]);
    for (const id of ids) expect((await copiesAndTruth(id)).copies.externalId).toBeNull();

    // Batches of 2 orders: every order of the database in several transactions (a procedure commits between them).
    await env.pool.query(LATEST_ATTEMPT_FILL(2));
    try {
      await env.pool.query('call order_latest_attempt_fill()');
    } finally {
      await env.pool.query('drop procedure order_latest_attempt_fill()');
    }
    for (const id of ids) {
      const state = await copiesAndTruth(id);
      expect(state.copies.externalId).toMatch(/^PAY-/);
      expect(state.copies).toEqual(state.truth);
    }
    const { rows } = await env.pool.query<{ wrong: number }>(
      `select count(*)::int as wrong from "order" o
         left join lateral (select a.external_id, a.payer_email from order_payment_attempt a where a.order_id = o.id
                             order by a.created_at desc, a.id desc limit 1) l on true
        where o.latest_attempt_external_id is distinct from l.external_id or o.latest_attempt_payer_email is distinct from l.payer_email`,
    );
    expect(rows[0]!.wrong).toBe(0);
  });
});
