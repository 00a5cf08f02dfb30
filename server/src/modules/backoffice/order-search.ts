import type { RawBuilder } from 'kysely';
import type { BackofficeOrderRow, CustomerType, OrderOrdering, OrderSearchFilter } from '@orders/shared';
import { iso, sql } from '../../db/sql.js';
import { encodeCursor, decodeCursor, type KeysetPosition } from './keyset-cursor.js';
import { documentMatch, exactNumber, isFragmentSearch, orderNumberRanges, textMatch } from './order-text-match.js';

/*
 * The back-office order query. Every filter and sort is answered from an index on "order":
 *  - no filter, date range:   order_created_idx (created_at desc, id desc)
 *  - status:                  order_status_idx / order_status_total_idx; several statuses are one
 *                             ordered index range each, merged (union all + order by + limit)
 *  - customer:                order_customer_idx;  currency: order_currency_idx / _total_idx
 *  - sort by total, amounts:  order_total_idx
 *  - free text:               order-text-match.ts: number prefixes from order_number_unique (the
 *                             exact number listed first), a whole email from attempt_payer_email_idx,
 *                             any other fragment from the values of the search documents and their
 *                             postings (search-values.ts: a rare fragment's few orders, counted and
 *                             sorted there). Newest first, a common fragment's page is found walking
 *                             order_search_created_idx, each document checked in the same heap page
 *                             as its key; with statuses alone, order_search_status_idx the same way
 *                             (order_search carries the status); with other filters only "order" has
 *                             (currency, customer, …), walking "order" through their index, each
 *                             order's document looked up; "order" is read by primary key for the
 *                             page's rows
 * search-page.ts runs these statements for one search (a rare fragment in one statement of its own)
 * and decides how its `total` is known.
 */

export type { OrderOrdering } from '@orders/shared';

/**
 * A back-office row as the query returns it: the customer in two columns, and the timestamps as
 * PostgreSQL's text, kept as is for cursors (a Date would round microseconds away).
 */
export type SearchRow = Omit<BackofficeOrderRow, 'customer'> & { customerType: CustomerType; customerId: string; orderPayerEmail: string | null };

/** Matches above this are estimated by the planner instead of counted. */
export const EXACT_COUNT_LIMIT = 10_000;

export const ROW_COLUMNS = sql`o.id, o.number, o.status, o.total, o.currency, o.refunded_amount as "refundedAmount",
  o.customer_type as "customerType", o.customer_id as "customerId", o.customer_email as "customerEmail", o.customer_name as "customerName",
  o.payer_email as "orderPayerEmail", o.payer_name as "payerName", o.payment_status as "paymentStatus",
  o.payment_transaction_id as "paymentTransactionId", o.created_at as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt",
  o.latest_attempt_external_id as "externalId", o.latest_attempt_payer_email as "payerEmail"`;

export function and(conditions: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `);
}

/** The list's filter, and for an export of the selection, the chosen order ids. */
export type OrderFilter = OrderSearchFilter & { ids?: readonly string[] | undefined };

/**
 * Every filter but status, which the page query turns into index ranges of its own. `createdAt` is
 * the column the date range applies to (order_search's copy when the page is found there).
 */
export function filterConditions(filter: OrderFilter, createdAt: RawBuilder<unknown> = sql.ref('o.created_at') as RawBuilder<unknown>): RawBuilder<unknown>[] {
  const conditions: RawBuilder<unknown>[] = [];
  // At most MAX_SELECTED_ORDERS ids (the shared schema): found by primary key, the other filters still apply.
  if (filter.ids?.length) conditions.push(sql`o.id = any(${filter.ids.map((id) => id.toLowerCase())}::uuid[])`);
  if (filter.createdFrom) conditions.push(sql`${createdAt} >= ${filter.createdFrom}::timestamptz`);
  if (filter.createdTo) conditions.push(sql`${createdAt} < ${filter.createdTo}::timestamptz`);
  if (filter.customerType) conditions.push(sql`o.customer_type = ${filter.customerType}`);
  if (filter.customerId) conditions.push(sql`o.customer_id = ${filter.customerId}`);
  // bigint parameters: any safe integer compares without overflowing int4.
  if (filter.amountMin !== undefined) conditions.push(sql`o.total >= ${filter.amountMin}::bigint`);
  if (filter.amountMax !== undefined) conditions.push(sql`o.total <= ${filter.amountMax}::bigint`);
  if (filter.currency) conditions.push(sql`o.currency = ${filter.currency}`);
  if (filter.q) conditions.push(textMatch(filter.q));
  return conditions;
}

/** The status filter on `status` ("order"'s own column unless told: the postings carry a copy). */
export function statusCondition(filter: OrderSearchFilter, status: RawBuilder<unknown> = sql.ref('o.status') as RawBuilder<unknown>): RawBuilder<unknown>[] {
  return filter.status?.length ? [sql`${status} in (${sql.join([...new Set(filter.status)])})`] : [];
}

const orderingName = (ordering: OrderOrdering) => `${ordering.sort}:${ordering.direction}`;

export function positionAfter(ordering: OrderOrdering, row: SearchRow): KeysetPosition {
  return { key: ordering.sort === 'created' ? String(row.createdAt) : row.total, id: row.id };
}

export function cursorFor(ordering: OrderOrdering, row: SearchRow): string {
  return encodeCursor(orderingName(ordering), positionAfter(ordering, row));
}

export function positionOf(ordering: OrderOrdering, cursor: string): KeysetPosition {
  return decodeCursor(cursor, orderingName(ordering), ordering.sort === 'created' ? 'timestamp' : 'integer');
}

/**
 * How a fragment's page is found: newest first walking order_search (its created_at index, each
 * document checked in place); in any order walking "order" through the index of its filters and
 * sort, looking up each order's document; by date with statuses as the only other filter, walking
 * order_search through its status index ('status': statusDocumentsPage); or by total, every document
 * of the date range checked in place and the matches sorted (search-page.ts chooses). By total,
 * 'documents' finds the fragment's orders from its values (textMatch).
 */
export type FragmentWalk = 'documents' | 'orders' | 'status' | 'range';

/** The keyset order of a walk's rows: its sort key's column (as the walk names it), then id. */
interface WalkOrder {
  key: 'createdAt' | 'total';
  direction: RawBuilder<unknown>;
}

/** Several walks, each in `order`, merged in that order (Merge Append), each going only as far as the merge takes from it. */
function mergedWalks(walks: RawBuilder<unknown>[], { key, direction }: WalkOrder, rows: number): RawBuilder<unknown> {
  return sql`select * from (${sql.join(walks.map((walk) => sql`(${walk})`), sql` union all `)}) u
            order by ${sql.ref(`u.${key}`)} ${direction}, u.id ${direction} limit ${rows}`;
}

/**
 * A bounded walk: the first `bound` rows of `walk`, numbered in its order, those `kept`, and the
 * bound-th whatever it holds, marked `pastBound`. That one on the page says the walk stopped before the
 * page was full (the fragment and the filters excluding each other, which the planner cannot know).
 * Numbered and listed in the walk's order (nothing is sorted).
 */
function boundedWalk(
  walk: RawBuilder<unknown>,
  { key, direction }: WalkOrder,
  bound: number,
  limit: number,
  kept: (walked: string) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`select w.*, w.walked = ${bound} as "pastBound"
          from (select x.*, row_number() over (order by ${sql.ref(`x.${key}`)} ${direction}, x.id ${direction}) as walked from (${walk}) x) w
         where w.walked = ${bound} or ${kept('w')}
         order by ${sql.ref(`w.${key}`)} ${direction}, w.id ${direction} limit ${limit}`;
}

/**
 * A fragment whose other filters are statuses (and a date range), by date: the documents of each
 * status in the list's order through order_search_status_idx, each checked in place, several statuses
 * merged in that order (Merge Append), and "order" read for the page's rows. Walking "order" by status
 * instead looked each order's document up by primary key: "mug" + failed at 1,000,000 orders, 1,051
 * orders walked for a page of 51, 4,374 → 932 buffers, 1.97 → 0.82 ms (search-document.ts). Within
 * `bound` documents as pageQuery's bounded walk of "order": the bound-th comes back marked
 * `pastBound` when the page is not full by then.
 */
function statusDocumentsPage(
  filter: OrderFilter,
  ordering: OrderOrdering,
  after: KeysetPosition | undefined,
  limit: number,
  bound: number | undefined,
): RawBuilder<SearchRow & { pastBound?: boolean }> {
  const desc = ordering.direction === 'desc';
  const direction = sql.raw(desc ? 'desc' : 'asc');
  const conditions = filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, sql.ref('s.created_at') as RawBuilder<unknown>);
  if (after) conditions.push(sql`(s.created_at, s.order_id) ${sql.raw(desc ? '<' : '>')} (${after.key}::timestamptz, ${after.id}::uuid)`);
  const match = documentMatch(filter.q!);
  const bounded = bound !== undefined;
  const rows = bound ?? limit;
  // One status is listed by status first, which `= any(array)` keeps the planner from dropping as a
  // constant (as a list of one status on "order", pageQuery): the status's own range, never the date
  // index skipping other statuses. Several are merged in the list's order (Merge Append), each arm
  // going only as far as the merge takes from it.
  const walkOf = (status: string, alone: boolean) =>
    sql`select s.order_id as id, s.created_at as "createdAt"${bounded ? sql`, ${match} as matched` : sql``} from order_search s
         where ${and([alone ? sql`s.status = any(${[status]}::text[])` : sql`s.status = ${status}`, ...conditions, ...(bounded ? [] : [match])])}
         order by ${alone ? sql`s.status ${direction}, ` : sql``}s.created_at ${direction}, s.order_id ${direction} limit ${rows}`;
  const statuses = [...new Set(filter.status ?? [])];
  const order: WalkOrder = { key: 'createdAt', direction };
  const walk = statuses.length > 1 ? mergedWalks(statuses.map((status) => walkOf(status, false)), order, rows) : walkOf(statuses[0]!, true);
  const keys = bounded ? boundedWalk(walk, order, bound, limit, (walked) => sql.ref(`${walked}.matched`)) : walk;
  return sql<SearchRow & { pastBound?: boolean }>`
    select page.* from (select ${ROW_COLUMNS}${bounded ? sql`, k."pastBound"` : sql``} from (${keys}) k join "order" o on o.id = k.id and o.created_at = k."createdAt") page
     order by page."createdAt" ${direction}, page.id ${direction}`;
}

/**
 * One page in keyset order, `limit` rows after `after`. The latest attempt's PayPal id and payer
 * email come with "order"'s row (latest-attempt.ts).
 */
export function pageQuery(
  filter: OrderFilter,
  ordering: OrderOrdering,
  after: KeysetPosition | undefined,
  limit: number,
  walk: FragmentWalk = 'documents',
  bound?: number,
): RawBuilder<SearchRow & { pastBound?: boolean }> {
  if (walk === 'status') return statusDocumentsPage(filter, ordering, after, limit, bound);
  const desc = ordering.direction === 'desc';
  const direction = sql.raw(desc ? 'desc' : 'asc');
  // A fragment is looked up in the documents when listed by date, or when "order" is walked (by any
  // sort); otherwise its orders come from its values (textMatch).
  const fragment = isFragmentSearch(filter.q) && (ordering.sort === 'created' || walk !== 'documents');
  // A fragment listed by date (or a date range's by total) is found inside order_search: its
  // created_at and order_id are the keyset (by total, "order"'s total and order_search's order_id).
  const inSearch = fragment && walk !== 'orders';
  const created = (inSearch ? sql.ref('s.created_at') : sql.ref('o.created_at')) as RawBuilder<unknown>;
  const id = inSearch ? sql.ref('s.order_id') : sql.ref('o.id');
  const key = ordering.sort === 'created' ? created : sql.ref('o.total');
  // Or "order" is walked through the index of its filters, and each order's document looked up by
  // primary key (offset 0 keeps it a lookup per order, never a join of every matching document).
  const ranged = inSearch && walk === 'range';
  const holds = (orderId: RawBuilder<unknown>) => sql`exists (select 1 from order_search s where s.order_id = ${orderId} and ${documentMatch(filter.q!)} offset 0)`;
  // Walking "order" within `bound` orders, their documents are looked up after the walk's limit (below).
  const bounded = fragment && !inSearch && bound !== undefined;
  const conditions = inSearch
    ? [...filterConditions({ ...filter, q: undefined }, created), ...(ranged ? [] : [documentMatch(filter.q!)])]
    : fragment
      ? [...filterConditions({ ...filter, q: undefined }), ...(bounded ? [] : [holds(sql.ref('o.id'))])]
      : filterConditions(filter);
  // "1001" lists #1001 itself first, then the numbers it prefixes (#10010…) in the list's order. Not
  // on pages of one row (limit 2 here: one more to tell whether a next page exists): the next page's
  // cursor is the last row's position, which must be one of the rest, never the pinned row.
  const pinned = limit > 2 ? exactNumber(filter.q) : undefined;
  if (pinned !== undefined) conditions.push(sql`o.number <> ${pinned}`);
  if (after) {
    const value = ordering.sort === 'created' ? sql`${after.key}::timestamptz` : sql`${after.key}::int`;
    conditions.push(sql`(${key}, ${id}) ${sql.raw(desc ? '<' : '>')} (${value}, ${after.id}::uuid)`);
  }
  // The range's matching documents first (offset 0: the planner, taking strpos for a third of them,
  // would rather walk "order" by total and look each one up).
  const documents = ranged
    ? sql`(select s.order_id, s.created_at from order_search s
           where ${and([...filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, created), documentMatch(filter.q!)])} offset 0) s`
    : sql`order_search s`;
  const from = inSearch ? sql`${documents} join "order" o on o.id = s.order_id` : sql`"order" o`;
  // Walking "order", the keys come from the filters' index alone (index-only: its rows are read for the
  // page's orders, not for each of the orders whose documents are looked up before the page is full).
  const keysFirst = fragment && !inSearch;
  const columns = keysFirst ? (ordering.sort === 'created' ? sql`o.id, o.created_at as "createdAt"` : sql`o.id, o.total`) : ROW_COLUMNS;
  // A list of one status (no fragment; not a merged walk's arm, which must come in the merge's order) is
  // walked through its status's index (order_status_idx, order_currency_status_idx, order_status_total_idx):
  // listed by status first, which `= any(array)` keeps the planner from dropping as a constant. It
  // weighed walking the date index and skipping other statuses the same, and took that: at 1M orders
  // with 2,000 pending orders newest, "paid, last 30 days" skipped 2,068 orders (2,031 buffers) for its
  // page of 101; through the status index 10 buffers (EXPLAIN ANALYZE 11.0 → 1.1 ms). A fragment's walk
  // of "order" takes the status index anyway (the walk's keys are joined back in their order, unsorted).
  const walkOf = (status: string | undefined, rows: number, alone = true) => {
    const indexed = status !== undefined && alone && !fragment;
    const byStatus = status === undefined ? [] : [indexed ? sql`o.status = any(${[status]}::text[])` : sql`o.status = ${status}`];
    return sql`select ${columns} from ${from} where ${and([...conditions, ...byStatus])}
        order by ${indexed ? sql`o.status ${direction}, ` : sql``}${key} ${direction}, ${id} ${direction} limit ${rows}`;
  };
  // A bounded walk (boundedWalk): the first `bound` orders of the filters' index, those whose document
  // holds the fragment, and the bound-th whatever it holds.
  const order: WalkOrder = { key: ordering.sort === 'created' ? 'createdAt' : 'total', direction };
  const statuses = [...new Set(filter.status ?? [])];
  const pageKey = ordering.sort === 'created' ? sql.ref('page.createdAt') : sql.ref('page.total');
  // Several statuses: one ordered walk each, merged in the walk's order (mergedWalks); a bounded walk
  // numbers the merged rows, so they share one bound.
  const merged = (rows: number) => (statuses.length > 1 ? mergedWalks(statuses.map((s) => walkOf(s, rows, false)), order, rows) : walkOf(statuses[0], rows));
  let page = bounded ? boundedWalk(merged(bound), order, bound, limit, (walked) => holds(sql.ref(`${walked}.id`))) : merged(limit);
  // (The sort key joined too: the planner then knows the rows keep the walk's order, and sorts nothing.)
  const sameKey = ordering.sort === 'created' ? sql`o.created_at = k."createdAt"` : sql`o.total = k.total`;
  if (keysFirst) page = sql`select ${ROW_COLUMNS}${bounded ? sql`, k."pastBound"` : sql``} from (${page}) k join "order" o on o.id = k.id and ${sameKey}`;
  let first = sql``;
  if (pinned !== undefined && !after) {
    // The exact number on the first page only (later pages exclude it above), by order_number_unique.
    const exact = and([...statusCondition(filter), ...filterConditions({ ...filter, q: undefined }), sql`o.number = ${pinned}`]);
    page = sql`select * from ((select ${ROW_COLUMNS} from "order" o where ${exact}) union all (${page})) page
                order by page.number = ${pinned} desc, ${pageKey} ${direction}, page.id ${direction} limit ${limit}`;
    first = sql`page.number = ${pinned} desc, `;
  }
  // (In the walk's own order: a list of one status comes by status first, the same status throughout.)
  const statusFirst = statuses.length === 1 && !fragment ? sql`page.status ${direction}, ` : sql``;
  return sql<SearchRow & { pastBound?: boolean }>`
    select page.* from (${page}) page order by ${first}${statusFirst}${pageKey} ${direction}, page.id ${direction}`;
}

/** One order as the back office lists it, by id. */
export function rowByIdQuery(orderId: string): RawBuilder<SearchRow> {
  return sql<SearchRow>`
    select ${ROW_COLUMNS} from "order" o where o.id = ${orderId}`;
}

/**
 * Counts at most EXACT_COUNT_LIMIT + 1 matches: cheap even when millions match. An order number's prefix
 * is counted range by range (its ranges never overlap): each an index range, index-only without other
 * filters, where the ranges ORed together were read through the heap (a bitmap of every match). At 1M
 * orders plus 2,000 new ones, "100" (4,110 matches in 2,083 heap pages) 3.9 → 1.6 ms (EXPLAIN ANALYZE).
 */
export function boundedCountQuery(filter: OrderSearchFilter): RawBuilder<{ n: number }> {
  const ranges = filter.q === undefined ? undefined : orderNumberRanges(filter.q);
  const others = [...statusCondition(filter), ...filterConditions({ ...filter, q: ranges ? undefined : filter.q })];
  const matches = ranges
    ? sql.join(
        ranges.map(([low, high]) => sql`select 1 from "order" o where o.number between ${low} and ${high} and ${and(others)}`),
        sql` union all `,
      )
    : sql`select 1 from "order" o where ${and(others)}`;
  return sql<{ n: number }>`select count(*)::int as n from (${matches} limit ${EXACT_COUNT_LIMIT + 1}) matches`;
}

/** The planner's row estimate for the whole filter: what `total` says when there are too many to count. */
export function estimateQuery(filter: OrderSearchFilter): RawBuilder<{ 'QUERY PLAN': { Plan?: { 'Plan Rows'?: number } }[] }> {
  const text = filter.q === undefined ? [] : [textMatch(filter.q, true)];
  return sql`explain (format json) select 1 from "order" o where ${and([...statusCondition(filter), ...filterConditions({ ...filter, q: undefined }), ...text])}`;
}

export function planRows(plan: { Plan?: { 'Plan Rows'?: number } }[] | undefined): number {
  return Math.round(plan?.[0]?.Plan?.['Plan Rows'] ?? 0);
}

export function toBackofficeRow(row: SearchRow): BackofficeOrderRow {
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    total: row.total,
    currency: row.currency,
    refundedAmount: row.refundedAmount,
    customer: { type: row.customerType, id: row.customerId },
    customerEmail: row.customerEmail,
    customerName: row.customerName,
    paymentStatus: row.paymentStatus,
    paymentTransactionId: row.paymentTransactionId,
    externalId: row.externalId,
    // The paying attempt's payer once paid; before that, whoever approved the latest attempt.
    payerEmail: row.orderPayerEmail ?? row.payerEmail,
    payerName: row.payerName,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    paidAt: iso(row.paidAt),
  };
}
