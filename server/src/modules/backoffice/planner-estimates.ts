/*
 * PostgreSQL's planner's row estimates for the conditions a search asks about, worked out from the
 * same statistics (pg_stats) held in memory (search-statistics.ts), so that a search does not send an
 * EXPLAIN and wait for its round trip. The rules are the planner's, from selfuncs.c and clausesel.c:
 *  - a column equal to a constant (var_eq_const): the constant's frequency among the most common
 *    values, or else an equal share of what the most common values and nulls leave, per other
 *    distinct value, never more than the least common of them;
 *  - a column in a list of constants (scalararraysel): the list's values' shares added;
 *  - an inequality (scalarineqsel): the most common values on its side, plus the histogram's share
 *    of the rest (ineq_histogram_selectivity: the constant's place among the bounds, interpolated
 *    linearly within its bin);
 *  - both ends of a range on one column (clauselist_selectivity): the two shares added, less one;
 *  - conditions on different columns: their shares multiplied, taken as independent (there are no
 *    extended statistics);
 *  - rows: the table's density at the last ANALYZE times its pages now, times the share, rounded.
 * Where a constant falls in a histogram's first or last bin the planner reads the column's index for
 * the actual smallest and largest values; here the ends are the histogram's, as the last ANALYZE saw
 * them (a range of the last minutes is estimated from the last bin as it was then).
 */

/** One column's statistics as pg_stats has them, values as numbers (epoch seconds, amounts) or text. */
export interface ColumnStatistics<T extends number | string> {
  common: { value: T; frequency: number }[];
  /** Histogram bounds, ascending (numbers only: the inequalities are asked of numbers and timestamps). */
  bounds: T[];
  /** pg_stats.n_distinct: the distinct values, or (negative) their share of the rows. */
  distinct: number;
  nullShare: number;
}

/** The planner's row count for a table: its density at the last ANALYZE times its pages now. */
export function plannerRows(table: { reltuples: number; relpages: number; pages: number }): number {
  if (table.reltuples < 0 || table.relpages <= 0) return -1;
  return Math.round((table.reltuples / table.relpages) * table.pages);
}

const clamp = (share: number) => Math.min(1, Math.max(0, share));
const commonShare = <T extends number | string>(column: ColumnStatistics<T>) => column.common.reduce((sum, { frequency }) => sum + frequency, 0);

/** The share of rows where `column` equals `value` (var_eq_const). */
export function equalShare<T extends number | string>(column: ColumnStatistics<T>, value: T, rows: number): number {
  const common = column.common.find((c) => c.value === value);
  if (common) return common.frequency;
  let share = clamp(1 - commonShare(column) - column.nullShare);
  const distinct = column.distinct < 0 ? Math.round(-column.distinct * rows) : column.distinct;
  const others = distinct - column.common.length;
  if (others > 1) share /= others;
  const least = column.common.at(-1)?.frequency;
  return least !== undefined && share > least ? least : share;
}

/** The share of rows where `column` is one of `values` (scalararraysel for "= any" of distinct constants). */
export function inListShare<T extends number | string>(column: ColumnStatistics<T>, values: readonly T[], rows: number): number {
  const shares = [...new Set(values)].map((value) => equalShare(column, value, rows));
  const disjoint = shares.reduce((sum, share) => sum + share, 0);
  if (disjoint >= 0 && disjoint <= 1) return disjoint;
  return shares.reduce((either, share) => either + share - either * share, 0);
}

/** The histogram's share below `value` (at or below it when `orEqual`): ineq_histogram_selectivity. */
function histogramBelow(bounds: readonly number[], value: number, orEqual: boolean): number {
  const last = bounds.length - 1;
  if (orEqual ? value < bounds[0]! : !(value > bounds[0]!)) return 0;
  if (orEqual ? value >= bounds[last]! : value > bounds[last]!) return 1;
  // The first bound past the value (at or past it for "<"): the value is in the bin ending there.
  let low = 0;
  let high = last;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (orEqual ? bounds[middle]! <= value : bounds[middle]! < value) low = middle + 1;
    else high = middle;
  }
  const start = bounds[low - 1]!;
  const end = bounds[low]!;
  const inBin = end > start ? (value - start) / (end - start) : 0.5;
  return clamp((low - 1 + inBin) / last);
}

/** The share of rows on one side of `value` (scalarineqsel): `above` for ">" / ">=", else "<" / "<="; `orEqual` for ">=" / "<=". */
export function inequalityShare(column: ColumnStatistics<number>, value: number, above: boolean, orEqual: boolean): number {
  const keep = (v: number) => (above ? (orEqual ? v >= value : v > value) : orEqual ? v <= value : v < value);
  const common = column.common.reduce((sum, c) => sum + (keep(c.value) ? c.frequency : 0), 0);
  const rest = 1 - column.nullShare - commonShare(column);
  // ">=" is the complement of "<", ">" of "<=".
  const below = histogramBelow(column.bounds, value, above ? !orEqual : orEqual);
  const histogram = column.bounds.length >= 2 ? (above ? 1 - below : below) : 0.5;
  return clamp(rest * histogram + common);
}

/** Both ends of a range on one column, either open (clauselist_selectivity's range pairs). */
export function rangeShare(column: ColumnStatistics<number>, low: { value: number; orEqual: boolean } | undefined, high: { value: number; orEqual: boolean } | undefined): number {
  const above = low && inequalityShare(column, low.value, true, low.orEqual);
  const below = high && inequalityShare(column, high.value, false, high.orEqual);
  if (above === undefined) return below ?? 1;
  if (below === undefined) return above;
  // Each share counts the rows on the other side too (and leaves out the nulls twice: put back once).
  const share = above + below - 1 + column.nullShare;
  if (share > 0) return share;
  return share < -0.01 ? 0.005 : 1e-10;
}

/** Rows for a share of a table's `rows`, as the planner rounds them (at least one). */
export function rowsOf(share: number, rows: number): number {
  return Math.max(1, Math.round(share * rows));
}
