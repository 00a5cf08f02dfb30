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
 *    (search-document.ts: ids, customer, payer, PayPal ids, skus, product names), through the
 *    trigram index of the documents' values (search-values.ts). `%`, `_` and `\` are literal
 *    characters there, never wildcards.
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
 * asked for, or undefined for any other fragment (indexPattern). Ids are written in 16 letters, and
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
 * Every third trigram of `word`, none overlapping ("obinson": obi, nso). The index reads one posting
 * list for each trigram asked, and a fragment's values are few beside any of them: two or three
 * trigrams leave a handful of false candidates, which the whole fragment then rules out (valueMatch).
 */
function spacedTrigrams(word: string): string[] {
  // By characters, not UTF-16 units: a letter outside the BMP is one character of a trigram.
  const characters = Array.from(word);
  const trigrams: string[] = [];
  for (let i = 0; i + 3 <= characters.length; i += 3) trigrams.push(characters.slice(i, i + 3).join(''));
  return trigrams;
}

/**
 * The LIKE pattern the trigram index is asked for `q` (a fragment: isFragmentSearch); the values it
 * finds are then checked for the whole fragment (valueMatch). pg_trgm pads each word it finds in a
 * pattern: in "ceramic mug" the space makes `mug` a word's start, so the index is also asked for
 * `  m` and ` mu`, trigrams of every word starting with an m (`.com`, `mar…`): the longest posting
 * lists there are, each costing ~0.25 µs an entry to intersect. Asked for its words with `%` between
 * them, a fragment reads only the trigrams inside its words. Measured on the documents' index at
 * 1,000,000 orders (EXPLAIN ANALYZE, warm, same matches): "ceramic mug" 13.2 → 6.5 ms in the index,
 * "henry wil" 5.9 → 2.9, "enry.willia" 8.1 → 5.4. A word of one or two letters has no trigram of its
 * own (`04` in `mug-04`): only its padding tells it apart, so such a fragment is asked whole.
 *
 * A word of six letters or more is asked for every third trigram of it (spacedTrigrams), a shorter
 * one whole; a piece of an id (idFragmentPieces) for every third trigram of its pieces when that
 * makes three or more, else for its pieces whole. Measured on the values' index at 1,000,000 orders
 * (3.4 million values; median of 7 EXPLAIN ANALYZE each, warm), 79 fragments taken the bench's way
 * from 12 orders (names, name prefixes, emails, PayPal, sale and order ids): 227 → 191 ms in all,
 * a piece of an order id with dashes ~3.5 → ~2.0 ms, "odriguez" 5.8 → 4.6, "iam.jackson" 2.2 →
 * 1.1. Every third trigram can leave out the rarest: "ackson" 5.4 → 5.9 ms, "amelia rob" 1.7 → 1.8
 * (median of 40). A word of four or five letters asked for one trigram was slower ("right" 5.0 →
 * 7.8 ms: one long posting list, its values all checked), and trigrams that overlap cannot be
 * asked in one pattern ("atel" is not "%ate%tel%").
 */
export function indexPattern(q: string): string {
  const fragment = q.toLowerCase();
  const pieces = idFragmentPieces(fragment);
  if (pieces) {
    const spaced = pieces.flatMap(spacedTrigrams);
    return `%${(spaced.length >= 3 ? spaced : pieces).join('%')}%`;
  }
  const words = fragment.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
  if (words.length === 0 || words.some((word) => word.length < 3)) return containsPattern(fragment);
  return `%${words.flatMap((word) => (Array.from(word).length >= 6 ? spacedTrigrams(word) : [word])).join('%')}%`;
}

/**
 * `order_search` s's document contains `q` (a fragment: isFragmentSearch), checked in place (a common
 * fragment's walk, one order's lookup): with strpos, which costs no planning. The documents have no
 * index of their own (their values do), and a LIKE was estimated against all 1,000 documents of the
 * column's histogram in every statement: at 1,000,000 orders ~0.7 ms of the 2.0 ms a common fragment's
 * page spent planning. For an `estimate` (EXPLAIN), the LIKE of the whole fragment: what the planner
 * estimates from that histogram (strpos it would take for a third of the documents, blindly).
 */
export function documentMatch(q: string, estimate = false): RawBuilder<unknown> {
  const fragment = q.toLowerCase();
  return estimate ? sql`s.document like ${containsPattern(fragment)}` : sql`strpos(s.document, ${fragment}) > 0`;
}

/**
 * The search value `v` contains `q`: the trigram index of the values answers (search-values.ts) for
 * the index pattern (indexPattern), and when that pattern is not the fragment itself, the fragment is
 * found whole with strpos. The values' histogram is of short lines: their LIKE plans in ~0.05 ms.
 */
export function valueMatch(q: string): RawBuilder<unknown> {
  const fragment = q.toLowerCase();
  const pattern = indexPattern(fragment);
  if (pattern === containsPattern(fragment)) return sql`v.value like ${pattern}`;
  return sql`(v.value like ${pattern} and strpos(v.value, ${fragment}) > 0)`;
}

/** The ids of the orders whose document contains `q` (a fragment): its values, then their postings. */
export function matchingOrders(q: string): RawBuilder<unknown> {
  return sql`select p.order_id from order_search_posting p where p.value_id in (select v.id from order_search_value v where ${valueMatch(q)})`;
}

/** The orders holding the fragment `q`: from the values' index, or for an estimate, the documents' histogram. */
const fragmentOrders = (q: string, estimate: boolean) =>
  estimate ? sql`select s.order_id from order_search s where ${documentMatch(q, true)}` : matchingOrders(q);

/**
 * The order numbers `q` names as inclusive ranges (one number below MIN_NUMBER_PREFIX digits, else the
 * number and every number it starts), or undefined when `q` is no order number (textMatch).
 */
export function orderNumberRanges(q: string): [number, number][] | undefined {
  const number = numberDigits(q);
  if (!number?.isNumber) return undefined;
  const { digits } = number;
  return digits.length < MIN_NUMBER_PREFIX ? [[Number(digits), Number(digits)]] : numberPrefixRanges(digits);
}

/**
 * The condition on "order" o for the free text `q` (already trimmed by the input schema); for an
 * `estimate` (EXPLAIN only), a fragment's documents as the planner estimates them (documentMatch).
 */
export function textMatch(q: string, estimate = false): RawBuilder<unknown> {
  if (numberDigits(q)) {
    const ranges = orderNumberRanges(q)?.map(([low, high]) => (low === high ? sql`o.number = ${low}` : sql`o.number between ${low} and ${high}`));
    return ranges ? sql`(${sql.join(ranges, sql` or `)})` : sql`false`;
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
      select f.order_id from (${fragmentOrders(q, estimate)}) f where not exists (${exact}))`;
  }
  return sql`o.id in (${fragmentOrders(q, estimate)})`;
}
