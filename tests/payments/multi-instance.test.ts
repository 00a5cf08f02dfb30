import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import { createOrdersClient } from '@orders/shared';
import type { RunningServer } from '@orders/server/server.ts';
import type { PaypalSimulator } from '@orders/server/paypal/simulator/index.ts';
import { pendingOrder, waitFor, SERVICE_KEY } from '../support/paypal-server.ts';
import { openTestBed, type TestBed } from '../support/test-bed.ts';

const RECEIVER = 'two-instances@orders.example';
let bed: TestBed<PaypalSimulator>;
let sim: PaypalSimulator;
let pool: pg.Pool;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  // One PayPal, one PostgreSQL, two stateless server instances.
  bed = await openTestBed({ paypal: { clientId: 'two-instances', clientSecret: 'two-instances-secret', receiverEmail: RECEIVER }, poolMax: 2 });
  ({ sim, pool } = bed);
  a = await bed.startServer({ BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY });
  b = await bed.startServer({ BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY });
});
afterAll(async () => {
  await bed?.close();
});

it('return URLs and duplicate IPNs spread over two instances: every order paid exactly once, every message stored', async () => {
  const clientA = createOrdersClient({ url: a.trpcUrl, apiKey: SERVICE_KEY });
  const orders = await Promise.all(Array.from({ length: 6 }, () => pendingOrder(clientA)));
  const attempts = await Promise.all(orders.map(({ customer, order }) => clientA.payments.attemptToPay.mutate({ customer, orderId: order.id })));

  // The buyers come back through both instances at once, twice each (a double click).
  sim.control.setIpnMode({ duplicates: 2 });
  try {
    await Promise.all(
      attempts.flatMap((attempt, i) => {
        const { redirectUrl } = sim.control.approve(attempt.externalId, 'approve');
        const path = new URL(redirectUrl);
        const viaA = `${a.url}${path.pathname}${path.search}`;
        const viaB = `${b.url}${path.pathname}${path.search}`;
        return [fetch(i % 2 ? viaA : viaB), fetch(i % 2 ? viaB : viaA)];
      }),
    );
    await sim.control.settleIpns();
  } finally {
    sim.control.setIpnMode({ duplicates: 0 });
  }
  // PayPal sent its IPNs to instance A (the notify URL it was given); replay every one to B as well.
  const sent = sim.control.ipnLog();
  await Promise.all(
    sent.map((entry) =>
      fetch(`${b.url}/paypal/ipn`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: entry.body }),
    ),
  );
  const expectedIpns = sent.reduce((n, entry) => n + entry.deliveries.length, 0) + sent.length;

  await waitFor(async () => {
    const { rows } = await pool.query(`select count(*)::int as n, count(*) filter (where processing = 'received')::int as waiting from payment_event where source = 'ipn'`);
    return rows[0].n === expectedIpns && rows[0].waiting === 0;
  }, 30_000, 'every IPN to be stored and processed');

  const { rows } = await pool.query(
    `select o.id, o.status,
            (select count(*) from audit_entry e where e.order_id = o.id and e.action = 'order.paid')::int as paid_entries,
            (select count(*) from order_line l where l.order_id = o.id)::int as lines,
            (select count(*) from order_payment_attempt t where t.order_id = o.id and t.status = 'succeeded')::int as succeeded
       from "order" o where o.id = any($1::uuid[])`,
    [orders.map((o) => o.order.id)],
  );
  expect(rows).toHaveLength(6);
  for (const row of rows) expect(row).toMatchObject({ status: 'paid', paid_entries: 1, lines: 1, succeeded: 1 });
  const { rows: processed } = await pool.query(
    `select count(*) filter (where processing = 'processed')::int as processed, count(*) filter (where processing = 'duplicate')::int as duplicates
       from payment_event where source = 'ipn'`,
  );
  // One IPN per sale is acted on; every other copy is recognised as a duplicate.
  expect(processed[0]).toEqual({ processed: 6, duplicates: expectedIpns - 6 });
});
