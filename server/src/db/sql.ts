import type { EntityManager, InferKyselyDB } from '@mikro-orm/postgresql';
import type { Compilable, Kysely, RawBuilder } from 'kysely';
import type { entities } from './orm.js';

import { sql } from 'kysely';

export { sql };
export type { EntityManager };

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
 * pool's connections keep their defaults, also behind PgBouncer), and returns its rows. Three round
 * trips: BEGIN and the settings as one simple query, the statement, COMMIT; a statement that fails
 * rolls its settings back with it. Used for a statement's sort memory, its parallel workers or its
 * time budget (search-page.ts: withinBudget).
 */
export async function withLocalSettings<R>(em: EntityManager, settings: Readonly<Record<string, string>>, statement: RawBuilder<R> | Compilable<R>): Promise<R[]> {
  // On a connection of its own: inside another transaction, its COMMIT would end that one.
  if (em.isInTransaction()) throw new Error('withLocalSettings runs its statement in a transaction of its own, not inside one');
  const assignments = Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new Error(`not a plain PostgreSQL setting: ${name} = ${value}`);
    return `set local ${name} = '${value}'`;
  });
  return db(em)
    .connection()
    .execute(async (connection) => {
      await sql.raw(['begin', ...assignments].join('; ')).execute(connection);
      try {
        const { rows: found } = await connection.executeQuery<R>('isRawBuilder' in statement ? statement.compile(connection) : statement.compile());
        await sql.raw('commit').execute(connection);
        return found;
      } catch (error) {
        // A connection that failed is closed and dropped by the pool; only the statement's error matters.
        await sql.raw('rollback').execute(connection).catch(() => undefined);
        throw error;
      }
    });
}

/** A timestamptz as PostgreSQL writes it in UTC, up to microseconds. */
const PG_UTC_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

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
    const utc = PG_UTC_TIMESTAMP.exec(value);
    if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  }
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
