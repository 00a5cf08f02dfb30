import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@orders/server/db/base.entity.ts';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { buyerChooses, newCustomer, processedIpns } from '../support/paypal-server.ts';

/*
 * Line refunds through the public tRPC API, PayPal being the simulator over real HTTP: the amount comes
 * from the paid snapshot, a line is never refunded beyond what was paid of it, the stock goes back once
 * whichever path completes the refund, and PayPal's refund IPN counts nothing twice.
 */

let env: BackofficeTestEnv;
let operator: StaffSession;
beforeAll(async () => {
  env = await startBackofficeEnv();
  operator = await env.staff('operator');
});
afterAll(() => env.close());

async function orderRow(orderId: string) {
  const { rows } = await env.pool.query('select status, total, refunded_amount, payment_transaction_id from "order" where id = $1', [orderId]);
  return rows[0] as { status: string; total: number; refunded_amount: number; payment_transaction_id: string | null };
}

async function stockOf(sku: string): Promise<number> {
  const { rows } = await env.pool.query('select stock from product where sku = $1', [sku]);
  return rows[0].stock as number;
}

async function count(table: 'order_refund' | 'order_refund_line', orderId: string): Promise<number> {
  const { rows } = await env.pool.query(`select count(*)::int as n from ${table} where order_id = $1`, [orderId]);
  return rows[0].n as number;
}

const simRefunds = (saleId: string) => env.sim.control.getState().refunds.filter((r) => r.saleId === saleId);

/** A paid order of two lines: 2 × MUG at 1250 and 1 × LAMP at 3000 (total 5500 USD), its sale IPN processed. */
async function paidTwoLineOrder() {
  const tag = randomUUID().slice(0, 8);
  const mug = `MUG-${tag}`;
  const lamp = `LAMP-${tag}`;
  await env.client.catalog.upsertProduct.mutate({ sku: mug, name: 'Mug', unitPrice: 1250, currency: 'USD', stock: 10 });
  await env.client.catalog.upsertProduct.mutate({ sku: lamp, name: 'Lamp', unitPrice: 3000, currency: 'USD', stock: 5 });
  const customer = newCustomer();
  const order = await env.client.orders.create.mutate({ customer, items: [{ sku: mug, quantity: 2 }, { sku: lamp, quantity: 1 }] });
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, attempt.externalId, 'approve');
  const saleId = (await orderRow(order.id)).payment_transaction_id!;
  await processedIpns(env.pool, saleId);
  expect(await orderRow(order.id)).toMatchObject({ status: 'paid', total: 5500 });
  return { order, attempt, saleId, mug, lamp };
}

describe('backoffice.payments.refundLines', () => {
  it('refunds one line of two at the paid price with restock; PayPal’s refund IPN arriving after counts once; a second partial refund; an over-refund changes nothing', async () => {
    const { order, saleId, mug, lamp } = await paidTwoLineOrder();
    expect([await stockOf(mug), await stockOf(lamp)]).toEqual([8, 4]);
    // The catalog price changes after payment: the refund still uses what was paid.
    await env.client.catalog.upsertProduct.mutate({ sku: mug, name: 'Mug', unitPrice: 9999, currency: 'USD', stock: 8 });

    await expect(
      operator.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku: mug, quantity: 1 }], restock: true, reason: 'one mug broke' }),
    ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });

    const first = await env.admin.client.backoffice.payments.refundLines.mutate({
      orderId: order.id,
      lines: [{ sku: mug, quantity: 1 }],
      restock: true,
      reason: 'one mug came back unopened',
    });
    expect(first).toMatchObject({
      orderId: order.id,
      status: 'partially_refunded',
      refundedAmount: 1250,
      amount: 1250,
      currency: 'USD',
      lines: [{ sku: mug, quantity: 1, amount: 1250 }],
      restocked: true,
    });
    expect(await stockOf(mug)).toBe(9);
    expect(await stockOf(lamp)).toBe(4);
    expect(simRefunds(saleId)).toEqual([expect.objectContaining({ amount: 1250 })]);

    // PayPal's refund IPN arrives after our answer: recognised, nothing counted or restocked again.
    const [ipn] = await processedIpns(env.pool, first.providerRefundId);
    expect(ipn).toMatchObject({ verification: 'verified', processing: 'processed', outcome: expect.stringContaining('already applied') });
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 1250 });
    expect(await stockOf(mug)).toBe(9);
    const { rows: movements } = await env.pool.query(`select count(*)::int as n from money_movement where provider_txn_id = $1`, [first.providerRefundId]);
    expect(movements[0].n).toBe(1);

    let detail = await env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.lines.map((l) => [l.sku, l.quantity, l.unitPrice, l.refundedQuantity, l.refundedAmount, l.pendingRefundQuantity, l.restockedQuantity])).toEqual(
      [
        [lamp, 1, 3000, 0, 0, 0, 0],
        [mug, 2, 1250, 1, 1250, 0, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const audited = detail.audit.filter((a) => a.action === 'order.lines_refunded');
    expect(audited).toEqual([
      expect.objectContaining({
        actorLabel: ADMIN.email,
        reason: 'one mug came back unopened',
        after: expect.objectContaining({ lines: [{ sku: mug, quantity: 1, amount: 1250 }], restock: true, restocked: [{ sku: mug, quantity: 1 }], refundId: first.refundId }),
      }),
    ]);

    // Second partial refund: the other mug and the lamp, no restock.
    const second = await env.admin.client.backoffice.payments.refundLines.mutate({
      orderId: order.id,
      lines: [
        { sku: lamp, quantity: 1 },
        { sku: mug, quantity: 1 },
      ],
      restock: false,
      reason: 'lamp and mug lost in transit',
    });
    expect(second).toMatchObject({ status: 'refunded', refundedAmount: 5500, amount: 4250, restocked: false });
    expect([await stockOf(mug), await stockOf(lamp)]).toEqual([9, 4]);
    await processedIpns(env.pool, second.providerRefundId);
    expect(await orderRow(order.id)).toMatchObject({ status: 'refunded', refunded_amount: 5500 });

    // Beyond the paid quantity: refused with the field named; nothing recorded, nothing sent, no stock moved.
    const before = { refunds: await count('order_refund', order.id), lines: await count('order_refund_line', order.id), sim: simRefunds(saleId).length };
    await expect(
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku: mug, quantity: 1 }], restock: true, reason: 'once more' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
    expect({ refunds: await count('order_refund', order.id), lines: await count('order_refund_line', order.id), sim: simRefunds(saleId).length }).toEqual(before);
    expect([await stockOf(mug), await stockOf(lamp)]).toEqual([9, 4]);

    detail = await env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.lines.map((l) => [l.sku, l.refundedQuantity, l.refundedAmount, l.restockedQuantity])).toEqual(
      [
        [lamp, 1, 3000, 0],
        [mug, 2, 2500, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('refuses a line beyond its paid quantity, an unknown sku, a sku twice and money beyond what is left, with the field named; nothing changes', async () => {
    const { order, saleId, mug, lamp } = await paidTwoLineOrder();
    const refund = (input: { lines: { sku: string; quantity: number }[]; restock?: boolean }) =>
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, reason: 'checking limits', restock: true, ...input });

    await expect(refund({ lines: [{ sku: mug, quantity: 3 }] })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'lines.0.quantity' },
      message: expect.stringContaining('at most 2'),
    });
    await expect(refund({ lines: [{ sku: lamp, quantity: 1 }, { sku: 'NOT-IN-ORDER', quantity: 1 }] })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'lines.1.sku' },
    });
    await expect(refund({ lines: [{ sku: mug, quantity: 1 }, { sku: mug, quantity: 1 }] })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'lines' } });
    await expect(refund({ lines: [{ sku: mug, quantity: 0 }] })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'lines.0.quantity' } });
    await expect(refund({ lines: [] })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'lines' } });

    // An amount refund first takes most of the money: the lamp's 3000 no longer fits in what is left (500).
    await env.admin.client.backoffice.payments.refund.mutate({ orderId: order.id, amount: 5000, reason: 'goodwill' });
    await expect(refund({ lines: [{ sku: lamp, quantity: 1 }] })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', field: 'lines' },
      message: 'lines: the chosen lines come to $30.00, but at most $5.00 can still be refunded',
    });

    expect(await count('order_refund_line', order.id)).toBe(0);
    expect(await count('order_refund', order.id)).toBe(1);
    expect(simRefunds(saleId)).toHaveLength(1);
    expect([await stockOf(mug), await stockOf(lamp)]).toEqual([8, 4]);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 5000 });
  });

  it('a double click (two identical requests at once) makes one refund and restocks once', async () => {
    const { order, saleId, lamp } = await paidTwoLineOrder();
    const click = () =>
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku: lamp, quantity: 1 }], restock: true, reason: 'lamp returned' });
    const results = await Promise.allSettled([click(), click()]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ data: { code: 'BAD_REQUEST', field: 'lines.0.quantity' } });
    expect(await count('order_refund', order.id)).toBe(1);
    expect(simRefunds(saleId)).toEqual([expect.objectContaining({ amount: 3000 })]);
    expect(await stockOf(lamp)).toBe(5);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 3000 });
  });

  it('the same requestKey twice (a double click on part of a line, a retry after a lost answer) makes one refund', async () => {
    const { order, saleId, mug } = await paidTwoLineOrder();
    const requestKey = randomUUID();
    const click = () =>
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku: mug, quantity: 1 }], restock: true, reason: 'one mug', requestKey });
    // One of two mugs: without the key both clicks would fit in what is left of the line.
    const results = await Promise.allSettled([click(), click()]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ data: { code: 'CONFLICT' } });
    expect(new Set(fulfilled.map((r) => r.refundId)).size).toBe(1);
    // The retry after the answer was lost: the same refund's result, nothing new.
    const again = await click();
    expect(again).toMatchObject({ refundId: fulfilled[0]!.refundId, amount: 1250, status: 'partially_refunded', refundedAmount: 1250, restocked: true, lines: [{ sku: mug, quantity: 1, amount: 1250 }] });
    expect(await count('order_refund', order.id)).toBe(1);
    expect(simRefunds(saleId)).toHaveLength(1);
    expect(await stockOf(mug)).toBe(9);
    // A new key is a new refund (the second mug), and a key cannot be reused for another order.
    const second = await env.admin.client.backoffice.payments.refundLines.mutate({
      orderId: order.id,
      lines: [{ sku: mug, quantity: 1 }],
      restock: false,
      reason: 'the other mug',
      requestKey: randomUUID(),
    });
    expect(second.refundId).not.toBe(again.refundId);
    const other = await paidTwoLineOrder();
    await expect(
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: other.order.id, lines: [{ sku: other.mug, quantity: 1 }], restock: false, reason: 'reused key', requestKey }),
    ).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'requestKey' } });
    expect(await count('order_refund', other.order.id)).toBe(0);
  });

  it('a line refund cut off by a crash: PayPal’s IPN applies the money, the sweep completes it, and the stock goes back once', async () => {
    const { order, attempt, saleId, mug } = await paidTwoLineOrder();
    const { rows: lines } = await env.pool.query(`select id from order_line where order_id = $1 and sku = $2`, [order.id, mug]);
    // What the first step writes (the refund row and its line); the process then died before PayPal answered.
    const refundId = newId();
    await env.pool.query(
      `insert into order_refund (id, created_at, updated_at, order_id, attempt_id, sale_id, amount, currency, status, staff_id, reason)
       values ($1, now() - interval '10 minutes', now() - interval '10 minutes', $2, $3, $4, 2500, 'USD', 'requested', $5, 'mugs returned')`,
      [refundId, order.id, attempt.attemptId, saleId, env.admin.id],
    );
    await env.pool.query(
      `insert into order_refund_line (id, created_at, updated_at, refund_id, order_id, order_line_id, sku, quantity, amount, currency, restock)
       values ($1, now(), now(), $2, $3, $4, $5, 2, 2500, 'USD', true)`,
      [newId(), refundId, order.id, lines[0].id, mug],
    );
    // Held meanwhile: the same mugs cannot be refunded again.
    await expect(
      env.admin.client.backoffice.payments.refundLines.mutate({ orderId: order.id, lines: [{ sku: mug, quantity: 1 }], restock: true, reason: 'again' }),
    ).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'lines.0.quantity' } });
    expect((await env.admin.client.backoffice.orders.get.query({ orderId: order.id })).lines.find((l) => l.sku === mug)).toMatchObject({
      pendingRefundQuantity: 2,
      refundedQuantity: 0,
    });

    // The request the dead process had sent reached PayPal; its IPN is applied before any sweep.
    const made = await env.server.paypal.gateway.refundSale({ requestId: refundId, saleId, amount: 2500, currency: 'USD' });
    await processedIpns(env.pool, made.refundId);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 2500 });
    expect(await stockOf(mug)).toBe(8);

    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 60_000 })).toEqual({ completed: 1, failed: 0, retrying: 0 });
    expect(await stockOf(mug)).toBe(10);
    // Another sweep, and PayPal answering the same request id again: nothing more.
    expect(await env.server.services.refunds.resumeInterrupted({ olderThanMs: 0 })).toEqual({ completed: 0, failed: 0, retrying: 0 });
    expect(await stockOf(mug)).toBe(10);
    expect(simRefunds(saleId)).toHaveLength(1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: 2500 });
    const detail = await env.admin.client.backoffice.orders.get.query({ orderId: order.id });
    expect(detail.lines.find((l) => l.sku === mug)).toMatchObject({ refundedQuantity: 2, refundedAmount: 2500, pendingRefundQuantity: 0, restockedQuantity: 2 });
    expect(detail.audit.filter((a) => a.action === 'order.lines_refunded')).toHaveLength(1);
  });
});
