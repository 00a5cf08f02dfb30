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
                 c.reltuples, c.relpages, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages
            from pg_class c
            left join pg_stats s on s.schemaname = current_schema() and s.tablename = 'order_search' and s.attname = 'document'
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
              estimates: new Map(),
            }
          : undefined;
      this.#readAt = performance.now();
    } catch {
      // Unreadable now (the database away): what is held stays, and the next search tries again.
    }
  }
}
