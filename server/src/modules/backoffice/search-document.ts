import { orderBatchesProcedure } from '../../db/backfill.js';
import { rowTrigger, type TriggerEvent } from '../../db/triggers.js';

/*
 * The back office searches an order by fragments of what staff have at hand: its id, the customer
 * id, the customer's and the PayPal payer's email and name, PayPal payment and sale ids, and the sku
 * and product name of its lines. They are written, lower case, one per line, into one document per
 * order (order_search.document), and a trigram GIN index finds any fragment of 3+ characters in it.
 *
 * Why a table of its own beside "order": "order" is updated on every status change and carries ten
 * indexes. A document column there would add its trigrams to the GIN index on each of those updates,
 * and each document change would add an entry to all ten. Here a status change leaves the document
 * alone (it rewrites only the status its postings carry: search-values.ts), and a document change
 * touches this table's two indexes.
 *
 * The database keeps the document current (the triggers below), so every writer is covered: order
 * creation (both paths), the attempt's PayPal ids and payer, the order's customer. Each trigger
 * fires only when a field of the document changed (its WHEN clause), and writes only when the
 * document did. A payment's success writes it once (from the attempt's sale id and payer): the
 * order's copies of those are not in it (test: tests/backoffice/search-document-writes.test.ts).
 * Measured on 1M seeded orders, 60 payment successes rolled back, old and new triggers alternating
 * (load ~10 on 2 cores): before, 3 trigger runs recomputing the document and 2 writes, 10.5 ms of
 * trigger time per payment; now 1 run and 1 write, 4.9 ms (both statements: 15.7 → 9.7 ms). Cart lines never change once their cart is checked out, and the paid snapshot (order_line)
 * copies them, so lines are read from the cart.
 *
 * Measured (1M seeded orders, 2 shared cores at load average ~17, so every figure is inflated
 * several times; the bench's own "all orders" case took p95 193 ms there): inserting an order costs
 * ~0.9–1.1 ms per row with the trigger against ~0.3 without (about half of the difference is the
 * trigram index); a status update costs the same as before (the trigger does not fire). Searches:
 * number prefixes and rare fragments 30–130 ms p95, a fragment in 0.1–2 % of orders ("mug-04",
 * "ceramic mug", "uller") 190–1,160 ms: a walk newest first pays two random reads per order (order,
 * then its document), the sort of the matches one per match. Hence order_search also carries the
 * order's created_at (set once on insert: it never changes, so no trigger on updates) with
 * order_search_created_idx (created_at desc, order_id desc): newest first, both walk and sort stay
 * in this table and "order" is read for the page's rows (order-search.ts). Measured on 300,000
 * seeded orders (same busy machine, old → new p95): "mug-04" 1,291 → 61 ms, "walnut" + EUR + 90 d
 * 503 → 61 ms, "mug" + failed 596 → 377 ms (status is only on "order": each match is still looked
 * up there). Status is not copied into the document: a status change would then rewrite this row and,
 * not HOT, its trigram entries (the postings carry it instead, Migration20261203120000_posting_status).
 *
 * The row carries the order's status beside the document (order_search.status, kept by the status
 * trigger on "order": search-values.ts), with order_search_status_idx (status, created_at,
 * order_id): a common fragment with a status, newest first, walks the documents of that status
 * and checks each in place, where walking "order" by status looked each order's document up by
 * primary key (order-search.ts, the 'status' walk). Measured at 1,000,000 orders (EXPLAIN ANALYZE, warm,
 * median of 40 alternating): "mug" + failed, 1,051 orders walked for a page of 51, 4,374 → 932 buffers,
 * 1.97 → 0.82 ms. The trigram index is on the values, not here, so a status change rewrites this row
 * (its three btree entries) and no trigram.
 */

/**
 * Fills order_search.status from "order", `batch` orders per transaction (a migration's), each batch's
 * orders locked first: a status change meanwhile either waits for the batch or was committed before
 * its read, so the fill never writes a status over a newer one (orderBatchesProcedure).
 */
export const SEARCH_STATUS_FILL = (batch: number) =>
  orderBatchesProcedure(
    'order_search_status_fill',
    batch,
    `update order_search s set status = o.status from "order" o
     where o.id > last and o.id <= upto and s.order_id = o.id and s.status is distinct from o.status`,
  );

/** The document of the order aliased `o`: the SQL expression, also used to fill the table in bulk. */
export const SEARCH_DOCUMENT = `lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id)))`;

const refresh = (orderId: string) => `update order_search s set document = d.document
      from (select ${SEARCH_DOCUMENT} as document from "order" o where o.id = ${orderId}) d
     where s.order_id = ${orderId} and s.document is distinct from d.document;`;

const trigger = (table: string, name: string, event: TriggerEvent, when: string | null, body: string) => rowTrigger(table, name, [event], when, body);

const changed = (columns: string[]) => columns.map((c) => `old.${c} is distinct from new.${c}`).join(' or ');

// Not the order's payer copy nor its payment_transaction_id: both only repeat the paying attempt's
// payer and sale id (attempt.transitions.ts copies the payer, transitionToPaid the sale id), which
// the document has from the attempt. With them, a payment's success rewrote the document twice.
const ORDER_FIELDS = ['customer_id', 'customer_email', 'customer_name'];
const ATTEMPT_FIELDS = ['external_id', 'sale_id', 'payer_email', 'payer_name'];

/** Triggers on "order": a new order gets its document (its cart's lines are in place by then). */
export const ORDER_SEARCH_TRIGGERS = [
  trigger('order', 'order_search_insert', 'insert', null,
    `insert into order_search (order_id, document, created_at, status) select o.id, ${SEARCH_DOCUMENT}, o.created_at, o.status from "order" o where o.id = new.id;`),
  trigger('order', 'order_search_update', 'update', changed(ORDER_FIELDS), refresh('new.id')),
];

/** Triggers on order_payment_attempt: PayPal ids and the payer, as they become known. */
export const ATTEMPT_SEARCH_TRIGGERS = [
  trigger('order_payment_attempt', 'attempt_search_insert', 'insert', ATTEMPT_FIELDS.map((c) => `new.${c} is not null`).join(' or '), refresh('new.order_id')),
  trigger('order_payment_attempt', 'attempt_search_update', 'update', changed(ATTEMPT_FIELDS), refresh('new.order_id')),
];
