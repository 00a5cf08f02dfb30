import type { RawBuilder } from 'kysely';
import { sql } from '../../db/sql.js';
import { isUuidIgnoringCase } from '../../ids.js';

/*
 * What the back office's free text `q` matches, as staff type it (case never matters):
 *  - digits, with or without '#': the order number by prefix (`#100`, `100` find #100, #1001,
 *    #10023, …), answered from order_number_unique as at most eight number ranges. One or two
 *    digits find that number exactly: a prefix that short names a tenth of all orders.
 *  - a whole uuid: that order, or the order of that payment attempt (primary keys).
 *  - anything else of 3+ characters: a fragment, anywhere in the order's search document
 *    (search-document.ts: ids, customer, payer, PayPal ids, skus, product names), through its
 *    trigram index. `%`, `_` and `\` are literal characters there, never wildcards.
 *  - a whole email (`someone@example.com`): the orders a PayPal payer with exactly that email paid
 *    or approved (attempt_payer_email_idx, a btree: ~1 ms however common its domain); only when there
 *    are none, the fragment anywhere in the documents (a customer's email, a longer address).
 *  - a fragment without three letters or digits in a row (`ab`, `@.`, `%_`) matches nothing: it
 *    gives the trigram index nothing to look up, and would read every document.
 */

/** Fewer digits than this are an exact order number, not a prefix. */
export const MIN_NUMBER_PREFIX = 3;
const MAX_ORDER_NUMBER = 2_147_483_647;
/** A run of this many letters or digits gives the trigram index something to look up. */
const SEARCHABLE = /[\p{L}\p{N}]{3}/u;

/** `number` and every number that starts with its digits, as inclusive ranges. */
export function numberPrefixRanges(digits: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (let scale = 1; ; scale *= 10) {
    const low = Number(digits) * scale;
    if (low > MAX_ORDER_NUMBER) return ranges;
    ranges.push([low, Math.min(MAX_ORDER_NUMBER, low + scale - 1)]);
  }
}

/** `value` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `q` as an order number's digits (with '#' it can only be one), or undefined: no order number. */
function numberDigits(q: string): { digits: string; isNumber: boolean } | undefined {
  const number = /^(#?)(\d+)$/.exec(q);
  const digits = number?.[2] ?? '';
  const isNumber = !digits.startsWith('0') && Number(digits) <= MAX_ORDER_NUMBER;
  // Without '#', digits no order number has are an id's fragment.
  return number && (number[1] === '#' || isNumber) ? { digits, isNumber } : undefined;
}

/** A whole email address, as staff paste it. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Whether `q` is looked up as a fragment in the search documents (and may match very many): the
 * page is then found inside order_search (order-search.ts), its total estimated first.
 */
export function isFragmentSearch(q: string | undefined): boolean {
  return q !== undefined && numberDigits(q) === undefined && !isUuidIgnoringCase(q) && !EMAIL.test(q) && SEARCHABLE.test(q.toLowerCase());
}

/** The order number `q` names exactly when it is also read as a prefix (3+ digits): listed first. */
export function exactNumber(q: string | undefined): number | undefined {
  const number = q === undefined ? undefined : numberDigits(q);
  return number?.isNumber && number.digits.length >= MIN_NUMBER_PREFIX ? Number(number.digits) : undefined;
}

/**
 * The pieces of a piece of an id (hex digits and dashes, 8 digits or more) that the trigram index is
 * asked for, or undefined for any other fragment (looked up whole). Ids are written in 16 letters, and
 * some of their trigrams are in nearly every document: a UUIDv7 starts with the time (`019e8…` in
 * every order of a few days), and pg_trgm pads each dash-separated group, so `-7…` and `-8…` (the
 * version and variant digits) start a "word" in every id. Intersecting those posting lists was the
 * whole cost of finding one order by a piece of its id: at 1,000,000 orders (EXPLAIN ANALYZE, warm)
 * "019e8f7e" read 261 index pages in 6.5 ms, "869d-74e8-8dfe" 678 pages in 15–18 ms. Asked instead
 * for each dash-separated group (no padding), the first one without its first three digits when five
 * or more are left (the densest part of a time prefix): 84 pages, 1.3 ms; 55 pages, 1.3 ms. The
 * fragment itself is still matched whole; the pieces only choose what the index reads.
 */
export function idFragmentPieces(fragment: string): string[] | undefined {
  const lower = fragment.toLowerCase();
  if (!/^[0-9a-f-]+$/.test(lower) || lower.replaceAll('-', '').length < 8) return undefined;
  const pieces = lower
    .split('-')
    .map((group, i) => (i === 0 && group.length >= 8 ? group.slice(3) : group))
    .filter((piece) => piece.length >= 3);
  return pieces.length ? pieces : undefined;
}

/**
 * `order_search` s's document contains `q` (a fragment: isFragmentSearch), as a LIKE the trigram index
 * answers. For a piece of an id, the index is asked for its pieces (idFragmentPieces) and the whole
 * fragment is compared in the "C" collation, which the index does not serve (LIKE here never depends on
 * collation): otherwise the planner adds the whole fragment's trigrams back to the index scan.
 */
export function documentMatch(q: string): RawBuilder<unknown> {
  const whole = containsPattern(q.toLowerCase());
  const pieces = idFragmentPieces(q);
  if (!pieces) return sql`s.document like ${whole}`;
  return sql`(${sql.join([...pieces.map((piece) => sql`s.document like ${containsPattern(piece)}`), sql`s.document like ${whole} collate "C"`], sql` and `)})`;
}

/** The condition on "order" o for the free text `q` (already trimmed by the input schema). */
export function textMatch(q: string): RawBuilder<unknown> {
  const number = numberDigits(q);
  if (number) {
    const { digits, isNumber } = number;
    if (!isNumber) return sql`false`;
    if (digits.length < MIN_NUMBER_PREFIX) return sql`o.number = ${Number(digits)}`;
    const ranges = numberPrefixRanges(digits).map(([low, high]) => (low === high ? sql`o.number = ${low}` : sql`o.number between ${low} and ${high}`));
    return sql`(${sql.join(ranges, sql` or `)})`;
  }
  if (isUuidIgnoringCase(q)) {
    const id = q.toLowerCase();
    return sql`o.id in (select ${id}::uuid union all select order_id from order_payment_attempt where id = ${id}::uuid)`;
  }
  const fragment = q.toLowerCase();
  if (!SEARCHABLE.test(fragment)) return sql`false`;
  if (EMAIL.test(q)) {
    // The exact payer first (a btree lookup); the one-time `not exists` skips the trigram scan when it found any.
    const exact = sql`select a.order_id from order_payment_attempt a where lower(a.payer_email) = ${fragment}`;
    return sql`o.id in (${exact} union all
      select s.order_id from order_search s where ${documentMatch(q)} and not exists (${exact}))`;
  }
  return sql`o.id in (select s.order_id from order_search s where ${documentMatch(q)})`;
}
