import type { MikroORM } from '@mikro-orm/postgresql';
import { rows as rowsOfStatement, sql } from '../../db/sql.js';
import type { OrderFilter } from './order-search.js';
import { equalShare, inListShare, plannerRows, rangeShare, rowsOf, type ColumnStatistics } from './planner-estimates.js';

/*
 * How many search documents hold a fragment, as PostgreSQL's planner would estimate it, worked out
 * here from the same statistics. A fragment search first asks that number (search-page.ts: few
 * documents are read and counted in one statement, many are walked), and asking PostgreSQL meant an
 * EXPLAIN whose planning matched the LIKE against each of the 1,000 documents of the column's
 * histogram: 1.1 ms at 1,000,000 orders, plus a round trip, before any search statement could start.
 * The histogram is ANALYZE's sample of the documents; held in memory, the same matching takes ~30 µs.
 *
 * The rule is the planner's for a pattern without a fixed prefix (patternsel_common in PostgreSQL's
 * like_support.c): the share of histogram entries holding it, its two ends left out, believed between
 * 0.01 % and 99.99 %, applied to the documents that are neither null nor most common, plus the most
 * common documents holding it (order_search has none: each document names its order); times the
 * table's rows, its density at the last ANALYZE times its size now. A histogram of fewer than 100
 * entries (a small table) is blended with heuristics there: then there is no estimate here, and the
 * caller asks PostgreSQL.
 */

/*
 * The search's other estimates come from the same snapshot, by the planner's rules for comparisons
 * (planner-estimates.ts): the documents created in a date range (order_search.created_at's
 * statistics: a fragment search with a date range weighs its fragment by the range's share), and the
 * orders a filter without free text keeps (the statistics of "order"'s status, currency, customer,
 * created_at and total: the total a list shows when there are too many to count, and the share of
 * a walk that ends on the page). Each was an EXPLAIN and its round trip, ~0.1 ms of planning and
 * ~0.3–1 ms of waiting on this machine, before or beside the search's own statements. At 1,000,000
 * orders the bench's filters come out within 0.2 % of EXPLAIN's figure (most of them exactly), and
 * date ranges of a day to a year within a row; the held statistics are at most
 * STATISTICS_MAX_AGE_MS old, where EXPLAIN reads the table's size now.
 */

/** Statistics this old are read again (in the background: the search goes on with the old ones). */
export const STATISTICS_MAX_AGE_MS = 60_000;
const MIN_HISTOGRAM = 100;

/** How many documents hold a fragment, and how many there are in all (the planner's row counts). */
export interface FragmentEstimate {
  holding: number;
  documents: number;
}

interface Snapshot {
  /** Histogram entries, without the two ends the planner leaves out. */
  histogram: string[];
  mostCommon: { value: string; frequency: number }[];
  nullShare: number;
  rows: number;
  /** order_search.created_at's statistics (epoch seconds); undefined without a histogram. */
  created: ColumnStatistics<number> | undefined;
  /** "order"'s statistics for the filters, and its rows; undefined when any is missing (never analyzed). */
  orders: OrderColumns | undefined;
  /**
   * Fragments' estimates from these statistics, the most recently asked last: matching one against
   * the histogram's ~1,000 documents took ~0.2 ms of the server's CPU per search at 1M orders, and a
   * list asks the same fragment again for each page, each live update and each sort.
   */
  estimates: Map<string, FragmentEstimate>;
}

/** Fragments whose estimate is held for the current statistics (the most recently asked). */
const HELD_FRAGMENTS = 512;

/** The planner's rule (the header above) applied to `snapshot`. */
function estimateOf(snapshot: Snapshot, fragment: string): FragmentEstimate {
  const { histogram, mostCommon, nullShare, rows } = snapshot;
  let matched = 0;
  for (const document of histogram) if (document.includes(fragment)) matched++;
  const share = Math.min(0.9999, Math.max(0.0001, matched / histogram.length));
  let common = 0;
  let commonShare = 0;
  for (const { value, frequency } of mostCommon) {
    commonShare += frequency;
    if (value.includes(fragment)) common += frequency;
  }
  const selectivity = Math.min(1, Math.max(0, share * (1 - nullShare - commonShare) + common));
  return { holding: rowsOf(selectivity, rows), documents: rows };
}

export class SearchStatistics {
  #snapshot: Snapshot | undefined;
  #readAt = -Infinity;
  #reading: Promise<void> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly maxAgeMs = STATISTICS_MAX_AGE_MS,
  ) {}

  /**
   * The planner's estimate of the documents holding `fragment` (already lower case, as documents are),
   * and the documents in all; undefined when the statistics cannot tell (never analyzed, too small).
   */
  async documentsHolding(fragment: string): Promise<FragmentEstimate | undefined> {
    const snapshot = await this.#current();
    if (!snapshot) return undefined;
    const { estimates } = snapshot;
    const held = estimates.get(fragment);
    if (held) {
      // Most recently asked last: the oldest goes first when the map is full.
      estimates.delete(fragment);
      estimates.set(fragment, held);
      return held;
    }
    const estimate = estimateOf(snapshot, fragment);
    if (estimates.size >= HELD_FRAGMENTS) estimates.delete(estimates.keys().next().value!);
    estimates.set(fragment, estimate);
    return estimate;
  }

  /**
   * The planner's estimate of the documents created from `from` (inclusive) to `to` (exclusive), ISO
   * timestamps, either open; undefined when the statistics cannot tell (as documentsHolding). Call it
   * after documentsHolding, which reads the statistics when they are due: this one never waits.
   */
  documentsCreated(from: string | undefined, to: string | undefined): number | undefined {
    const snapshot = this.#snapshot;
    if (!snapshot?.created) return undefined;
    const share = createdShare(snapshot.created, from, to);
    return share === undefined ? undefined : rowsOf(share, snapshot.rows);
  }

  /**
   * The planner's estimate of the orders `filter` keeps, or undefined where the statistics cannot tell:
   * free text and chosen ids are left to EXPLAIN (a fragment's share is the documents', above).
   */
  async ordersMatching(filter: OrderFilter): Promise<number | undefined> {
    const orders = (await this.#current())?.orders;
    if (!orders || filter.q !== undefined || filter.ids?.length) return undefined;
    const { rows } = orders;
    let share = 1;
    if (filter.status?.length) share *= inListShare(orders.status, filter.status, rows);
    if (filter.currency) share *= equalShare(orders.currency, filter.currency, rows);
    if (filter.customerType) share *= equalShare(orders.customerType, filter.customerType, rows);
    if (filter.customerId) share *= equalShare(orders.customerId, filter.customerId, rows);
    const created = createdShare(orders.createdAt, filter.createdFrom, filter.createdTo);
    if (created === undefined) return undefined;
    share *= created;
    if (filter.amountMin !== undefined || filter.amountMax !== undefined) {
      share *= rangeShare(
        orders.total,
        filter.amountMin === undefined ? undefined : { value: filter.amountMin, orEqual: true },
        filter.amountMax === undefined ? undefined : { value: filter.amountMax, orEqual: true },
      );
    }
    return rowsOf(share, rows);
  }

  async #current(): Promise<Snapshot | undefined> {
    const stale = performance.now() - this.#readAt > this.maxAgeMs;
    if (stale && !this.#reading) {
      this.#reading = this.#read().finally(() => (this.#reading = undefined));
    }
    // The first search waits for the statistics; later ones use what is held while they are read again.
    if (this.#snapshot === undefined && this.#reading) await this.#reading;
    return this.#snapshot;
  }

  async #read(): Promise<void> {
    try {
      const columns = await rowsOfStatement(this.orm.em.fork(), columnsQuery);
      const column = (table: string, name: string) => columns.find((c) => c.table === table && c.name === name);
      const documents = column('order_search', 'document');
      const created = column('order_search', 'created_at');
      const rows = documents ? plannerRows(documents) : -1;
      const histogram = documents?.bounds ?? [];
      this.#snapshot =
        documents && rows >= 0 && histogram.length >= MIN_HISTOGRAM
          ? {
              histogram: histogram.slice(1, -1),
              mostCommon: textual(documents).common,
              nullShare: documents.nullShare,
              rows,
              created: created && (created.bounds?.length ?? 0) >= MIN_HISTOGRAM ? numeric(created) : undefined,
              orders: orderColumns(columns),
              estimates: new Map(),
            }
          : undefined;
      this.#readAt = performance.now();
    } catch {
      // Unreadable now (the database away): what is held stays, and the next search tries again.
    }
  }
}

/** The share of rows created from `from` (inclusive) to `to` (exclusive), ISO timestamps, either open. */
function createdShare(created: ColumnStatistics<number>, from: string | undefined, to: string | undefined): number | undefined {
  const since = from === undefined ? undefined : Date.parse(from) / 1000;
  const until = to === undefined ? undefined : Date.parse(to) / 1000;
  if (Number.isNaN(since) || Number.isNaN(until)) return undefined;
  return rangeShare(created, since === undefined ? undefined : { value: since, orEqual: true }, until === undefined ? undefined : { value: until, orEqual: false });
}

interface OrderColumns {
  rows: number;
  status: ColumnStatistics<string>;
  currency: ColumnStatistics<string>;
  customerType: ColumnStatistics<string>;
  customerId: ColumnStatistics<string>;
  createdAt: ColumnStatistics<number>;
  total: ColumnStatistics<number>;
}

/** A column's pg_stats row: values as text, timestamps and amounts also as numbers (epoch seconds). */
interface ColumnRow {
  table: string;
  name: string;
  reltuples: number;
  relpages: number;
  pages: number;
  common: string[] | null;
  commonNumbers: number[] | null;
  frequencies: number[] | null;
  bounds: string[] | null;
  boundNumbers: number[] | null;
  distinct: number;
  nullShare: number;
}

/**
 * The columns whose statistics the estimates read (the documents' own among them), with their tables'
 * sizes; a column never analyzed has no row. Timestamps become epoch
 * seconds and amounts numbers in PostgreSQL (anyarray's text read back as the column's own type).
 */
const columnsQuery = sql<ColumnRow>`
  select s.tablename as "table", s.attname as name, c.reltuples, c.relpages,
         (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages,
         s.most_common_vals::text::text[] as common, s.most_common_freqs as frequencies,
         s.histogram_bounds::text::text[] as bounds, s.n_distinct as distinct, s.null_frac as "nullShare",
         case when s.attname = 'created_at' then (select array_agg(extract(epoch from v::timestamptz)::float8 order by i) from unnest(s.most_common_vals::text::text[]) with ordinality u(v, i))
              when s.attname = 'total' then (select array_agg(v::float8 order by i) from unnest(s.most_common_vals::text::text[]) with ordinality u(v, i)) end as "commonNumbers",
         case when s.attname = 'created_at' then (select array_agg(extract(epoch from v::timestamptz)::float8 order by i) from unnest(s.histogram_bounds::text::text[]) with ordinality u(v, i))
              when s.attname = 'total' then (select array_agg(v::float8 order by i) from unnest(s.histogram_bounds::text::text[]) with ordinality u(v, i)) end as "boundNumbers"
    from pg_stats s
    join pg_class c on c.relname = s.tablename and c.relnamespace = (select oid from pg_namespace where nspname = current_schema())
   where s.schemaname = current_schema()
     and ((s.tablename = 'order_search' and s.attname in ('document', 'created_at'))
       or (s.tablename = 'order' and s.attname in ('status', 'currency', 'customer_type', 'customer_id', 'created_at', 'total')))`;

/** A column's statistics from its row, with its values as given (text, or the numbers PostgreSQL read them as). */
function columnOf<T extends number | string>(row: ColumnRow, common: T[] | null, bounds: T[] | null): ColumnStatistics<T> {
  return {
    common: (common ?? []).map((value, i) => ({ value, frequency: row.frequencies?.[i] ?? 0 })),
    bounds: bounds ?? [],
    distinct: row.distinct,
    nullShare: row.nullShare,
  };
}

const textual = (row: ColumnRow) => columnOf(row, row.common, row.bounds);
const numeric = (row: ColumnRow) => columnOf(row, row.commonNumbers, row.boundNumbers);

/** "order"'s columns, or undefined when one has no statistics (the planner then falls back on defaults: EXPLAIN asks it). */
function orderColumns(columns: ColumnRow[]): OrderColumns | undefined {
  const of = (name: string) => columns.find((c) => c.table === 'order' && c.name === name);
  const [status, currency, customerType, customerId, createdAt, total] = ['status', 'currency', 'customer_type', 'customer_id', 'created_at', 'total'].map(of);
  if (!status || !currency || !customerType || !customerId || !createdAt || !total) return undefined;
  const rows = plannerRows(status);
  if (rows < 0) return undefined;
  return {
    rows,
    status: textual(status),
    currency: textual(currency),
    customerType: textual(customerType),
    customerId: textual(customerId),
    createdAt: numeric(createdAt),
    total: numeric(total),
  };
}
