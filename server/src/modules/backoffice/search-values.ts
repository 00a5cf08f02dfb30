import { rowTrigger } from '../../db/triggers.js';

/*
 * What the trigram index of the back-office search reads: every distinct value (line) of every search
 * document once (order_search_value, its trigram index), and which orders hold it
 * (order_search_posting: value, the order's created_at, the order; and, carried in its key's INCLUDE,
 * the order's status and currency, so that a fragment with those filters is answered there too:
 * Migration20261203120000_posting_status).
 *
 * Why not the trigram index of the documents themselves: a document is its order's ids, customer,
 * payer, PayPal ids, skus and product names, so the trigrams of common values are in most of them.
 * Finding "mug-04" intersected posting lists of 50,000 to 1,000,000 documents ("mug", and "  0", the
 * start of every uuid): 14–17 ms in the index at 1,000,000 orders, then each of the 4,114 candidates
 * rechecked in its heap page (~2 µs each) and sorted by date. Here "mug-04" is found in the values:
 * a product name, a sku or a payer email is one row however many orders hold it, so the index reads
 * posting lists of values (4 of them match), and the orders come from order_search_posting's primary
 * key (value_id, created_at, order_id) without reading a table: index-only, ~0.2 µs an order, counted
 * and sorted there. Measured at 1,000,000 orders (EXPLAIN ANALYZE, warm), the whole statement against
 * the documents' index: "mug-04" (3,394 orders) 23 → 5.8 ms, "ceramic mug" (1,044) 15 → 1.9,
 * "amelia rob" (547) 6.7 → 2.2, "melia.robin" (263) 8.6 → 1.8.
 *
 * A fragment never spans two values (staff type one line, the input has no line breaks, and values
 * are joined by line breaks), so "the document contains it" and "one of its values contains it" are
 * the same. Values are cut to VALUE_LENGTH characters (a btree key holds ~2,700 bytes); no field the
 * document is made of is that long.
 *
 * The database keeps both tables current from the document (the triggers on order_search below): a
 * document written adds its new values and postings, one rewritten removes the postings of values it
 * no longer has. Values are inserted in order (two orders bringing the same new values wait for each
 * other, never deadlock) and never deleted (a value no order holds any more is only a row the index
 * finds and no posting follows). A migration fills both from the documents already there, in batches
 * (Migration20261130234153_search_values_fill); the bench's bulk seed, which writes with triggers off,
 * fills them with FILL_SEARCH_VALUES.
 *
 * The tables are defined by their migration (Migration20261130234152_search_values), not as entities:
 * nothing reads or writes them through the ORM, and one more entity in the ORM's types makes the
 * client package's declaration build run out of memory (see sale-ledger.ts).
 */
export const SEARCH_VALUE_TABLES = ['order_search_value', 'order_search_posting'];

/** Values longer than this are kept by their first VALUE_LENGTH characters. */
export const VALUE_LENGTH = 600;

/**
 * The distinct values of a document, in order, each cut to VALUE_LENGTH: a SQL function of the
 * database (created by the migration), used by the triggers and FILL_SEARCH_VALUES alike.
 */
export const DOCUMENT_VALUES_FUNCTION = `create or replace function search_document_values(document text) returns text[]
  language sql immutable parallel safe
  as $$ select array(select distinct left(l, ${VALUE_LENGTH}) from unnest(string_to_array(document, E'\\n')) l where l <> '' order by 1) $$`;

/** The document `row`'s values that `other` does not have (all of them when `other` is null). */
const only = (row: string, other: string | null) =>
  other === null
    ? `search_document_values(${row}.document)`
    : `array(select unnest(search_document_values(${row}.document)) except select unnest(search_document_values(${other}.document)) order by 1)`;

/**
 * The postings of `values` for the document's order, with the order's status and currency. `lock`:
 * the order's row FOR SHARE while they are read (a document rewritten in a transaction that holds
 * the order, as every writer does, takes nothing more; see POSTING_STATUS_TRIGGER). A new document's
 * order was inserted by the same statement, where no other transaction can change it.
 */
const add = (values: string, lock: boolean) => `insert into order_search_value (value) select v from unnest(${values}) v order by v on conflict (value) do nothing;
    insert into order_search_posting (value_id, created_at, order_id, status, currency)
      select v.id, new.created_at, new.order_id, o.status, o.currency from order_search_value v, "order" o
       where o.id = new.order_id and v.value = any(${values})${lock ? ' for share of o' : ''} on conflict do nothing;`;

/** On order_search: a new document's values; a rewritten one's new values, and its removed values' postings gone. */
export const SEARCH_VALUE_TRIGGERS = [
  rowTrigger('order_search', 'order_search_values_insert', ['insert'], null, add(only('new', null), false)),
  rowTrigger(
    'order_search',
    'order_search_values_update',
    ['update'],
    'old.document is distinct from new.document',
    `delete from order_search_posting p using order_search_value v
      where v.value = any(${only('old', 'new')}) and p.value_id = v.id and p.created_at = new.created_at and p.order_id = new.order_id;
    ${add(only('new', 'old'), true)}`,
  ),
];

/**
 * On "order": a status change rewrites the status its search row carries (order_search.status:
 * search-document.ts) and its postings carry, found through its document's values (one index descent
 * each, ~8 postings). Why the postings are current: every transaction that
 * rewrites a document holds its order's row (the document's own writers update "order" or lock it
 * first: lockOrderAndAttempt, the checkout's PayPal id), and a status change holds it too, so the two
 * never run side by side; the postings a rewrite adds read the order's status under that lock (FOR
 * SHARE, nothing more when the row is already held), and a status change committed after them finds
 * them. A writer that did not hold the order would wait here rather than write a stale status.
 */
export const POSTING_STATUS_TRIGGER = rowTrigger(
  'order',
  'order_search_posting_status',
  ['update'],
  'old.status is distinct from new.status',
  `with s as (update order_search set status = new.status where order_id = new.id returning document, created_at)
    update order_search_posting p set status = new.status
      from s, order_search_value v
     where v.value = any(search_document_values(s.document))
       and p.value_id = v.id and p.created_at = s.created_at and p.order_id = new.id;`,
  { updateOf: ['status'] },
);

/**
 * Fills both tables from every document in order_search (what the triggers would have written), for a
 * bulk load with triggers off (the bench's seed): values in order, then postings in their key's order,
 * so each btree grows at its right edge; anything already there is kept.
 */
export const FILL_SEARCH_VALUES = [
  `insert into order_search_value (value)
     select distinct v from order_search s, unnest(search_document_values(s.document)) v order by 1
   on conflict (value) do nothing`,
  `insert into order_search_posting (value_id, created_at, order_id, status, currency)
     select v.id, s.created_at, s.order_id, o.status, o.currency
       from order_search s cross join lateral unnest(search_document_values(s.document)) l
       join order_search_value v on v.value = l
       join "order" o on o.id = s.order_id
      order by 1, 2, 3
   on conflict do nothing`,
];
