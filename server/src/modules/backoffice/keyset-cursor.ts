import { z } from 'zod';
import { badRequest } from '../../errors.js';
import { UUID_SOURCE } from '../../ids.js';

/** A row's place in an ordering: its sort key (PostgreSQL timestamp text or an int4) and its id. */
export interface KeysetPosition {
  key: string | number;
  id: string;
}

export type KeyType = 'timestamp' | 'integer';

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/**
 * Timestamp text as PostgreSQL writes it, within ranges it accepts back: what keyset cursors carry
 * (a JS Date would round microseconds away and skip rows).
 */
export function isPgTimestampText(text: string): boolean {
  const time = PG_TIMESTAMP.exec(text);
  return (
    time !== null &&
    Number(time[1]) >= 1970 &&
    Number(time[2]) >= 1 && Number(time[2]) <= 12 &&
    Number(time[3]) >= 1 && Number(time[3]) <= 31 &&
    Number(time[4]) <= 23 && Number(time[5]) <= 59 && Number(time[6]) <= 59
  );
}

const keyOf: Record<KeyType, z.ZodType<string | number>> = {
  timestamp: z.string().max(40).refine(isPgTimestampText),
  integer: z.number().int().min(-2_147_483_648).max(2_147_483_647),
};

/**
 * The one keyset cursor format of the API: opaque base64url JSON naming the ordering it was issued
 * for (e.g. `created:desc`) and the last row's key and id. A cursor from another ordering, or
 * anything this server did not issue, is BAD_REQUEST before it can reach SQL. Every paged list uses
 * it (back-office search, reconciliation; orders.list still has its own `createdAt|id` text until
 * it moves here).
 */
export function encodeCursor(ordering: string, position: KeysetPosition): string {
  return Buffer.from(JSON.stringify({ o: ordering, k: position.key, id: position.id })).toString('base64url');
}

/** One schema per ordering and key type, built once: zod compiles a schema on its first parse (~0.2 ms a deep page when built per call). */
const cursorSchemas = new Map<string, z.ZodType<{ o: string; k: string | number; id: string }>>();
const CURSOR_ID = new RegExp(`^(?:[a-z_]{1,40}:)?${UUID_SOURCE}$`);

function cursorSchema(ordering: string, keyType: KeyType) {
  const name = `${keyType} ${ordering}`;
  let schema = cursorSchemas.get(name);
  if (!schema) {
    schema = z.strictObject({
      o: z.literal(ordering),
      k: keyOf[keyType],
      // Orders are keyed by their uuid, discrepancies by `kind:uuid`.
      id: z.string().regex(CURSOR_ID),
    });
    cursorSchemas.set(name, schema);
  }
  return schema;
}

export function decodeCursor(cursor: string, ordering: string, keyType: KeyType): KeysetPosition {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString()) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema(ordering, keyType).safeParse(parsed);
  if (!result.success) throw badRequest('cursor: is not a cursor this server issued for this sort', 'cursor');
  return { key: result.data.k, id: result.data.id };
}
