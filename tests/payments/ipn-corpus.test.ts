import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Currency, Discrepancy } from '@orders/shared';
import { SIMULATOR_RECEIVER_EMAIL } from '@orders/server/paypal/setup.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { ipnEvents, newCaseIpnFields, pendingOrder, waitFor, type StoredEvent } from '../support/paypal-server.ts';
import { loadIpnCorpus, rewriteIpn, type CorpusEntry } from './corpus/corpus.ts';

/*
 * Real IPN messages from other projects' test suites (tests/payments/corpus), posted to
 * `POST /paypal/ipn` in the orders and reorders PayPal really produces: refunds and chargebacks
 * before their sale, duplicates, resends, cancelled chargebacks, pending sales, odd statuses and
 * amounts. Only the fields that must match an order this test created are rewritten (receiver,
 * txn ids, amount and currency, invoice/custom); every other byte is the corpus's.
 *
 * Verification: the simulator's control API registers a body as genuine only through sendIpn(fields),
 * which re-serialises the fields with URLSearchParams — so it can vouch for a corpus body only when
 * that body is already in URLSearchParams' canonical form (09, 10, 15, 16, 17 are). windows-1252
 * bodies (`J%F6rg`), IPN-simulator bodies (`%20`) and bodies with a raw `@` cannot be produced that
 * way. The server is therefore given a postback URL (PAYPAL_IPN_VERIFY_URL) served by this test: it
 * answers VERIFIED for exactly the bytes the test posted as PayPal (byte-for-byte, as PayPal does),
 * and hands every other postback to the simulator unchanged — so canonical bodies sent through
 * `control.sendIpn` (with its duplicates and reordering) verify there. A body altered by one byte
 * is INVALID either way.
 *
 * After each scenario the books are checked as an accountant would: one capture, each refund or
 * chargeback counted once, the order's status and refunded amount equal to what the ledger
 * (money_movement) says, nothing left `received`, and every flagged event listed in reconciliation.
 */

let env: BackofficeTestEnv;
let viewer: StaffSession;
let notifyUrl: string;
let verifier: Server;
/** Bodies this test posted as PayPal (latin1: one char per byte). */
const genuine = new Set<string>();
const corpus = loadIpnCorpus();

function entry(prefix: string): CorpusEntry {
  const found = corpus.find((e) => e.file.startsWith(`ipn/${prefix}-`));
  if (!found) throw new Error(`corpus entry ${prefix} is missing`);
  return found;
}

const txnId = () => randomBytes(12).toString('hex').toUpperCase().slice(0, 17);

/** Field names present in a raw body (names are ASCII in the corpus). */
function fieldNames(body: Buffer): Set<string> {
  return new Set(
    body
      .toString('latin1')
      .split('&')
      .map((pair) => decodeURIComponent(pair.split('=')[0]!.replace(/\+/g, ' '))),
  );
}

interface OrderRef {
  orderId: string;
  attemptId: string;
  total: number;
  currency: Currency;
}

/**
 * A corpus message made to match `order`: the receiver becomes ours (in whichever of receiver_email
 * and business the message has), invoice/custom name the attempt and the order, and the caller's
 * txn ids and amount are set. Nothing else changes.
 */
function corpusIpn(prefix: string, order: OrderRef | null, changes: Record<string, string | null>): Buffer {
  const { body } = entry(prefix);
  const names = fieldNames(body!);
  const receiver: Record<string, string> = {};
  for (const name of ['receiver_email', 'business']) if (names.has(name)) receiver[name] = SIMULATOR_RECEIVER_EMAIL;
  const owner: Record<string, string> = order ? { invoice: order.attemptId, custom: order.orderId, mc_currency: order.currency } : {};
  return rewriteIpn(body!, { ...receiver, ...owner, ...changes });
}

/**
 * A chargeback: no corpus source with a permissive licence has a Reversed IPN, so the MIT-licensed
 * Canceled_Reversal message (11) is sent with its status and reason as PayPal writes them for a reversal.
 */
function reversalIpn(order: OrderRef | null, changes: Record<string, string | null>): Buffer {
  return corpusIpn('11', order, { payment_status: 'Reversed', reason_code: 'chargeback', ...changes });
}

/** The decimal PayPal writes for `minor` units (every currency used here has two decimals). */
const decimal = (minor: number) => `${minor < 0 ? '-' : ''}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;

/** PayPal posting `body` to our listener, byte for byte; the postback will vouch for exactly these bytes. */
async function postAsPaypal(body: Buffer): Promise<void> {
  genuine.add(body.toString('latin1'));
  const response = await fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  expect(response.status).toBe(200);
}

/** Someone who is not PayPal posting `body`: the postback does not vouch for it. */
async function postForged(body: Buffer): Promise<void> {
  const response = await fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  expect(response.status).toBe(200);
}

/** Waits until `count` IPNs carry `txn` (as txn_id) and none of them waits for its job any more. */
async function settled(txn: string, count = 1): Promise<StoredEvent[]> {
  let last: StoredEvent[] = [];
  return waitFor(
    async () => {
      last = await ipnEvents(env.pool, 'txn_id = $1', [txn]);
      return last.length >= count && last.every((e) => e.processing !== 'received') ? last : undefined;
    },
    30_000,
    `${count} IPN(s) for txn ${txn} to be processed`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; have ${last.map((e) => e.processing).join(', ') || 'none'}`);
  });
}

/** Posts `body` as PayPal `times` times at once (PayPal's resends are the same bytes) and waits for all of them. */
async function deliver(body: Buffer, txn: string, times = 1): Promise<StoredEvent[]> {
  const before = (await ipnEvents(env.pool, 'txn_id = $1', [txn])).length;
  await Promise.all(Array.from({ length: times }, () => postAsPaypal(body)));
  return settled(txn, before + times);
}

async function newOrder(options: { unitPrice?: number; quantity?: number; currency?: Currency } = {}): Promise<OrderRef> {
  const { customer, order } = await pendingOrder(env.client, { unitPrice: 1250, quantity: 2, ...options });
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  return { orderId: order.id, attemptId: attempt.attemptId, total: order.total, currency: order.currency };
}

interface OrderBooks {
  status: string;
  total: number;
  refundedAmount: number;
  paymentStatus: string | null;
  saleId: string | null;
  movements: { kind: string; amount: number; state: string; sale_id: string; provider_txn_id: string }[];
  events: StoredEvent[];
}

async function books(order: OrderRef, saleIds: string[]): Promise<OrderBooks> {
  const { rows: orders } = await env.pool.query(
    'select status, total, refunded_amount, payment_status, payment_transaction_id from "order" where id = $1',
    [order.orderId],
  );
  const o = orders[0]!;
  const { rows: movements } = await env.pool.query(
    `select kind, amount, state, sale_id, provider_txn_id from money_movement where order_id = $1 or sale_id = any($2::text[]) order by created_at, id`,
    [order.orderId, saleIds],
  );
  const events = await ipnEvents(env.pool, 'order_id = $1 or txn_id = any($2::text[]) or parent_txn_id = any($2::text[])', [order.orderId, saleIds]);
  return {
    status: o.status,
    total: o.total,
    refundedAmount: o.refunded_amount,
    paymentStatus: o.payment_status,
    saleId: o.payment_transaction_id,
    movements,
    events,
  };
}

async function reconciliation(stuckAfterMinutes?: number): Promise<Discrepancy[]> {
  return (await viewer.client.backoffice.reconciliation.list.query({ limit: 500, ...(stuckAfterMinutes ? { stuckAfterMinutes } : {}) })).items;
}

/**
 * What an accountant checks: the money taken once (one applied capture of the total on one sale),
 * every refund/chargeback counted once, the order's refunded amount and status exactly what the
 * applied ledger rows say, nothing left waiting for its job, and every flagged event of the order
 * listed in reconciliation.
 */
async function assertBooks(
  order: OrderRef,
  saleIds: string[],
  expected: { status: string; returned: number; flags?: string[]; listed?: string[]; captured?: number },
): Promise<OrderBooks> {
  const b = await books(order, saleIds);
  const applied = b.movements.filter((m) => m.state === 'applied');
  const captures = applied.filter((m) => m.kind === 'capture');
  const captured = expected.captured ?? (['pending', 'failed', 'cancelled'].includes(expected.status) ? 0 : order.total);
  // Money taken once.
  expect(captures.map((m) => m.amount)).toEqual(captured === 0 ? [] : [captured]);
  if (captured > 0) expect(captures[0]!.provider_txn_id).toBe(b.saleId);
  // Money returned once: one ledger row per PayPal transaction, the total as expected.
  const txns = b.movements.map((m) => m.provider_txn_id);
  expect(new Set(txns).size).toBe(txns.length);
  const sum = (kind: string) => applied.filter((m) => m.kind === kind).reduce((s, m) => s + m.amount, 0);
  // A cancellation gives back reversed money only: one with nothing to cancel takes nothing from a refund.
  const returned = sum('refund') + Math.max(0, sum('reversal') - sum('reversal_canceled'));
  expect(returned).toBe(expected.returned);
  // The order says what the ledger says.
  expect({ status: b.status, refundedAmount: b.refundedAmount }).toEqual({ status: expected.status, refundedAmount: expected.returned });
  const derived = captured === 0 ? b.status : returned === 0 ? 'paid' : returned === b.total ? 'refunded' : 'partially_refunded';
  expect(b.status).toBe(derived);
  // Nothing stuck.
  expect(b.events.filter((e) => e.processing === 'received')).toEqual([]);
  expect(b.movements.filter((m) => m.state === 'parked')).toEqual([]);
  // Every disagreement listed, and only those expected.
  const flagged = b.events.filter((e) => e.processing === 'flagged');
  expect(flagged.map((e) => e.flag_kind).sort()).toEqual([...(expected.flags ?? [])].sort());
  if (flagged.length > 0) {
    const listed = new Set((await reconciliation()).map((d) => d.id));
    for (const e of flagged) expect(listed, `flagged event ${e.flag_kind}:${e.id} listed`).toContain(`${e.flag_kind}:${e.id}`);
  }
  // What the sale's ledger adds up to wrongly (a cancellation with no reversal to cancel) is listed too.
  const orderItems = (await reconciliation()).filter((d) => d.orderId === order.orderId).map((d) => d.kind);
  for (const kind of expected.listed ?? []) expect(orderItems, `${kind} listed for the order`).toContain(kind);
  return b;
}

/** Per processing state, how many IPNs of `txn` ended there. */
async function processingOf(txn: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const e of await ipnEvents(env.pool, 'txn_id = $1', [txn])) counts[e.processing] = (counts[e.processing] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  // The postback URL the server is given: VERIFIED for the exact bytes this test posted as PayPal,
  // anything else is asked of the simulator (which knows what it sent itself), byte for byte.
  let simulatorVerifyUrl = '';
  verifier = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const prefix = 'cmd=_notify-validate&';
      const text = raw.toString('latin1');
      const answer = (verdict: string) => res.writeHead(200, { 'content-type': 'text/plain' }).end(verdict);
      if (text.startsWith(prefix) && genuine.has(text.slice(prefix.length))) return answer('VERIFIED');
      fetch(simulatorVerifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw })
        .then((r) => r.text())
        .then(answer, () => res.writeHead(503).end());
    });
  });
  await new Promise<void>((resolve) => verifier.listen(0, '127.0.0.1', resolve));
  const { port } = verifier.address() as AddressInfo;
  env = await startBackofficeEnv({ PAYPAL_IPN_VERIFY_URL: `http://127.0.0.1:${port}/cgi-bin/webscr` });
  simulatorVerifyUrl = env.sim.ipnVerifyUrl;
  notifyUrl = `${env.server.url}/paypal/ipn`;
  viewer = await env.staff('viewer');
}, 60_000);
afterAll(async () => {
  await env?.close();
  verifier?.closeAllConnections();
  await new Promise<void>((resolve) => (verifier ? verifier.close(() => resolve()) : resolve()));
});

describe('real IPN messages, in the orders PayPal sends them', () => {
  it('windows-1252 Completed then Refunded (full), each resent: verified byte for byte, money taken once and returned once', async () => {
    const order = await newOrder();
    const sale = txnId();
    const refund = txnId();
    const completed = corpusIpn('01', order, { txn_id: sale, mc_gross: decimal(order.total) });
    // The windows-1252 byte of "Jörg" is kept as it was: the body is not what URLSearchParams would write.
    expect(completed.toString('latin1')).toContain('first_name=J%F6rg');
    expect(new URLSearchParams(completed.toString('latin1')).toString()).not.toBe(completed.toString('latin1'));

    // One byte re-encoded (ö as UTF-8): the postback says INVALID; stored, never acted on.
    await postForged(Buffer.from(completed.toString('latin1').replace('J%F6rg', 'J%C3%B6rg'), 'latin1'));
    const [forged] = await settled(sale);
    expect(forged).toMatchObject({ verification: 'invalid', processing: 'ignored' });

    const events = await deliver(completed, sale, 2);
    const genuineEvents = events.filter((e) => e.verification === 'verified');
    expect(genuineEvents).toHaveLength(2);
    for (const e of genuineEvents) expect(Buffer.from(e.raw_body).equals(completed)).toBe(true);
    expect((await processingOf(sale)).processed).toBe(1);
    await assertBooks(order, [sale], { status: 'paid', returned: 0 });

    const refunded = corpusIpn('10', order, { txn_id: refund, parent_txn_id: sale, mc_gross: decimal(-order.total) });
    await deliver(refunded, refund, 1);
    await deliver(refunded, refund, 2); // PayPal resends it: the same bytes, later, twice at once
    expect(await processingOf(refund)).toEqual({ processed: 1, duplicate: 2 });
    const b = await assertBooks(order, [sale], { status: 'refunded', returned: order.total });
    expect(b.movements.map((m) => [m.kind, m.amount, m.provider_txn_id])).toEqual([
      ['capture', order.total, sale],
      ['refund', order.total, refund],
    ]);
  });

  it('Refunded before Completed: the refund is parked (listed after a while), applied when the sale lands', async () => {
    const order = await newOrder();
    const sale = txnId();
    const refund = txnId();
    const refunded = corpusIpn('10', order, { txn_id: refund, parent_txn_id: sale, mc_gross: '-4.00' });
    const [early] = await deliver(refunded, refund);
    expect(early).toMatchObject({ verification: 'verified', processing: 'parked' });
    // While it waits, it is on the order its message names (invoice: our attempt id), for staff to see.
    expect(early!.order_id).toBe(order.orderId);
    const detail = await viewer.client.backoffice.orders.get.query({ orderId: order.orderId });
    expect(detail.events.map((e) => [e.txnId, e.processing])).toContainEqual([refund, 'parked']);
    expect(await books(order, [sale])).toMatchObject({ status: 'pending', refundedAmount: 0, movements: [{ kind: 'refund', amount: 400, state: 'parked' }] });
    // Waiting past the threshold, it is listed for staff (made old rather than waited for).
    await env.pool.query(`update money_movement set created_at = now() - interval '5 minutes' where provider_txn_id = $1`, [refund]);
    const parked = (await reconciliation(1)).filter((d) => d.kind === 'parked_movement' && d.eventId === early!.id);
    expect(parked).toMatchObject([{ amount: 400, currency: 'USD', detail: expect.stringMatching(new RegExp(`^refund of \\$4\\.00 for sale ${sale}, which PayPal has not confirmed to us`)), orderId: order.orderId, attemptId: order.attemptId, orderStatus: 'pending' }]);

    await deliver(refunded, refund); // a resend while parked: counted once
    const completed = corpusIpn('07', order, { txn_id: sale, mc_gross: decimal(order.total) });
    await deliver(completed, sale);
    await deliver(completed, sale); // and the sale's own resend
    await assertBooks(order, [sale], { status: 'partially_refunded', returned: 400 });
    expect(await processingOf(refund)).toEqual({ processed: 1, duplicate: 1 });
    expect(await processingOf(sale)).toEqual({ processed: 1, duplicate: 1 });
    expect((await reconciliation(1)).filter((d) => d.kind === 'parked_movement' && d.eventId === early!.id)).toEqual([]);
  });

  it('Reversed (chargeback) before Completed is not lost: the order ends refunded and the ledger holds the reversal', async () => {
    const order = await newOrder();
    const sale = txnId();
    const reversal = txnId();
    const reversed = reversalIpn(order, { txn_id: reversal, parent_txn_id: sale, mc_gross: decimal(-order.total) });
    const [early] = await deliver(reversed, reversal, 2);
    expect((await processingOf(reversal)).parked).toBe(1);
    await env.pool.query(`update money_movement set created_at = now() - interval '5 minutes' where provider_txn_id = $1`, [reversal]);
    expect((await reconciliation(1)).some((d) => d.kind === 'parked_movement' && d.detail.includes(sale))).toBe(true);
    void early;

    const completed = corpusIpn('03', order, { txn_id: sale, mc_gross: decimal(order.total) });
    await deliver(completed, sale);
    const b = await assertBooks(order, [sale], { status: 'refunded', returned: order.total });
    expect(b.movements.map((m) => [m.kind, m.amount, m.state])).toEqual([
      ['reversal', order.total, 'applied'],
      ['capture', order.total, 'applied'],
    ]);
    expect(await processingOf(reversal)).toEqual({ processed: 1, duplicate: 1 });
  });

  it('the order\'s payment status does not depend on which came first: a chargeback before or after its sale, a refund before its sale', async () => {
    const statusAfter = async (first: 'sale' | 'money', kind: 'reversal' | 'refund') => {
      const order = await newOrder();
      const sale = txnId();
      const money = txnId();
      const moneyIpn =
        kind === 'reversal'
          ? reversalIpn(order, { txn_id: money, parent_txn_id: sale, mc_gross: decimal(-order.total) })
          : corpusIpn('10', order, { txn_id: money, parent_txn_id: sale, mc_gross: '-4.00' });
      const completed = corpusIpn('03', order, { txn_id: sale, mc_gross: decimal(order.total) });
      for (const [body, txn] of first === 'sale' ? [[completed, sale], [moneyIpn, money]] as const : [[moneyIpn, money], [completed, sale]] as const) await deliver(body, txn);
      return (await books(order, [sale])).paymentStatus;
    };
    expect(await statusAfter('sale', 'reversal')).toBe('reversed (chargeback)');
    expect(await statusAfter('money', 'reversal')).toBe('reversed (chargeback)');
    expect(await statusAfter('sale', 'refund')).toBe('refunded');
    expect(await statusAfter('money', 'refund')).toBe('refunded');
  });

  it('Reversed → Canceled_Reversal → a second Canceled_Reversal (new txn): the second gives nothing back and is listed as no_open_reversal', async () => {
    const order = await newOrder();
    const sale = txnId();
    await deliver(corpusIpn('09', order, { txn_id: sale, mc_gross: decimal(order.total) }), sale);
    const reversal = txnId();
    await deliver(reversalIpn(order, { txn_id: reversal, parent_txn_id: sale, mc_gross: decimal(-order.total) }), reversal);
    await assertBooks(order, [sale], { status: 'refunded', returned: order.total });
    const cancel = txnId();
    const canceled = corpusIpn('11', order, { txn_id: cancel, parent_txn_id: sale, mc_gross: decimal(order.total) });
    await deliver(canceled, cancel, 2);
    await assertBooks(order, [sale], { status: 'paid', returned: 0 });
    const again = txnId();
    const [second] = await deliver(corpusIpn('11', order, { txn_id: again, parent_txn_id: sale, mc_gross: decimal(order.total) }), again);
    // Recorded (PayPal said it), counted for nothing: there is no reversal left for it to cancel.
    expect(second).toMatchObject({ processing: 'processed' });
    await assertBooks(order, [sale], { status: 'paid', returned: 0, listed: ['no_open_reversal'] });
    // Staff read money as money, in the order's currency, never raw minor units.
    const item = (await reconciliation()).find((d) => d.kind === 'no_open_reversal' && d.orderId === order.orderId);
    expect(item?.detail).toBe(`PayPal cancelled $50.00 of chargebacks on sale ${sale}, which has $25.00 reversed: the cancellation waits for its reversal and gives nothing back`);
  });

  it('refunds adding up to more than the sale captured are listed, their amounts written as money (JPY without decimals)', async () => {
    const order = await newOrder({ currency: 'JPY', unitPrice: 2500, quantity: 1 });
    const sale = txnId();
    await deliver(corpusIpn('09', order, { txn_id: sale, mc_gross: '2500' }), sale);
    const [first, second] = [txnId(), txnId()];
    await deliver(corpusIpn('10', order, { txn_id: first, parent_txn_id: sale, mc_gross: '-2000' }), first);
    await deliver(corpusIpn('10', order, { txn_id: second, parent_txn_id: sale, mc_gross: '-1000' }), second);
    const item = (await reconciliation()).find((d) => d.kind === 'refund_exceeds_total' && d.orderId === order.orderId);
    expect(item).toMatchObject({ amount: 500, currency: 'JPY' });
    expect(item?.detail).toBe(`refunds and chargebacks on sale ${sale} add up to ¥3,000, more than the ¥2,500 it captured`);
  });

  it('Refunded 5.00 + Reversed 20.00 + Canceled_Reversal 20.00 → partially refunded 5.00; a second Canceled_Reversal erases nothing', async () => {
    const order = await newOrder();
    const sale = txnId();
    await deliver(corpusIpn('09', order, { txn_id: sale, mc_gross: decimal(order.total) }), sale);
    const refund = txnId();
    await deliver(corpusIpn('10', order, { txn_id: refund, parent_txn_id: sale, mc_gross: '-5.00' }), refund);
    await assertBooks(order, [sale], { status: 'partially_refunded', returned: 500 });
    const reversal = txnId();
    await deliver(reversalIpn(order, { txn_id: reversal, parent_txn_id: sale, mc_gross: '-20.00' }), reversal, 2);
    await assertBooks(order, [sale], { status: 'refunded', returned: 2500 });
    const cancel = txnId();
    await deliver(corpusIpn('11', order, { txn_id: cancel, parent_txn_id: sale, mc_gross: '20.00' }), cancel, 2);
    await assertBooks(order, [sale], { status: 'partially_refunded', returned: 500 });
    const again = txnId();
    await deliver(corpusIpn('11', order, { txn_id: again, parent_txn_id: sale, mc_gross: '20.00' }), again);
    await assertBooks(order, [sale], { status: 'partially_refunded', returned: 500, listed: ['no_open_reversal'] });
  });

  it('Canceled_Reversal before its Reversed, both before the sale: the books end where PayPal\'s do (paid, nothing returned)', async () => {
    const order = await newOrder();
    const sale = txnId();
    const reversal = txnId();
    const cancel = txnId();
    const b0 = await deliver(corpusIpn('11', order, { txn_id: cancel, parent_txn_id: sale, mc_gross: decimal(order.total) }), cancel);
    expect(b0[0]!.processing).toBe('parked');
    await deliver(reversalIpn(order, { txn_id: reversal, parent_txn_id: sale, mc_gross: decimal(-order.total) }), reversal);
    await deliver(corpusIpn('09', order, { txn_id: sale, mc_gross: decimal(order.total) }), sale);
    // PayPal's history is: sale, chargeback, chargeback cancelled: the merchant keeps the whole sale.
    // The cancellation merely arrived first; the books must end where PayPal's do.
    await assertBooks(order, [sale], { status: 'paid', returned: 0 });
  });

  it('Pending (multi_currency) then Completed of the same txn, EUR: pending first, paid once; a late Pending changes nothing', async () => {
    const order = await newOrder({ currency: 'EUR', unitPrice: 167, quantity: 1 });
    const sale = txnId();
    const pending = corpusIpn('02', order, { txn_id: sale, mc_gross: decimal(order.total), payment_status: 'Pending', pending_reason: 'multi_currency' });
    await deliver(pending, sale);
    const after = await books(order, [sale]);
    expect(after).toMatchObject({ status: 'pending', paymentStatus: 'pending', movements: [] });
    const { rows } = await env.pool.query('select status, sale_id, sale_state from order_payment_attempt where id = $1', [order.attemptId]);
    expect(rows[0]).toEqual({ status: 'approved', sale_id: sale, sale_state: 'pending' });

    // Real messages sometimes name the receiver only as receiver_email: this one is sent that way.
    const completed = corpusIpn('02', order, { txn_id: sale, mc_gross: decimal(order.total), business: null, receiver_email: SIMULATOR_RECEIVER_EMAIL });
    expect(fieldNames(completed).has('business')).toBe(false);
    await deliver(completed, sale, 2);
    await deliver(pending, sale); // the Pending resent after the sale completed
    await assertBooks(order, [sale], { status: 'paid', returned: 0 });
    expect(await processingOf(sale)).toEqual({ processed: 2, duplicate: 2 });
  });

  it('Declined and Inflight (undocumented) and Failed/Denied without an amount: no amount_mismatch, nothing paid', async () => {
    // Declined, as the IPN simulator sends it, and without its amount: an unknown status, no action.
    const declinedOrder = await newOrder();
    const declined = txnId();
    const [d] = await deliver(corpusIpn('04', declinedOrder, { txn_id: declined, mc_gross: null, mc_gross1: null }), declined);
    expect(d).toMatchObject({ verification: 'verified', processing: 'ignored', flag_kind: null });
    const inflight = txnId();
    const [i] = await deliver(corpusIpn('04', declinedOrder, { txn_id: inflight, payment_status: 'Inflight', mc_gross: decimal(declinedOrder.total) }), inflight);
    expect(i).toMatchObject({ verification: 'verified', processing: 'ignored', flag_kind: null });
    await assertBooks(declinedOrder, [declined, inflight], { status: 'pending', returned: 0 });

    // The same corpus message with the documented failure statuses (payment_status changed, amount removed).
    for (const status of ['Failed', 'Denied']) {
      const order = await newOrder();
      const txn = txnId();
      const [e] = await deliver(corpusIpn('04', order, { txn_id: txn, payment_status: status, mc_gross: null, mc_gross1: null, mc_currency: null }), txn);
      expect(e, status).toMatchObject({ verification: 'verified', processing: 'processed', flag_kind: null });
      await assertBooks(order, [txn], { status: 'failed', returned: 0 });
      const { rows } = await env.pool.query('select status from order_payment_attempt where id = $1', [order.attemptId]);
      expect(rows[0].status, status).toBe('failed');
    }
    const mismatches = (await reconciliation()).filter((x) => x.kind === 'amount_mismatch');
    expect(mismatches).toEqual([]);
  });

  it('an oversized mc_gross=999999999.99 is flagged unreadable_amount, listed, and does not stay received', async () => {
    const order = await newOrder({ currency: 'CAD' });
    const sale = txnId();
    const [e] = await deliver(corpusIpn('05', order, { txn_id: sale, mc_gross: '999999999.99' }), sale);
    expect(e).toMatchObject({ verification: 'verified', processing: 'flagged', flag_kind: 'unreadable_amount' });
    await assertBooks(order, [sale], { status: 'pending', returned: 0, flags: ['unreadable_amount'] });
    const { rows } = await env.pool.query(`select count(*)::int as n from pgboss.job where name = 'ipn-process' and state in ('created', 'retry', 'active')`);
    expect(rows[0].n).toBe(0);
    expect((await reconciliation()).find((d) => d.id === `unreadable_amount:${e!.id}`)).toMatchObject({ orderId: order.orderId, detail: expect.stringContaining('999999999.99') });
  });

  it('a masspay IPN (no txn_id, no amount) is about no order: kept and listed as unmatched, no money moves', async () => {
    const body = corpusIpn('06', null, { receiver_email: SIMULATOR_RECEIVER_EMAIL });
    const marker = body.toString('latin1');
    genuine.add(marker);
    const before = (await ipnEvents(env.pool, `provider_status = 'Completed' and txn_id is null`)).length;
    await postAsPaypal(body);
    const events = await waitFor(async () => {
      const all = await ipnEvents(env.pool, `provider_status = 'Completed' and txn_id is null`);
      return all.length > before && all.every((x) => x.processing !== 'received') ? all : undefined;
    }, 30_000, 'the masspay IPN');
    const masspay = events.at(-1)!;
    expect(masspay).toMatchObject({ verification: 'verified', order_id: null });
    expect(['unmatched', 'ignored']).toContain(masspay.processing);
    const { rows } = await env.pool.query('select count(*)::int as n from money_movement where event_id = $1', [masspay.id]);
    expect(rows[0].n).toBe(0);
  });

  it('canonical corpus bodies through the simulator itself: duplicated and out of order, each counted once', async () => {
    const order = await newOrder();
    const sale = txnId();
    const refund = txnId();
    const completed = corpusIpn('09', order, { txn_id: sale, mc_gross: decimal(order.total) });
    const refunded = corpusIpn('10', order, { txn_id: refund, parent_txn_id: sale, mc_gross: '-12.50' });
    const fields = (body: Buffer) => {
      const record = Object.fromEntries(new URLSearchParams(body.toString('latin1')));
      // Only a body URLSearchParams writes back identically can be vouched for by sendIpn.
      expect(new URLSearchParams(record).toString()).toBe(body.toString('latin1'));
      return record;
    };
    env.sim.control.setIpnMode({ duplicates: 2, outOfOrder: true });
    try {
      env.sim.control.sendIpn(fields(completed), notifyUrl);
      env.sim.control.sendIpn(fields(refunded), notifyUrl); // released first: the refund reaches us before its sale
      await settled(sale, 3);
      await settled(refund, 3);
    } finally {
      env.sim.control.setIpnMode({ duplicates: 0, outOfOrder: false });
    }
    for (const e of await ipnEvents(env.pool, 'txn_id = any($1::text[])', [[sale, refund]])) {
      expect(e.verification).toBe('verified');
      expect(Buffer.from(e.raw_body).equals(e.txn_id === sale ? completed : refunded)).toBe(true);
    }
    await assertBooks(order, [sale], { status: 'partially_refunded', returned: 1250 });
    expect((await processingOf(sale)).processed).toBe(1);
    expect(Object.values(await processingOf(refund)).reduce((a, b) => a + b, 0)).toBe(3);
    expect((await processingOf(refund)).duplicate).toBe(2);
  });
});

/**
 * Two messages PayPal sends about a sale that move no money here, with the fields (in their order) of
 * real ones quoted in public code: a `new_case` from a Java project's test ("Example of real request":
 * a chargeback case, PP-623-555-536), and a chargeback settlement's `adjustment` from a PHP listener
 * (`mc_gross=-225.00`, `reason_code=chargeback_settlement`, paid by the merchant: no receiver field).
 * Ids, amounts and addresses are this test's; PayPal's own values (dates, versions) are kept.
 */
describe('messages about a sale that move no money', () => {
  async function paidOrder(): Promise<{ order: OrderRef; sale: string }> {
    const order = await newOrder();
    const sale = txnId();
    await deliver(corpusIpn('09', order, { txn_id: sale, mc_gross: decimal(order.total) }), sale);
    await assertBooks(order, [sale], { status: 'paid', returned: 0 });
    return { order, sale };
  }

  it('a dispute PayPal opens (new_case) is listed for staff on its order, and nothing is applied', async () => {
    const { order, sale } = await paidOrder();
    const caseId = `PP-D-${randomBytes(3).toString('hex')}`;
    const newCase = (id: string) =>
      Buffer.from(new URLSearchParams(newCaseIpnFields(sale, { caseId: id, caseType: 'chargeback', reason: 'unauthorized', owner: order })).toString(), 'latin1');
    const events = await deliver(newCase(caseId), sale, 2); // and PayPal's resend
    const cases = events.filter((e) => e.flag_kind === 'dispute_opened');
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ verification: 'verified', processing: 'flagged', order_id: order.orderId });
    expect(await processingOf(sale)).toEqual({ processed: 1, flagged: 1, duplicate: 1 });
    // The order's books are as they were: paid, nothing returned; the case listed on it.
    await assertBooks(order, [sale], { status: 'paid', returned: 0, flags: ['dispute_opened'], listed: ['dispute_opened'] });
    const [item] = (await reconciliation()).filter((d) => d.kind === 'dispute_opened' && d.orderId === order.orderId);
    expect(item!.detail).toContain(`PayPal opened chargeback ${caseId} on sale ${sale} (unauthorized)`);
    // A second case on the same sale is a second item.
    await deliver(newCase(`${caseId}-2`), sale);
    expect((await reconciliation()).filter((d) => d.kind === 'dispute_opened' && d.orderId === order.orderId)).toHaveLength(2);
  });

  it("a chargeback settlement (adjustment paid by our account, no receiver) reaches its sale's order, flagged, and moves nothing", async () => {
    const { order, sale } = await paidOrder();
    const adjustment = txnId();
    const settlement = (payer: string) =>
      Buffer.from(
        new URLSearchParams({
          txn_type: 'adjustment',
          payment_date: '00:43:54 Sep 14, 2021 PDT',
          payment_gross: decimal(-order.total),
          mc_currency: order.currency,
          verify_sign: 'A8ilHWnv7dOdas3cZ5JfRAzLVOX1A8noZ914sb-ywvSevXnrhp8l-L9O',
          payer_status: 'verified',
          payer_email: payer,
          txn_id: adjustment,
          parent_txn_id: sale,
          payer_id: 'LCH38TMA5H5TE',
          reason_code: 'chargeback_settlement',
          payment_status: 'Completed',
          mc_gross: decimal(-order.total),
          custom: order.orderId,
          charset: 'windows-1252',
          notify_version: '3.9',
          ipn_track_id: 'cb080ba6bb24a',
        }).toString(),
        'latin1',
      );
    // Paid by another account: not ours, as before.
    const [other] = await deliver(settlement('someone-else@example.com'), adjustment);
    expect(other).toMatchObject({ processing: 'flagged', flag_kind: 'receiver_mismatch', order_id: null });
    // Paid by ours: on the order, flagged for staff; never a payment, never a refund.
    const [, ours] = await deliver(settlement(SIMULATOR_RECEIVER_EMAIL.toUpperCase()), adjustment);
    expect(ours).toMatchObject({ verification: 'verified', processing: 'flagged', flag_kind: 'amount_mismatch', order_id: order.orderId });
    expect(ours!.outcome).toContain('chargeback_settlement');
    await assertBooks(order, [sale], { status: 'paid', returned: 0, flags: ['amount_mismatch', 'receiver_mismatch'] });
  });
});
