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
 * A check that `column` holds one of `values`. The lists are @orders/shared's, written out: the
 * entities load in the migrator and the test harness's global set-up, where @orders/shared resolves
 * only once built, so they import nothing from it; contract.test.ts holds each list to the shared one.
 */
export function oneOf(name: string, column: string, values: readonly string[]): { name: string; expression: string } {
  return { name, expression: `${column} in (${values.map((value) => `'${value}'`).join(', ')})` };
}
