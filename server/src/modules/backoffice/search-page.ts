import type { RawBuilder } from 'kysely';
import { firstRow, iso, rows, sql, withLocalSettings, type EntityManager } from '../../db/sql.js';
import type { FragmentEstimate, SearchStatistics } from './search-statistics.js';
import type { KeysetPosition } from './keyset-cursor.js';
import { documentMatch, exactNumber, isFragmentSearch, valueMatch } from './order-text-match.js';
import {
  EXACT_COUNT_LIMIT,
  ROW_COLUMNS,
  and,
  boundedCountQuery,
  estimateQuery,
  filterConditions,
  pageQuery,
  planRows,
  statusCondition,
  type FragmentWalk,
  type OrderFilter,
  type OrderOrdering,
  type SearchRow,
} from './order-search.js';

/*
 * One search: its page and its `total` (exact up to EXACT_COUNT_LIMIT, the planner's estimate
 * above), with as little work as each kind of search allows. Measured on 1,000,000 seeded orders
 * (tests/bench, `BENCH_PHASES=search`), what dominated was not the page but finding the matches
 * twice or three times:
 *  - A fragment's matches come from the values of the search documents (each distinct line once,
 *    with its trigram index) and their postings (search-values.ts). A fragment the planner's
 *    statistics put in at most EXACT_COUNT_LIMIT documents (search-statistics.ts: held in memory,
 *    no EXPLAIN) is one statement: its values, their orders, counted, and the page taken from them
 *    (fewMatchesQuery). When it had more after all, or is common, the page is found walking newest
 *    first and the total is estimated.
 *  - A first page that is not full is every match: its length is the exact total, nothing counted.
 *  - Any other list is counted up to EXACT_COUNT_LIMIT + 1, whatever the planner expects: an
 *    estimate of filters on "order" multiplies their selectivities, and anti-correlated ones (status
 *    pending, created a year ago) can be expected in 100,000 orders and found in 60. Trusting large
 *    estimates was measured to save the bounded count's few milliseconds, and would have shown a
 *    wrong total. Two kinds are answered with the estimate: a fragment the planner expects in more
 *    than EXACT_COUNT_LIMIT documents (counting it means intersecting every posting list again), and
 *    a filter on one column expected in TRUSTED_ESTIMATE orders or more (singleColumn: no product of
 *    selectivities). The latter's count cost ~1 ms of PostgreSQL's CPU and a round trip for a
 *    figure that then said "more than 10,000" and showed the same estimate.
 *  - A count gets COUNT_BUDGET_MS. Most take a few milliseconds (an index-only range of at most
 *    10,001 entries); a fragment combined with a filter only "order" has ("mug" + failed: every
 *    order whose document holds "mug", ~30 % of them, looked up for its status) took 250–550 ms at
 *    1M orders, all of it spent on a figure beside a page that was ready. Past the budget PostgreSQL
 *    cancels the count and the total is the planner's estimate, marked as such (the list says
 *    "about N orders"); the page is the same either way.
 *  - Round trips: ~0.25 ms each on the bench machine whatever the statement. A rare fragment is one
 *    statement; a list's page and count run side by side, the count in one (withinBudget); an
 *    estimate is asked only where its figure is shown.
 */

/**
 * A fragment in at most this many documents is always read whole and counted exactly (fewMatchesQuery:
 * ~3 µs an order, ~5 ms), even where walking "order" would look up fewer: its total is then exact,
 * not the planner's estimate (a page of 3 over 20,000 orders would otherwise walk for 222 documents).
 */
export const ALWAYS_COUNTED = 1_500;

/**
 * Postings read (index-only) and sorted for the cost of one order or document looked up by primary
 * key: measured at 1M orders, ~0.6 µs against ~4 µs ("walnut" in 90 days: 6,457 postings).
 */
export const POSTINGS_PER_LOOKUP = 6;

/** The most values a fragment's postings walk reads (postingsPageQuery). */
export const POSTINGS_WALK_VALUES = 64;

/**
 * How a fragment with filters only "order" has finds its page when walking costs less than reading
 * its orders whole (fewMatchesQuery, or by total the documents' walk), or undefined. In lookups of an
 * order or a document (~4 µs each): reading whole looks up each of the fragment's `documents`;
 * walking "order" through its filters' index looks up ~fetch × walked ÷ documents documents before its
 * page is full; walking the postings by date (postingsPageQuery) reads each of them
 * (POSTINGS_PER_LOOKUP to a lookup) and looks up ~fetch ÷ share orders. Measured at 1M orders, a page
 * of 51: "mug" + failed (300,000 documents, 5 % failed) walks "order", 1,051 lookups; "walnut" + EUR
 * in 90 days (~5,500 documents of 250,000, 20 % EUR) walks its postings, 234 lookups.
 */
export function cheapestWalk(sizes: {
  documents: number;
  walked: number;
  fetch: number;
  share: number | undefined;
  byDate: boolean;
  carried?: boolean;
}): 'postings' | 'orders' | undefined {
  const { documents, walked, fetch, share, byDate } = sizes;
  const orders = (fetch * walked) / Math.max(1, documents);
  if (sizes.carried && share !== undefined) {
    // Every filter is one the postings carry (status, currency): reading the fragment's postings whole
    // or walking them looks up the page's orders alone. Whole (and counted exactly) while it can be;
    // past EXACT_COUNT_LIMIT documents, walked by date.
    const postings = documents / POSTINGS_PER_LOOKUP + fetch;
    if (documents <= EXACT_COUNT_LIMIT) return orders < postings ? 'orders' : undefined;
    if (byDate) return orders < postings ? 'orders' : 'postings';
  }
  const postings = byDate && share ? documents / POSTINGS_PER_LOOKUP + fetch / share : Infinity;
  if (postings < Math.min(documents, orders)) return 'postings';
  return orders < documents ? 'orders' : undefined;
}

/**
 * How many orders a walk of "order" may look at before it gives up and the fragment is read whole
 * (fewMatchesQuery, `whole`), or undefined for a walk left to run to its end. A walk expects the
 * fragment and the filters independent, as the planner does; where they exclude each other it walked
 * every order the filters keep: at 1M orders, the customer ids' "user-10" (38,000 documents) with the
 * anonymous orders (220,000; no match) took 0.4–1.4 s newest first and 1.8–2.4 s by total, and
 * bounded 0.2–0.3 s. In walked orders (`kept`: those the filters keep, the walk's worst case;
 * `expected`: the walk the planner expects), the bound is WALK_SLACK times the expected walk, at least
 * MIN_WALK_BOUND, and at most what reading whole costs. None:
 *  - where walking to the end costs no more than reading whole ("user-1" is in 313,000 documents:
 *    walking the anonymous orders to their end, 0.4 s, beats reading it whole, 1.6 s);
 *  - where the bound is more than an eighth of the walk's worst case (BOUND_SHARE): given a limit
 *    that large, by total in a date range, the planner reads the range and sorts it instead of
 *    walking the total's index ("gmail" in 30 days, a bound of 27,639 of ~101,000 orders: 7 → 42 ms;
 *    "mug" + failed or cancelled USD in 90 days, 15 → 32 ms). "user-10" with the anonymous orders,
 *    12,737 of 220,000, is walked.
 * A bound at `documents` stopped "amelia" with those filters (4,628 documents, ~3,700 orders walked
 * per status for a page, the two nearly independent) short of its page, 18 → 35 ms.
 */
export function walkBound(sizes: { kept: number; documents: number; expected: number }): number | undefined {
  const { kept, documents, expected } = sizes;
  const wholeRead = WALKED_PER_DOCUMENT * documents;
  if (kept <= wholeRead) return undefined;
  const bound = Math.max(1, Math.round(Math.min(wholeRead, Math.max(WALK_SLACK * expected, MIN_WALK_BOUND))));
  return bound * BOUND_SHARE <= kept ? bound : undefined;
}
/** Orders walked for the cost of one document read whole: ~2 µs against ~4.5 µs at 1M orders. */
export const WALKED_PER_DOCUMENT = 2;
/** How many times the expected walk a bounded walk may take before it gives up. */
export const WALK_SLACK = 8;
/** The shortest bound: ~2 ms of walking at 1M orders. */
export const MIN_WALK_BOUND = 1_000;
/** A bound is at most this part of the walk's worst case (walkBound). */
const BOUND_SHARE = 8;

/** The longest a bounded count may run before the total falls back to the planner's estimate. */
export const COUNT_BUDGET_MS = 50;

/**
 * `statement`'s rows, or undefined when PostgreSQL cancelled it after `budgetMs` (statement_timeout,
 * local to its own transaction: withLocalSettings, one round trip). Each round trip is ~0.25 ms on
 * the bench machine whatever the statement, a tenth of a small count.
 */
export async function withinBudget<R>(em: EntityManager, statement: RawBuilder<R>, budgetMs: number): Promise<R[] | undefined> {
  return withLocalSettings(em, { statement_timeout: String(Math.max(1, Math.round(budgetMs))) }, statement).catch((error: unknown) => {
    // query_canceled: here only our own timeout can cancel it.
    if ((error as { code?: unknown }).code === '57014') return undefined;
    throw error;
  });
}

export interface SearchPage {
  /** Up to `fetch` rows: one more than the page shows tells whether a next page exists. */
  page: SearchRow[];
  total: { value: number; exact: boolean };
}

/** The filter's conditions that only "order" can answer (order_search has the document and created_at). */
function orderOnlyConditions(filter: OrderFilter): RawBuilder<unknown>[] {
  return [...statusCondition(filter), ...filterConditions({ ...filter, q: undefined, createdFrom: undefined, createdTo: undefined })];
}

/** The filter's conditions on "order" that the postings carry (search-values.ts): status and currency, for postings aliased `p`. */
function postingConditions(filter: OrderFilter): RawBuilder<unknown>[] {
  return [...statusCondition(filter, sql.ref('p.status') as RawBuilder<unknown>), ...(filter.currency ? [sql`p.currency = ${filter.currency}`] : [])];
}

/** The filter's conditions that only "order" can answer and the postings do not carry (customer, amounts, chosen ids). */
function pastPostingConditions(filter: OrderFilter): RawBuilder<unknown>[] {
  return filterConditions({ ...filter, q: undefined, createdFrom: undefined, createdTo: undefined, currency: undefined });
}

/**
 * The most values of a fragment whose postings are read whole (fewMatchesQuery, unless `whole`): each
 * value is a descent of the postings' index, and its postings are sorted together. At 1M orders
 * "obinson" is in 5,765 values and 32,800 postings: read whole 40 ms a call (21 ms of descents and
 * 11 of sorting in EXPLAIN ANALYZE), where walking the documents newest first took 7.1 ms (4,976
 * buffers). Statistics that put it in fewer than EXACT_COUNT_LIMIT documents (the sample of one
 * ANALYZE: 716 in run AN, 17,017 on the scratch copy) sent it there: 48 ms at p95 in run AN. Past this
 * many values the statement reads none of their postings (`read` false) and stops counting the values
 * themselves, and the page is walked.
 */
export const FEW_MATCHES_VALUES = 1_500;

type FewMatchesRow = SearchRow & { candidates: number; matches: number; values: number; read: boolean };

/**
 * A fragment with few matches, by date or by total, in one statement: the values containing it (their
 * trigram index: search-values.ts), the orders holding them within the date range (their postings,
 * index-only, with the status and currency they carry checked there), at most EXACT_COUNT_LIMIT + 1
 * of each, those of them passing the other filters only "order" has, their number, and the page
 * after `after`. Always one row at least: the counts (candidates past
 * EXACT_COUNT_LIMIT when there were more values or orders than read), with a null page row when the
 * page is empty. In more than `fewValues` values (FEW_MATCHES_VALUES), no posting is read (`read`
 * false), and the values are counted only to `fewValues` + 1 (`values`). `whole` reads every value
 * and order of the fragment instead: a bounded walk's fallback (searchPage), its matches counted
 * exactly.
 */
export function fewMatchesQuery(
  filter: OrderFilter,
  after: KeysetPosition | undefined,
  desc: boolean,
  fetch: number,
  sort: OrderOrdering['sort'] = 'created',
  whole = false,
  fewValues = FEW_MATCHES_VALUES,
): RawBuilder<FewMatchesRow> {
  const direction = sql.raw(desc ? 'desc' : 'asc');
  const dated = filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, sql.ref('p.created_at') as RawBuilder<unknown>);
  // Status and currency are read with the postings (index-only); the rest of "order"'s filters below.
  const onOrder = pastPostingConditions(filter);
  const byTotal = sort === 'total';
  // Other filters only "order" has are checked order by order, by primary key (offset 0 keeps the planner
  // from joining instead: it expected 10,001 orders and hashed every paid order, 620,000 at 1M, so a
  // rare fragment with "paid" took 250–300 ms); by total, each order's total is read the same way.
  // Otherwise the orders holding the fragment are the matches: read and counted once (a second
  // materialized copy cost ~1 ms for "mug-04"'s 3,394). An order holding several of the fragment's
  // values is one match: its postings are made distinct sorted (DISTINCT ON), not hashed — at 1M
  // orders (median of 40 EXPLAIN ANALYZE, alternating) "mug-04" 6.7 → 4.7 ms, "ceramic mug" 2.1 → 1.6.
  const filtered = byTotal
    ? sql`, f as materialized (select m.order_id, t.total from m
            cross join lateral (select o.total from "order" o where o.id = m.order_id and ${and(onOrder)} offset 0) t)`
    : onOrder.length
      ? sql`, f as materialized (select m.order_id, m.created_at from m
              where exists (select 1 from "order" o where o.id = m.order_id and ${and(onOrder)} offset 0))`
      : sql``;
  const counted = byTotal || onOrder.length > 0;
  const key = sql.ref(byTotal ? 'f.total' : 'f.created_at');
  const keyset = after
    ? sql`where (${key}, f.order_id) ${sql.raw(desc ? '<' : '>')} (${byTotal ? sql`${after.key}::bigint` : sql`${after.key}::timestamptz`}, ${after.id}::uuid)`
    : sql``;
  const pageKey = sql.ref(byTotal ? 'page.total' : 'page.createdAt');
  const read = whole ? sql.raw('all') : sql`${EXACT_COUNT_LIMIT + 1}`;
  // Values past `fewValues` are neither read nor counted: each is a row of the values' table checked in
  // its heap page ("obinson" at 1M orders is in 5,765: the statement 2.3–3.0 → 1.1–1.5 ms read to 1,501).
  const valuesRead = whole ? sql.raw('all') : sql`${Math.min(fewValues, EXACT_COUNT_LIMIT) + 1}`;
  return sql<FewMatchesRow>`
    with v as materialized (
      select v.id from order_search_value v where ${valueMatch(filter.q!)} limit ${valuesRead}
    ), few as materialized (
      select ${whole ? sql`true` : sql`(select count(*) from v) <= ${fewValues}`} as ok
    ), m as materialized (
      select distinct on (p.created_at, p.order_id) p.order_id, p.created_at from order_search_posting p
       where ${and([sql`(select ok from few)`, sql`p.value_id in (select v.id from v)`, ...dated, ...postingConditions(filter)])}
       order by p.created_at ${direction}, p.order_id ${direction} limit ${read}
    )${filtered},
    found as materialized (select (select count(*) from v) as "values", (select count(*) from m) as orders${counted ? sql`, (select count(*) from f) as matches` : sql``}),
    counts as (select case when found."values" > ${EXACT_COUNT_LIMIT} or not (select ok from few) then ${EXACT_COUNT_LIMIT + 1} else found.orders end::int as candidates,
                      (select ok from few) as read,
                      found.${sql.raw(counted ? 'matches' : 'orders')}::int as matches, found."values"::int as "values" from found)
    select counts.candidates, counts.matches, counts."values", counts.read, page.*
      from counts
      left join lateral (
        select ${ROW_COLUMNS}
          from (select f.order_id from ${sql.raw(counted ? 'f' : 'm')} f ${keyset} order by ${key} ${direction}, f.order_id ${direction} limit ${fetch}) p
          join "order" o on o.id = p.order_id
      ) page on true
     order by ${pageKey} ${direction} nulls last, page.id ${direction}`;
}

/**
 * A fragment's page newest (or oldest) first from its postings: the orders holding one of its values
 * in the date range after `after`, in keyset order (the postings' primary key, index-only, then
 * sorted), with the status and currency they carry, each checked against the other filters only
 * "order" has until the page is full. It reads every
 * posting of the fragment in range but looks up only ~fetch ÷ share orders, where share is the part
 * of the orders those filters keep: the walk for a fragment rarer than its filters ("walnut" + EUR,
 * 90 days, at 1M orders: 6,457 postings and 234 lookups, 6.0 ms, where walking "order" by currency
 * looked up 2,262 documents, 8.4 ms). Its total is estimated, as a walk's is.
 *
 * Only for a fragment in at most POSTINGS_WALK_VALUES values (a product name or sku: "walnut" is in
 * 25, each in ~900 orders): each value is one more descent of the postings' index, and a name or an
 * email is in thousands ("amelia": 5,807 values, 30–55 ms where walking "order" took 13–25). The
 * planner cannot tell (it puts most fragments in 343 values), so the statement counts them: always
 * one row, `values` past POSTINGS_WALK_VALUES when there were more (no page then), with a null page
 * row when the page is empty. The limit is on the count, not in `v`: there the planner, expecting
 * 34,597 values of "obinson", scanned the whole table for its first 65 (280 ms); the CTE is read only
 * as far as the count asks when the page is not taken.
 */
export function postingsPageQuery(filter: OrderFilter, after: KeysetPosition | undefined, desc: boolean, fetch: number): RawBuilder<SearchRow & { values: number }> {
  const direction = sql.raw(desc ? 'desc' : 'asc');
  const conditions = [
    sql`p.value_id in (select v.id from v)`,
    ...filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, sql.ref('p.created_at') as RawBuilder<unknown>),
    ...postingConditions(filter),
  ];
  if (after) conditions.push(sql`(p.created_at, p.order_id) ${sql.raw(desc ? '<' : '>')} (${after.key}::timestamptz, ${after.id}::uuid)`);
  // offset 0: one order at a time by primary key, in the postings' order, until the limit (the planner
  // would otherwise join every order the filters keep).
  return sql<SearchRow & { values: number }>`
    with v as materialized (select v.id from order_search_value v where ${valueMatch(filter.q!)}),
    counted as (select count(*)::int as "values" from (select 1 from v limit ${POSTINGS_WALK_VALUES + 1}) first)
    select counted."values", page.*
      from counted
      left join lateral (
        select o.* from (select distinct p.created_at, p.order_id from order_search_posting p where ${and(conditions)}
                          order by p.created_at ${direction}, p.order_id ${direction}) m
          cross join lateral (select ${ROW_COLUMNS} from "order" o where o.id = m.order_id and ${and(pastPostingConditions(filter))} offset 0) o
         where counted."values" <= ${POSTINGS_WALK_VALUES}
         order by m.created_at ${direction}, m.order_id ${direction} limit ${fetch}
      ) page on true
     order by page."createdAt" ${direction} nulls last, page.id ${direction}`;
}

/** The planner's estimate of the documents in the date range (every document when there is none). */
function rangeEstimateQuery(filter: OrderFilter): RawBuilder<{ 'QUERY PLAN': { Plan?: { 'Plan Rows'?: number } }[] }> {
  const dated = filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, sql.ref('s.created_at') as RawBuilder<unknown>);
  return sql`explain (format json) select 1 from order_search s where ${and(dated)}`;
}

/** The planner's estimate of the documents holding the fragment, in the date range (both in order_search), whatever the other filters. */
function documentEstimateQuery(filter: OrderFilter): RawBuilder<{ 'QUERY PLAN': { Plan?: { 'Plan Rows'?: number } }[] }> {
  const dated = filterConditions({ createdFrom: filter.createdFrom, createdTo: filter.createdTo }, sql.ref('s.created_at') as RawBuilder<unknown>);
  return sql`explain (format json) select 1 from order_search s where ${and([documentMatch(filter.q!, true), ...dated])}`;
}

export async function searchPage(
  em: EntityManager,
  filter: OrderFilter,
  ordering: OrderOrdering,
  after: KeysetPosition | undefined,
  fetch: number,
  countBudgetMs = COUNT_BUDGET_MS,
  statistics?: SearchStatistics,
  trustedEstimateFrom = TRUSTED_ESTIMATE,
  fewValues = FEW_MATCHES_VALUES,
): Promise<SearchPage> {
  /**
   * The planner's row estimate for `of` (the whole filter unless told): from the statistics held in
   * memory where they tell (no free text), else an EXPLAIN.
   */
  const estimate = async (of: OrderFilter = filter) => (await statistics?.ordersMatching(of)) ?? planRows((await firstRow(em, estimateQuery(of)))?.['QUERY PLAN']);
  const exact = (value: number) => ({ value, exact: true });
  /** The bounded count, or undefined when it ran out of its budget. */
  const budgetedCount = async (): Promise<number | undefined> => {
    const found = await withinBudget(em, boundedCountQuery(filter), countBudgetMs);
    return found ? (found[0]?.n ?? 0) : undefined;
  };
  const totalOf = (count: number | undefined, estimated: number, fetched: number) => {
    // Over budget: at least the rows already found (a first page is full when a count is needed).
    if (count === undefined) return { value: Math.max(estimated, fetched), exact: false };
    return count <= EXACT_COUNT_LIMIT ? exact(count) : { value: Math.max(EXACT_COUNT_LIMIT + 1, estimated), exact: false };
  };
  const counted = async (estimated: number, fetched: number) => totalOf(await budgetedCount(), estimated, fetched);
  // Without a cursor, a page with room to spare holds every match.
  const complete = (page: SearchRow[]) => !after && page.length < fetch;

  if (isFragmentSearch(filter.q)) {
    // The fragment's documents decide the plan: reading all of them (fewMatchesQuery) pays only when
    // they are few. The whole filter's estimate is asked only when a total has to be estimated (a rare
    // fragment's statement counts its matches, and each such EXPLAIN plans the fragment's LIKE again).
    // "order" can be walked when it has something to walk by: filters only it has, or the total.
    const byTotal = ordering.sort === 'total';
    const onOrder = orderOnlyConditions(filter).length > 0;
    // Filters on "order" that the postings do not carry (customer, amounts, chosen ids): each candidate is looked up for them.
    const pastPostings = pastPostingConditions(filter).length > 0;
    const walkable = onOrder || byTotal;
    // By date with statuses the only filter "order" has (the documents have the date and the status):
    // "order"'s walk is the documents' of those statuses (statusDocumentsPage), the same orders in the
    // same order for the same bound, without looking each document up.
    const statusesOnly = !byTotal && (filter.status?.length ?? 0) > 0 && !pastPostings && filter.currency === undefined;
    /** A page found by walking (not counting): its total is the planner's estimate, unless the page holds every match. */
    const walkedPage = async (walk: FragmentWalk): Promise<SearchPage> => {
      const bound = walk === 'orders' && filtered !== undefined ? walkBound({ kept: filtered, documents, expected: (fetch * walked) / Math.max(1, documents) }) : undefined;
      const how = walk === 'orders' && statusesOnly ? 'status' : walk;
      const [found, wholeFilter] = await Promise.all([rows(em, pageQuery(filter, ordering, after, fetch, how, bound)), matchesEstimate ?? estimate()]);
      if (found.some((row) => row.pastBound)) return wholeRead();
      return walkedTotal(found.map(({ pastBound: _p, ...row }) => row), wholeFilter);
    };
    /** The fragment's orders read (up to EXACT_COUNT_LIMIT + 1, or `whole`) and checked: their counts and the page. */
    const fewMatches = async (whole: boolean) => {
      const found = await rows(em, fewMatchesQuery(filter, after, ordering.direction === 'desc', fetch, ordering.sort, whole, fewValues));
      return { counts: found[0], page: found.filter((row) => row.id !== null).map(({ candidates: _c, matches: _m, values: _v, read: _r, ...row }) => row) };
    };
    /** Every order holding the fragment, checked against the filters and counted (a walk that ran past its bound). */
    const wholeRead = async (): Promise<SearchPage> => {
      const { counts, page } = await fewMatches(true);
      return { page, total: exact(counts?.matches ?? 0) };
    };
    const walkedTotal = (page: SearchRow[], wholeFilter: number): SearchPage =>
      complete(page) ? { page, total: exact(page.length) } : { page, total: { value: Math.max(wholeFilter, page.length), exact: false } };
    const dated = filter.createdFrom !== undefined || filter.createdTo !== undefined;
    const rangeEstimate = async () => planRows((await firstRow(em, rangeEstimateQuery(filter)))?.['QUERY PLAN']);
    // The documents holding it, from the planner's statistics held in memory (search-statistics.ts),
    // in the date range as the planner would take it (the two independent); or, without them, EXPLAIN.
    // Without a date range every document is in range: their number is held too. A fragment that may
    // be walked also gets the orders its other filters keep in the range (from "order"'s statistics
    // held there too, or an EXPLAIN of "order" alone): the share of the walk that ends on the page,
    // and the total's estimate.
    const held = await statistics?.documentsHolding(filter.q!.toLowerCase());
    // The documents in the date range from the same statistics (created_at's histogram), no EXPLAIN either.
    const heldInRange = held && dated ? statistics?.documentsCreated(filter.createdFrom, filter.createdTo) : undefined;
    // Filters the postings all carry (status, currency) and a fragment in at most EXACT_COUNT_LIMIT
    // documents in the range: read whole and counted at once, without the filters' estimate (which
    // is an EXPLAIN and a round trip before the statement where "order" has no statistics). Walking
    // "order" would look up ~fetch × documents ÷ holding orders whatever the range (the two taken as
    // independent), so cheapestWalk decides on held figures alone.
    const carried = onOrder && !pastPostings;
    let readWhole: Awaited<ReturnType<typeof fewMatches>> | undefined;
    /** The held fragment's documents among `inRange` documents (the two taken as independent). */
    const heldAmong = (fragment: FragmentEstimate, inRange: number) => Math.round((fragment.holding * inRange) / Math.max(1, fragment.documents));
    const heldDocuments = held && (!dated ? held.holding : heldInRange === undefined ? undefined : heldAmong(held, heldInRange));
    if (carried && held && heldDocuments !== undefined && heldDocuments <= EXACT_COUNT_LIMIT) {
      const walkedHeld = dated && !byTotal ? heldInRange! : held.documents;
      const sized = { documents: heldDocuments, walked: walkedHeld, fetch, share: 1, byDate: !byTotal, carried };
      if (cheapestWalk(sized) === undefined) {
        readWhole = await fewMatches(false);
        if (readWhole.counts && readWhole.counts.candidates <= EXACT_COUNT_LIMIT) return { page: readWhole.page, total: exact(readWhole.counts.matches) };
      }
    }
    const mayWalk = walkable && (held === undefined || held.holding > ALWAYS_COUNTED);
    const [inDateRange, filtered] = await Promise.all([
      dated ? (heldInRange ?? rangeEstimate()) : undefined,
      mayWalk ? estimate({ ...filter, q: undefined }) : undefined,
    ]);
    const inRange = inDateRange ?? (walkable ? (held?.documents ?? (await rangeEstimate())) : 0);
    const documents = held
      ? dated
        ? heldAmong(held, inRange)
        : held.holding
      : planRows((await firstRow(em, documentEstimateQuery(filter)))?.['QUERY PLAN']);
    /** The part of the range's orders the filters keep; the fragment taken as independent of them, as the planner takes it. */
    const share = filtered === undefined ? undefined : Math.min(1, filtered / Math.max(1, inRange));
    // The whole filter's estimate without planning the fragment's LIKE against the documents' histogram
    // again (an EXPLAIN of the whole filter: 1.2–1.6 ms at 1M orders, the longest statement of a walk).
    const matchesEstimate = share === undefined ? undefined : Math.round(documents * share);
    // Walk or read whole: cheapestWalk. Walking "order" pays past documents² = fetch × walked (~7,100
    // documents at 1,000,000 orders for a page of 51). Measured at 1M: "obinson" + JPY was walked in
    // the documents' order instead (828 ms), "son" by total by its values (1.7 s). By total the walk
    // is over every order of the filters (no total index has the date): a date range thins out the
    // matches it finds, not the orders it walks.
    const walked = byTotal && dated && held ? held.documents : inRange;
    const sizes = { documents, walked, fetch, share, byDate: !byTotal, carried };
    let walk = walkable && documents > ALWAYS_COUNTED ? cheapestWalk(sizes) : undefined;
    // The total is then the estimate: counting would look up every document of the fragment.
    if (walk === 'postings' && matchesEstimate !== undefined) {
      const found = await rows(em, postingsPageQuery(filter, after, ordering.direction === 'desc', fetch));
      if ((found[0]?.values ?? 0) <= POSTINGS_WALK_VALUES) {
        return walkedTotal(found.filter((row) => row.id !== null).map(({ values: _v, ...row }) => row), matchesEstimate);
      }
      // In too many values to walk their postings (a name, an email): the next cheapest.
      walk = cheapestWalk({ ...sizes, share: undefined });
    }
    if (walk === 'orders') return walkedPage(walk);
    // The fragment alone: its documents are the whole filter's estimate, already known when held.
    const alone = held !== undefined && !dated && !onOrder;
    let moreThanCounted = false;
    /** The fragment's values counted when they were too many for their postings to be read (FEW_MATCHES_VALUES): a floor. */
    let unread: number | undefined;
    if (documents <= EXACT_COUNT_LIMIT || readWhole) {
      // (Already read above when the postings carry every filter: more matches than counted then.)
      const { counts, page } = readWhole ?? (await fewMatches(false));
      if (counts && counts.candidates <= EXACT_COUNT_LIMIT) return { page, total: exact(counts.matches) };
      if (counts && !counts.read) unread = counts.values;
      // More documents than counted: without filters the postings do not carry, each of them is a match.
      moreThanCounted = counts !== undefined && counts.read && !pastPostings;
      // Newest (or oldest) first, every value of the fragment read: the orders read are the first
      // EXACT_COUNT_LIMIT + 1 of all its matches in the list's order, so a full page among them is
      // the page, and the total is past EXACT_COUNT_LIMIT (estimated): a fragment in at most
      // FEW_MATCHES_VALUES values whose page was otherwise found a second time walking the documents.
      // ("obinson" at 1M orders, in 5,765 values and 16,362 orders, is now walked: reading it whole
      // took 40 ms where the statistics put it in fewer than 10,000 documents.)
      if (moreThanCounted && !byTotal && counts!.values <= EXACT_COUNT_LIMIT && page.length === fetch) {
        const estimated = alone ? held.holding : (matchesEstimate ?? documents);
        return { page, total: { value: Math.max(estimated, EXACT_COUNT_LIMIT + 1), exact: false } };
      }
    }
    if (byTotal && dated) {
      // A date range by total, its fragment too common there to read whole: the range's documents
      // checked in place (~1 µs each) and their matches sorted, or "order" walked by total (~4 µs an
      // order, ~fetch × walked / documents of them), whichever reads less. Reading the fragment's
      // values instead meant every posting of it: "user-10" + 30 days 570 ms, "son" + a week 989 ms.
      // Its total is the estimate: counting would read the same again.
      return walkedPage(inRange <= (4 * fetch * walked) / Math.max(1, documents) ? 'range' : 'orders');
    }
    const [page, wholeFilter] = await Promise.all([rows(em, pageQuery(filter, ordering, after, fetch)), alone ? held.holding : estimate()]);
    if (complete(page)) return { page, total: exact(page.length) };
    // In more values than read whole: counting would read them all the same. Each value is a line of a
    // document at least, and a full page by date tells how densely the matches came in the span it
    // walked (spreadEstimate). The statistics' estimate is one ANALYZE's sample: "obinson" at 1M orders,
    // in 16,362 orders, was put in 6,006 to 16,016 by the ~1,000 documents of its histogram.
    if (unread !== undefined) {
      const spread = spreadEstimate(statistics, filter, ordering, after, page, fetch) ?? 0;
      return { page, total: { value: Math.max(wholeFilter, unread, spread, page.length), exact: false } };
    }
    const estimated = moreThanCounted ? Math.max(wholeFilter, EXACT_COUNT_LIMIT + 1) : wholeFilter;
    return { page, total: estimated > EXACT_COUNT_LIMIT ? { value: estimated, exact: false } : await counted(estimated, page.length) };
  }

  if (singleColumn(filter)) {
    // One column's statistics: the estimate settles a large total on its own, and the count runs only
    // when it could come out exact.
    const [page, estimated] = await Promise.all([rows(em, pageQuery(filter, ordering, after, fetch)), estimate()]);
    if (complete(page)) return { page, total: exact(page.length) };
    if (estimated >= trustedEstimateFrom) return { page, total: { value: estimated, exact: false } };
    return { page, total: await counted(estimated, page.length) };
  }
  // Any other filter, or free text that is no fragment (an order number's prefix, an id, a whole
  // email): the count beside the page, not after it (a filter's count is an index range, a few ms or
  // its budget at worst; waiting for the page first added its time to every full page's), and the
  // estimate asked only when the count does not settle the total. An email's EXPLAIN plans its
  // fallback through the documents' histogram: 2.4 ms at 1M orders, the longest statement of such a
  // search. A whole id or email names a handful: its first page is nearly always all of them, and
  // a count beside it would only repeat it (a round trip); it is counted after a full page. An
  // order number's prefix (exactNumber: 3+ digits) can name thousands.
  const countAfter = filter.q !== undefined && after === undefined && exactNumber(filter.q) === undefined;
  // An order number's prefix without parallel workers: "100" (#100, #1000–1009, … #1000000–1009999)
  // at 1M orders names 2,110, the newest first; the planner, expecting as many, walked the orders by
  // date with two workers, whose start took 3–8 ms of a 4.8–9.8 ms statement. Alone it reads the
  // numbers' ranges and sorts them: 1.4 ms (withLocalSettings: the setting goes with the statement).
  const pageRows = () =>
    exactNumber(filter.q) === undefined
      ? rows(em, pageQuery(filter, ordering, after, fetch))
      : withLocalSettings(em, { max_parallel_workers_per_gather: '0' }, pageQuery(filter, ordering, after, fetch));
  const [page, besideIt] = countAfter ? [await pageRows(), undefined] : await Promise.all([pageRows(), budgetedCount()]);
  if (complete(page)) return { page, total: exact(page.length) };
  const count = countAfter ? await budgetedCount() : besideIt;
  if (count !== undefined && count <= EXACT_COUNT_LIMIT) return { page, total: exact(count) };
  return { page, total: totalOf(count, await estimate(), page.length) };
}

/**
 * The matches of a full page found walking by date, spread over the documents of the filter's date
 * range as densely as over the documents created in the span the page covers (from the cursor, or
 * the range's end, to its last row; held statistics of created_at): page × range ÷ span. At 1M orders
 * "obinson" (16,362 orders) came out at 16,505, where the documents' statistics put it in 9,009.
 * Undefined without the statistics, for a page that is not full, or by total.
 */
export function spreadEstimate(
  statistics: SearchStatistics | undefined,
  filter: OrderFilter,
  ordering: OrderOrdering,
  after: KeysetPosition | undefined,
  page: SearchRow[],
  fetch: number,
): number | undefined {
  if (!statistics || ordering.sort !== 'created' || page.length < fetch || page.length === 0) return undefined;
  const desc = ordering.direction === 'desc';
  const last = iso(page[page.length - 1]!.createdAt);
  const start = after ? iso(String(after.key)) : desc ? filter.createdTo : filter.createdFrom;
  const span = desc ? statistics.documentsCreated(last, start) : statistics.documentsCreated(start, last);
  const range = statistics.documentsCreated(filter.createdFrom, filter.createdTo);
  if (span === undefined || range === undefined) return undefined;
  return Math.min(range, Math.round((page.length * range) / Math.max(span, page.length)));
}

/**
 * A filter on at most one column of "order": none, statuses, a currency, an amount range or a date
 * range. The planner's estimate for it is that column's own statistics (its most common values or
 * histogram, from a sample of 30,000 rows at the default statistics target), not a product of
 * several columns' selectivities: ~1 % of the table is estimated within ~6 %, so an estimate four
 * times EXACT_COUNT_LIMIT is not a list of 10,000 or fewer, unless the table changed by far more
 * than autovacuum lets pass before analysing it again.
 */
export function singleColumn(filter: OrderFilter): boolean {
  if (filter.q !== undefined || filter.ids?.length || filter.customerType !== undefined || filter.customerId !== undefined) return false;
  const columns = [filter.status?.length ? filter.status : undefined, filter.currency, filter.amountMin ?? filter.amountMax, filter.createdFrom ?? filter.createdTo];
  return columns.filter((column) => column !== undefined).length <= 1;
}

/** From this estimate on, a single column's filter is not counted (singleColumn). */
export const TRUSTED_ESTIMATE = 4 * EXACT_COUNT_LIMIT;
