import type { EntityManager, InferKyselyDB } from '@mikro-orm/postgresql';
import type { Compilable, Kysely, RawBuilder } from 'kysely';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { entities } from './orm.js';

import { sql } from 'kysely';

export { sql };
export type { EntityManager };

/**
 * node-postgres' own conversion of a query parameter to the text it sends (pg/lib/utils.js, which
 * pg's package exports as ./lib/*). Required, not imported: @types/pg does not declare it, and the
 * client package's declaration build compiles this file too.
 */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): string | Buffer | null | undefined };

/*
 * The rule for queries: a repository reads through `db(em)`, Kysely typed from the entities, so a
 * column or table that does not exist (or has another type) is a compile error. A hand-written
 * `sql` statement stays only where the database must decide a race — a conditional update, a row
 * or advisory lock, `on conflict` — and types its rows from the repository's typed row.
 */

/** The tables and columns of every entity, as Kysely sees them (snake_case, as in the database). */
export type Database = InferKyselyDB<(typeof entities)[number]>;

/** Kysely over the entities, inside the entity manager's transaction when there is one. */
export function db(em: EntityManager): Kysely<Database> {
  return em.getKysely<Database>();
}

/**
 * Runs a parameterised statement on the entity manager's connection, inside its transaction when
 * there is one. Used where the database must decide a race (conditional updates, row locks).
 */
export async function rows<R>(em: EntityManager, statement: RawBuilder<R>): Promise<R[]> {
  const result = await statement.execute(em.getKysely());
  return result.rows;
}

export async function firstRow<R>(em: EntityManager, statement: RawBuilder<R>): Promise<R | undefined> {
  return (await rows(em, statement))[0];
}

export async function affected(em: EntityManager, statement: RawBuilder<unknown>): Promise<number> {
  const result = await statement.execute(em.getKysely());
  return Number(result.numAffectedRows ?? 0n);
}

/** A setting's name and value as SET LOCAL takes them (a simple query has no parameters): plain words only. */
const SETTING_NAME = /^[a-z_]+(\.[a-z_]+)?$/;
const SETTING_VALUE = /^[A-Za-z0-9_.]+$/;

/**
 * Runs `statement` in a transaction of its own with PostgreSQL settings local to it (SET LOCAL: the
 * pool's connections keep their defaults, also behind PgBouncer), and returns its rows. One round
 * trip: BEGIN, the settings, the statement and COMMIT go as one simple query (PostgreSQL applies a
 * statement_timeout to each statement of it on its own). Its parameters are written into it as
 * literals (inlineParameters). Three round trips, ~0.25 ms each on the bench machine, had been a
 * tenth of a search's bounded count. A statement that fails rolls its settings back with it. Used for
 * a statement's sort memory, its parallel workers or its time budget (search-page.ts: withinBudget).
 */
export async function withLocalSettings<R>(em: EntityManager, settings: Readonly<Record<string, string>>, statement: RawBuilder<R> | Compilable<R>): Promise<R[]> {
  // On a connection of its own: inside another transaction, its COMMIT would end that one.
  if (em.isInTransaction()) throw new Error('withLocalSettings runs its statement in a transaction of its own, not inside one');
  const assignments = Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new Error(`not a plain PostgreSQL setting: ${name} = ${value}`);
    return `set local ${name} = '${value}'`;
  });
  const compiled = 'isRawBuilder' in statement ? statement.compile(db(em)) : statement.compile();
  const text = ['begin', ...assignments, inlineParameters(compiled.sql, compiled.parameters), 'commit'].join(';\n');
  // The request pool's own connection (the entity manager's, outside any transaction).
  const pool = (await em.getConnection().getNativeClient()) as pg.Pool;
  const client = await pool.connect();
  try {
    const results = (await client.query(text)) as unknown as pg.QueryResult[];
    client.release();
    return results[results.length - 2]!.rows as R[];
  } catch (error) {
    // The transaction is left aborted: rolled back before the connection goes back, or dropped.
    await client.query('rollback').then(
      () => client.release(),
      (failed: Error) => client.release(failed),
    );
    throw error;
  }
}

/** The opening of a dollar-quoted string: `$$`, or a tag (an identifier without `$`) between two `$`. */
const DOLLAR_QUOTE = /^\$(?:[\p{L}_][\p{L}\p{N}_]{0,62})?\$/u;

/**
 * `sql` with each `$n` replaced by `parameters[n - 1]` written as a literal (literal), for a simple
 * query, which has no parameters. Quoted strings, dollar-quoted strings, quoted identifiers and
 * comments are passed over.
 */
export function inlineParameters(text: string, parameters: readonly unknown[]): string {
  let out = '';
  let i = 0;
  // Copies text[i..] through the first `end` (inclusive) after `from`: a quoted string or identifier, or a comment.
  const passOver = (from: number, end: string, escapes = false) => {
    let j = from;
    while (j < text.length) {
      if (escapes && text[j] === '\\') j += 2;
      else if (text.startsWith(end, j)) return j + end.length;
      else j++;
    }
    if (end !== '\n') throw new Error('unterminated quote or comment in statement');
    return j;
  };
  while (i < text.length) {
    const c = text[i]!;
    let next: number | undefined;
    if (c === "'") next = passOver(i + 1, "'", /[eE]/.test(text[i - 1] ?? '') && !/[\p{L}\p{N}_]/u.test(text[i - 2] ?? ''));
    else if (c === '"') next = passOver(i + 1, '"');
    else if (text.startsWith('--', i)) next = passOver(i + 2, '\n');
    else if (text.startsWith('/*', i)) next = passOver(i + 2, '*/');
    else if (c === '$' && !/[\p{L}\p{N}_$]/u.test(text[i - 1] ?? '')) {
      // A dollar-quoted string ($$…$$, $tag$…$tag$), not a `$` inside an identifier: its body is text.
      const tag = DOLLAR_QUOTE.exec(text.slice(i, i + 66))?.[0];
      if (tag) next = passOver(i + tag.length, tag);
    }
    if (next !== undefined) {
      out += text.slice(i, next);
      i = next;
      continue;
    }
    const placeholder = c === '$' ? /^\$(\d+)/.exec(text.slice(i, i + 12)) : null;
    if (placeholder) {
      const index = Number(placeholder[1]) - 1;
      if (index < 0 || index >= parameters.length) throw new Error(`no parameter for $${index + 1}`);
      out += literal(parameters[index]);
      i += placeholder[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/**
 * A parameter as the extended protocol sends it, written as a literal: pg's own text for it
 * (prepareValue: numbers, booleans, dates, arrays, JSON), quoted by pg's escapeLiteral, so untyped
 * ('…' takes its type from where it stands, as an untyped parameter does: `limit '10'`,
 * `coalesce(a_text, '5')`). Bytes (sent as binary) are not written.
 */
function literal(value: unknown): string {
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) throw new Error('cannot write a binary parameter as a literal');
  const text = prepareValue(value);
  if (text === null || text === undefined) return 'null';
  if (typeof text !== 'string') throw new Error(`cannot write a ${typeof value} parameter as a literal`);
  return pg.escapeLiteral(text);
}

/** A timestamptz as PostgreSQL writes it in UTC, up to microseconds. */
const PG_UTC_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\+00$/;

/**
 * Raw statements return timestamps as PostgreSQL text (MikroORM leaves pg's parsers off);
 * the API speaks ISO 8601.
 */
export function iso(value: Date | string): string;
export function iso(value: Date | string | null): string | null;
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  if (typeof value === 'string') {
    // PostgreSQL's text in UTC ("2026-12-01 03:20:48.123456+00") rewritten, not parsed: a page of 100
    // rows has 300 timestamps, and Date's parser took ~1.3 µs each (0.3 ms of a search). Same result:
    // milliseconds, the rest of the microseconds cut as Date cuts them.
    // Tested, then sliced at fixed places ("2026-12-01 03:20:48[.123456]+00"): a match's array and
    // captures were ~58 KB of each 100-row search's ~506 KB of garbage.
    if (PG_UTC_TIMESTAMP.test(value)) return `${value.slice(0, 10)}T${value.slice(11, 19)}.${value.slice(20, value.length - 3).slice(0, 3).padEnd(3, '0')}Z`;
  }
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
