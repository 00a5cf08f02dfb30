import type { EntityManager, InferKyselyDB } from '@mikro-orm/postgresql';
import type { Kysely, RawBuilder } from 'kysely';
import type { entities } from './orm.js';

export { sql } from 'kysely';
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

/**
 * Raw statements return timestamps as PostgreSQL text (MikroORM leaves pg's parsers off);
 * the API speaks ISO 8601.
 */
export function iso(value: Date | string): string;
export function iso(value: Date | string | null): string | null;
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
