import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '@orders/shared';
import { SEARCH_STATUS_FILL } from '@orders/server/modules/backoffice/search-document.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, ipnEvents, pendingOrder, waitFor } from '../support/paypal-server.ts';

/*
 * What keeping the search document current costs a payment (issue 10: IPN processing got slower).
 * Every write of an order's search row is recorded by a trigger of this test's own on order_search,
 * with what it wrote (the document, or the status the row carries beside it), so the counts are exact
 * (pg_stat_user_tables' n_tup_upd is flushed late and counts every order).
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  await env.pool.query(`
    create table test_search_writes (order_id uuid not null, op text not null, document boolean not null, status boolean not null);
    create function test_search_writes_fn() returns trigger as $$
      begin
        insert into test_search_writes values (new.order_id, tg_op,
          case when tg_op = 'INSERT' then true else old.document is distinct from new.document end,
          case when tg_op = 'INSERT' then false else old.status is distinct from new.status end);
        return null;
      end; $$ language plpgsql;
    create trigger test_search_writes after insert or update on order_search for each row execute function test_search_writes_fn();`);
});
afterAll(() => env.close());

/** The writes of the order's document (its insert included). */
async function writes(orderId: string): Promise<number> {
  const { rows } = await env.pool.query<{ n: number }>('select count(*)::int as n from test_search_writes where order_id = $1 and document', [orderId]);
  return rows[0]!.n;
}

/** The order's search row: its writes of the status alone, and the status it carries. */
async function statusWrites(orderId: string): Promise<{ writes: number; status: string }> {
  const { rows } = await env.pool.query<{ writes: number; status: string }>(
    `select (select count(*)::int from test_search_writes w where w.order_id = s.order_id and w.status and not w.document) as writes, s.status
       from order_search s where s.order_id = $1`,
    [orderId],
  );
  return rows[0]!;
}

async function newProduct(sku: string) {
  return env.client.catalog.upsertProduct.mutate({ sku, name: `Lamp ${sku}`, unitPrice: 1800, currency: 'USD', stock: 10 });
}

/** A pending order of one item at 18.00 for `customer`. */
const newOrder = async (customer: Customer) => (await pendingOrder(env.client, { customer, unitPrice: 1800, quantity: 1, stock: 10 })).order;

describe('search document writes', () => {
  it('a payment’s success rewrites the document once, and the order is still found by its payer and sale id', async () => {
    const customer: Customer = { type: 'user', id: `writes-${randomUUID()}` };
    const order = await newOrder(customer);
    expect(await writes(order.id)).toBe(1); // the insert
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    const beforeSuccess = await writes(order.id);

    await buyerChooses(env, attempt.externalId, 'approve');
    const paid = await waitFor(async () => {
      const { rows } = await env.pool.query('select status, payment_transaction_id, payer_email from "order" where id = $1', [order.id]);
      return rows[0].status === 'paid' && rows[0];
    }, 15_000, 'the order paid');
    const { rows } = await env.pool.query('select sale_id, payer_email, payer_name from order_payment_attempt where id = $1', [attempt.attemptId]);
    const sale = rows[0];
    // The order copies the paying attempt's sale id and payer: the document has them once, from the attempt.
    expect(paid.payment_transaction_id).toBe(sale.sale_id);
    expect(paid.payer_email).toBe(sale.payer_email);
    await waitFor(async () => (await ipnEvents(env.pool, 'txn_id = $1', [sale.sale_id])).some((e) => e.processing !== 'received'), 15_000, 'the IPN');

    expect(await writes(order.id)).toBe(beforeSuccess + 1);
    // The status its row carries (order_search_status_idx's walk), written once, the document untouched by it.
    expect(await statusWrites(order.id)).toEqual({ writes: 1, status: 'paid' });

    for (const q of [sale.sale_id, sale.sale_id.slice(3, 12).toLowerCase(), sale.payer_email, sale.payer_email.slice(1, 9), sale.payer_name.slice(2), attempt.externalId]) {
      const result = await viewer.client.backoffice.orders.search.query({ q, limit: 50 });
      expect(result.items.map((r) => r.id), q).toContain(order.id);
    }
  });

  it('a status change does not touch the document: it writes the status the row carries beside it, once', async () => {
    const customer: Customer = { type: 'user', id: `writes-${randomUUID()}` };
    const order = await newOrder(customer);
    const operator = await env.staff('operator');
    await operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'customer asked us to' });
    const { rows } = await env.pool.query('select status from "order" where id = $1', [order.id]);
    expect(rows[0].status).toBe('cancelled');
    expect(await writes(order.id)).toBe(1);
    expect(await statusWrites(order.id)).toEqual({ writes: 1, status: 'cancelled' });
  });

  it("the migration's fill sets the status of search rows already there, batch by batch", async () => {
    // Rows whose status is not their order's (as before the migration, when it was not there at all).
    await env.pool.query(`update order_search set status = 'pending' where order_id in (select id from "order" where status <> 'pending')`);
    const wrong = async () =>
      (await env.pool.query<{ n: number }>(`select count(*)::int as n from order_search s join "order" o on o.id = s.order_id where s.status <> o.status`)).rows[0]!.n;
    expect(await wrong()).toBeGreaterThan(0);
    // Batches of 2 rows: every row of the database in several transactions (a procedure commits between them).
    await env.pool.query(SEARCH_STATUS_FILL(2));
    try {
      await env.pool.query('call order_search_status_fill()');
    } finally {
      await env.pool.query('drop procedure order_search_status_fill()');
    }
    expect(await wrong()).toBe(0);
  });

  it("the migration's fill never writes a status over a newer one: a status change meanwhile wins", async () => {
    const customer: Customer = { type: 'user', id: `writes-${randomUUID()}` };
    const order = await newOrder(customer);
    // The row not filled yet (the column was null before the migration; any other status will do).
    await env.pool.query(`update order_search set status = 'paid' where order_id = $1`, [order.id]);
    // A status change in flight (its trigger has already written the row's new status, not committed).
    const writer = await env.pool.connect();
    try {
      await writer.query('begin');
      await writer.query(`update "order" set status = 'cancelled' where id = $1`, [order.id]);
      await env.pool.query(SEARCH_STATUS_FILL(1_000));
      const fill = env.pool.query('call order_search_status_fill()');
      // The fill reaches the order's batch and waits; the change commits.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writer.query('commit');
      await fill;
    } finally {
      writer.release();
      await env.pool.query('drop procedure if exists order_search_status_fill()');
    }
    expect((await statusWrites(order.id)).status).toBe('cancelled');
  });

  it('the values follow the document: a value it no longer has stops finding the order, other orders keep theirs', async () => {
    const tag = randomUUID().slice(0, 8);
    const email = `Kept.${tag}@Example.org`;
    const orders = await Promise.all(
      [0, 1].map(async (i) => {
        const sku = `VAL-${tag}-${i}`;
        await env.client.catalog.upsertProduct.mutate({ sku, name: `Lamp ${tag}`, unitPrice: 900, currency: 'USD', stock: 10 });
        return env.client.orders.create.mutate({ customer: { type: 'user', id: `values-${tag}-${i}` }, items: [{ sku, quantity: 1 }], customerEmail: email });
      }),
    );
    const found = async (q: string) => (await viewer.client.backoffice.orders.search.query({ q, limit: 50 })).items.map((r) => r.id).sort();
    expect(await found(`kept.${tag}`)).toEqual(orders.map((o) => o.id).sort());
    // The first order's customer email changes (the document's trigger on "order" rewrites it).
    await env.pool.query('update "order" set customer_email = $1 where id = $2', [`moved.${tag}@example.org`, orders[0]!.id]);
    expect(await found(`kept.${tag}`)).toEqual([orders[1]!.id]);
    expect(await found(`moved.${tag}`)).toEqual([orders[0]!.id]);
    // Exactly the document's distinct lines, one posting each: nothing stale, nothing twice.
    const { rows } = await env.pool.query<{ document: string; values: string[] }>(
      `select s.document, array(select v.value from order_search_posting p join order_search_value v on v.id = p.value_id
                                 where p.order_id = s.order_id order by 1) as values
         from order_search s where s.order_id = $1`,
      [orders[0]!.id],
    );
    expect(rows[0]!.values).toEqual([...new Set(rows[0]!.document.split('\n'))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('an order’s new values go straight into the trigram index: nothing waits in a pending list every search would read', async () => {
    // Whatever an earlier test left waiting is merged first; then one order's values are written.
    await env.pool.query(`select gin_clean_pending_list('order_search_value_trgm_idx')`);
    const tag = randomUUID().slice(0, 8);
    await newProduct(`PEND-${tag}`);
    const order = await env.client.orders.create.mutate({
      customer: { type: 'user', id: `pending-${tag}` },
      items: [{ sku: `PEND-${tag}`, quantity: 1 }],
      customerEmail: `pending.${tag}@example.org`,
    });
    const { rows } = await env.pool.query<{ n: string }>(`select count(*) as n from order_search_value where value like $1`, [`%${tag}%`]);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(3); // the sku, its product name, the customer id and email
    // gin_clean_pending_list answers how many pages of entries were waiting.
    const pending = await env.pool.query<{ pages: string }>(`select gin_clean_pending_list('order_search_value_trgm_idx') as pages`);
    expect(Number(pending.rows[0]!.pages)).toBe(0);
    const found = await viewer.client.backoffice.orders.search.query({ q: `ending.${tag}`, limit: 50 });
    expect(found.items.map((r) => r.id)).toEqual([order.id]);
  });

  it('orders bringing the same new values at the same time each get their postings', async () => {
    const tag = randomUUID().slice(0, 8);
    const sku = `SAME-${tag}`;
    await env.client.catalog.upsertProduct.mutate({ sku, name: `Twin Vase ${tag}`, unitPrice: 700, currency: 'USD', stock: 100 });
    // Twelve checkouts at once, each with the same new sku, product name, customer email and name.
    const orders = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        env.client.orders.create.mutate({
          customer: { type: 'anonymous', id: `same-${tag}-${i}` },
          items: [{ sku, quantity: 1 }],
          customerEmail: `twin.${tag}@example.org`,
          customerName: `Twin ${tag}`,
        }),
      ),
    );
    for (const q of [`twin vase ${tag}`, `same-${tag}`, `twin.${tag}@`, `twin ${tag}`]) {
      const result = await viewer.client.backoffice.orders.search.query({ q, limit: 50 });
      expect(result.items.map((r) => r.id).sort(), q).toEqual(orders.map((o) => o.id).sort());
      expect(result.total, q).toEqual({ value: 12, exact: true });
    }
    const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from order_search_value where value = $1`, [`twin vase ${tag}`]);
    expect(rows[0]!.n).toBe(1);
  });

  /** Each posting of the order: its value, and the status and currency it carries. */
  async function postings(orderId: string) {
    const { rows } = await env.pool.query<{ value: string; status: string; currency: string }>(
      `select v.value, p.status, p.currency from order_search_posting p join order_search_value v on v.id = p.value_id where p.order_id = $1 order by 1`,
      [orderId],
    );
    return rows;
  }

  it('the postings carry the order’s status and currency: from its creation, through its payment, a cancel and a rewritten document', async () => {
    const customer: Customer = { type: 'user', id: `carried-${randomUUID()}` };
    const order = await newOrder(customer);
    const created = await postings(order.id);
    expect(created.length).toBeGreaterThanOrEqual(4); // its id, customer id, sku and product name
    expect(new Set(created.map((p) => `${p.status} ${p.currency}`))).toEqual(new Set(['pending USD']));
    // Paid: the attempt's PayPal ids and payer are new values, and every posting says paid.
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    await buyerChooses(env, attempt.externalId, 'approve');
    await waitFor(async () => (await env.pool.query('select status from "order" where id = $1', [order.id])).rows[0].status === 'paid', 15_000, 'the order paid');
    const paid = await postings(order.id);
    expect(paid.map((p) => p.value)).toContain(attempt.externalId.toLowerCase());
    expect(new Set(paid.map((p) => `${p.status} ${p.currency}`))).toEqual(new Set(['paid USD']));
    // A document rewritten after it: the new value's posting is paid too.
    await env.pool.query('update "order" set customer_email = $1 where id = $2', [`carried.${randomUUID().slice(0, 8)}@example.org`, order.id]);
    expect(new Set((await postings(order.id)).map((p) => p.status))).toEqual(new Set(['paid']));
    // Cancelled (another order): every posting follows, and search with the status finds it by any fragment.
    const other = await newOrder(customer);
    const operator = await env.staff('operator');
    await operator.client.backoffice.orders.cancel.mutate({ orderId: other.id, reason: 'customer asked us to' });
    expect(new Set((await postings(other.id)).map((p) => p.status))).toEqual(new Set(['cancelled']));
    const found = await viewer.client.backoffice.orders.search.query({ q: customer.id.slice(8, 20), status: ['cancelled'], limit: 50 });
    expect(found.items.map((r) => r.id)).toEqual([other.id]);
    expect(found.total).toEqual({ value: 1, exact: true });
    const inPaid = await viewer.client.backoffice.orders.search.query({ q: customer.id.slice(8, 20), status: ['paid'], currency: 'USD', limit: 50 });
    expect(inPaid.items.map((r) => r.id)).toEqual([order.id]);
  });

  it('a document rewritten while another transaction changes the order’s status waits for it, and its new postings carry the new status', async () => {
    const customer: Customer = { type: 'user', id: `race-${randomUUID()}` };
    const order = await newOrder(customer);
    const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
    // As the checkout leaves it before PayPal answers: no PayPal id yet (the rewrite below only adds).
    await env.pool.query('update order_payment_attempt set external_id = null where id = $1', [attempt.attemptId]);
    const statusChange = await env.pool.connect();
    const rewrite = await env.pool.connect();
    try {
      await statusChange.query('begin');
      await statusChange.query(`update "order" set status = 'cancelled' where id = $1`, [order.id]);
      // A writer that did not lock the order first: its document's new PayPal id waits for the order.
      const newId = `PAYID-RACE${randomUUID().slice(0, 8).toUpperCase()}`;
      const rewritten = rewrite.query('update order_payment_attempt set external_id = $1 where id = $2', [newId, attempt.attemptId]);
      await waitFor(async () => {
        const { rows } = await env.pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'update order_payment_attempt set external_id%'`);
        return rows.length > 0;
      }, 10_000, 'the rewrite waiting for the order');
      await statusChange.query('commit');
      await rewritten;
      const carried = await postings(order.id);
      expect(carried.map((p) => p.value)).toContain(newId.toLowerCase());
      expect(new Set(carried.map((p) => p.status))).toEqual(new Set(['cancelled']));
    } finally {
      await statusChange.query('rollback').catch(() => {});
      statusChange.release();
      rewrite.release();
    }
  });
});
