import type { MikroORM } from '@mikro-orm/postgresql';
import { firstRow, sql } from '../../db/sql.js';

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
 * The documents created in a date range are estimated the same way, from order_search.created_at's
 * histogram (a fragment search with a date range weighs its fragment by the range's share of the
 * documents): the planner's rule for an inequality (ineq_histogram_selectivity in selfuncs.c), the
 * constant's place among the histogram's bounds, interpolated linearly within its bin; a range's
 * two ends combined as clauselist_selectivity combines them (the two shares added, less one). This
 * skips an EXPLAIN and its round trip before the search's own statement. Where the constant falls in
 * the histogram's first or last bin the planner reads order_search_created_idx for the actual oldest
 * and newest document; here those ends are the histogram's, as the last ANALYZE saw them, so a range
 * of the last minutes is estimated from the last bin as it was then (at 1,000,000 orders: within one
 * row of EXPLAIN's estimate for ranges of a day to a year, 5 against 6 for the last 15 minutes).
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
  /** order_search.created_at's statistics, in epoch seconds: histogram bounds, most common values, share of nulls; undefined without a histogram. */
  created: { bounds: number[]; common: { value: number; frequency: number }[]; nullShare: number } | undefined;
  /**
   * Fragments' estimates from these statistics, the most recently asked last: matching one against
   * the histogram's ~1,000 documents took ~0.2 ms of the server's CPU per search at 1M orders, and a
   * list asks the same fragment again for each page, each live update and each sort.
   */
  estimates: Map<string, FragmentEstimate>;
}

interface StatisticsRow {
  histogram: string[] | null;
  mostCommon: string[] | null;
  frequencies: number[] | null;
  nullShare: number | null;
  createdBounds: number[] | null;
  createdCommon: number[] | null;
  createdFrequencies: number[] | null;
  createdNullShare: number | null;
  reltuples: number;
  relpages: number;
  pages: number;
}

/** The planner's row count for a table: its density at the last ANALYZE times its pages now. */
function plannerRows(row: Pick<StatisticsRow, 'reltuples' | 'relpages' | 'pages'>): number {
  if (row.reltuples < 0 || row.relpages <= 0) return -1;
  return (row.reltuples / row.relpages) * row.pages;
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
  return { holding: Math.max(1, Math.round(selectivity * rows)), documents: rows };
}

/** The share of `bounds` (a histogram, ascending) below `value`: ineq_histogram_selectivity for "<". */
function shareBelow(bounds: number[], value: number): number {
  const last = bounds.length - 1;
  let share: number;
  if (!(value > bounds[0]!)) share = 0;
  else if (value >= bounds[last]!) share = 1;
  else {
    // The first bound at or above the value: the value is in the bin ending there.
    let low = 0;
    let high = last;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (bounds[middle]! < value) low = middle + 1;
      else high = middle;
    }
    const start = bounds[low - 1]!;
    const end = bounds[low]!;
    const inBin = end > start ? (value - start) / (end - start) : 0.5;
    share = (low - 1 + inBin) / last;
  }
  return share;
}

export class DocumentStatistics {
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
    const created = snapshot?.created;
    if (!snapshot || !created) return undefined;
    const since = from === undefined ? undefined : Date.parse(from) / 1000;
    const until = to === undefined ? undefined : Date.parse(to) / 1000;
    if (Number.isNaN(since) || Number.isNaN(until)) return undefined;
    // Each end as scalarineqsel takes it: the most common values on its side, and the histogram's share of the rest.
    const commonShare = created.common.reduce((sum, { frequency }) => sum + frequency, 0);
    const rest = 1 - created.nullShare - commonShare;
    const side = (keep: (value: number) => boolean, histogram: number) =>
      created.common.reduce((sum, { value, frequency }) => sum + (keep(value) ? frequency : 0), 0) + histogram * rest;
    const notNull = 1 - created.nullShare;
    const atOrAfter = since === undefined ? undefined : side((value) => value >= since, 1 - shareBelow(created.bounds, since));
    const before = until === undefined ? undefined : side((value) => value < until, shareBelow(created.bounds, until));
    let selectivity: number;
    if (atOrAfter !== undefined && before !== undefined) {
      // Both ends: each share counts the other side's rows too (nulls twice, put back once).
      selectivity = atOrAfter + before - 1 + created.nullShare;
      if (selectivity <= 0) selectivity = selectivity < -0.01 ? 0.005 : 1e-10;
    } else selectivity = atOrAfter ?? before ?? notNull;
    return Math.max(1, Math.round(selectivity * snapshot.rows));
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
      const row = await firstRow(
        this.orm.em.fork(),
        sql<StatisticsRow>`
          select s.histogram_bounds::text::text[] as histogram, s.most_common_vals::text::text[] as "mostCommon",
                 s.most_common_freqs as frequencies, s.null_frac as "nullShare",
                 (select array_agg(extract(epoch from b)::float8 order by i) from unnest(d.histogram_bounds::text::timestamptz[]) with ordinality u(b, i)) as "createdBounds",
                 (select array_agg(extract(epoch from b)::float8 order by i) from unnest(d.most_common_vals::text::timestamptz[]) with ordinality u(b, i)) as "createdCommon",
                 d.most_common_freqs as "createdFrequencies", d.null_frac as "createdNullShare",
                 c.reltuples, c.relpages, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages
            from pg_class c
            left join pg_stats s on s.schemaname = current_schema() and s.tablename = 'order_search' and s.attname = 'document'
            left join pg_stats d on d.schemaname = current_schema() and d.tablename = 'order_search' and d.attname = 'created_at'
           where c.oid = 'order_search'::regclass`,
      );
      const rows = row ? plannerRows(row) : -1;
      const histogram = row?.histogram ?? [];
      this.#snapshot =
        row && rows >= 0 && histogram.length >= MIN_HISTOGRAM
          ? {
              histogram: histogram.slice(1, -1),
              mostCommon: (row.mostCommon ?? []).map((value, i) => ({ value, frequency: row.frequencies?.[i] ?? 0 })),
              nullShare: row.nullShare ?? 0,
              rows,
              created:
                row.createdBounds && row.createdBounds.length >= MIN_HISTOGRAM
                  ? {
                      bounds: row.createdBounds,
                      common: (row.createdCommon ?? []).map((value, i) => ({ value, frequency: row.createdFrequencies?.[i] ?? 0 })),
                      nullShare: row.createdNullShare ?? 0,
                    }
                  : undefined,
              estimates: new Map(),
            }
          : undefined;
      this.#readAt = performance.now();
    } catch {
      // Unreadable now (the database away): what is held stays, and the next search tries again.
    }
  }
}
