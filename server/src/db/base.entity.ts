import { p } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';

/**
 * Columns every table carries. Ids are UUID v7: unguessable for callers, yet time-ordered so
 * inserts append to the primary key index instead of scattering across it.
 */
export function baseProperties() {
  return {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  };
}

export const newId = uuidv7;

/**
 * A check that `column` holds one of `values`: the vocabulary is declared once, in @orders/shared,
 * and the database refuses what the types would (a migration follows when a list changes).
 */
export function oneOf(name: string, column: string, values: readonly string[]): { name: string; expression: string } {
  return { name, expression: `${column} in (${values.map((value) => `'${value}'`).join(', ')})` };
}
