import { orderBatchesProcedure } from '../../db/backfill.js';
import { rowTrigger } from '../../db/triggers.js';

/*
 * The back-office list shows each order's PayPal payment id and, until the order is paid, the payer
 * of its latest attempt. "order" carries both (latest_attempt_external_id, latest_attempt_payer_email),
 * kept by the trigger below, so a page reads "order" alone. It used to look each row's latest attempt
 * up (a lateral join on attempt_order_idx): 4 buffers a row, 204 of a 51-row page's ~260 and 404 of
 * a 101-row page's ~500, at 1,000,000 orders. Measured there, 60 calls each way alternating, the
 * 101-row "all orders" page's statement over a warm connection: 1.40 → 1.10 ms at p50 back to back,
 * 2.70 → 1.95 ms with 150 ms between calls (the pause that makes every buffer a cache miss). A covering
 * index on the attempts (INCLUDE the two columns) read 3 buffers a row and gained nothing measurable.
 *
 * The trigger reads the latest attempt afresh (created_at, then id, as the search document orders
 * them) rather than trusting the row it fires for, and writes only when a column changes. Every writer
 * of an attempt holds its order FOR NO KEY UPDATE first (lockOrderAndAttempt, checkout), so the
 * attempts it reads are final for that order, and its update of "order" takes no lock it does not
 * hold. Neither column is indexed and neither is watched by "order"'s own triggers: the write adds a
 * row version, nothing else. Attempts are never deleted nor moved to another order.
 */

/** The latest attempt's values for the order `orderId` (an SQL expression), set on "order" when they differ. */
const refresh = (orderId: string) => `update "order" o set latest_attempt_external_id = l.external_id, latest_attempt_payer_email = l.payer_email
      from (select a.external_id, a.payer_email from order_payment_attempt a where a.order_id = ${orderId} order by a.created_at desc, a.id desc limit 1) l
     where o.id = ${orderId}
       and (o.latest_attempt_external_id is distinct from l.external_id or o.latest_attempt_payer_email is distinct from l.payer_email);`;

export const LATEST_ATTEMPT_TRIGGERS = [
  rowTrigger('order_payment_attempt', 'attempt_latest_insert', ['insert'], null, refresh('new.order_id')),
  rowTrigger(
    'order_payment_attempt',
    'attempt_latest_update',
    ['update'],
    'old.external_id is distinct from new.external_id or old.payer_email is distinct from new.payer_email',
    refresh('new.order_id'),
    { updateOf: ['external_id', 'payer_email'] },
  ),
];

/**
 * Fills the columns of orders already there, BATCH orders per transaction in id order: each batch's
 * orders are locked first (FOR NO KEY UPDATE, as attempt writers do), so an attempt written meanwhile
 * is either in the batch's read or sets the columns itself after it. Orders without an attempt are
 * left alone (both columns are null).
 */
export const LATEST_ATTEMPT_FILL = (batch: number) =>
  orderBatchesProcedure(
    'order_latest_attempt_fill',
    batch,
    `update "order" o set latest_attempt_external_id = l.external_id, latest_attempt_payer_email = l.payer_email
      from (select distinct on (a.order_id) a.order_id, a.external_id, a.payer_email from order_payment_attempt a
             where a.order_id > last and a.order_id <= upto order by a.order_id, a.created_at desc, a.id desc) l
     where o.id = l.order_id
       and (o.latest_attempt_external_id is distinct from l.external_id or o.latest_attempt_payer_email is distinct from l.payer_email)`,
  );
