import { z } from 'zod';
import { badRequest } from '../../errors.js';
import { isPgTimestampText } from '../orders/orders.service.js';

/** A row's place in an ordering: its sort key (PostgreSQL timestamp text or an int4) and its id. */
export interface KeysetPosition {
  key: string | number;
  id: string;
}

export type KeyType = 'timestamp' | 'integer';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const keyOf: Record<KeyType, z.ZodType<string | number>> = {
  timestamp: z.string().max(40).refine(isPgTimestampText),
  integer: z.number().int().min(-2_147_483_648).max(2_147_483_647),
};

/**
 * Opaque keyset cursors: base64url JSON naming the ordering they were issued for (sort and
 * direction) and the last row's key. A cursor from another ordering, or anything this server did not
 * issue, is BAD_REQUEST before it can reach SQL.
 */
export function encodeCursor(ordering: string, position: KeysetPosition): string {
  return Buffer.from(JSON.stringify({ o: ordering, k: position.key, id: position.id })).toString('base64url');
}

export function decodeCursor(cursor: string, ordering: string, keyType: KeyType): KeysetPosition {
  const schema = z.strictObject({
    o: z.literal(ordering),
    k: keyOf[keyType],
    // Orders are keyed by their uuid, discrepancies by `kind:uuid`.
    id: z.string().regex(new RegExp(`^(?:[a-z_]{1,40}:)?${UUID}$`)),
  });
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString()) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw badRequest('cursor: is not a cursor this server issued for this sort', 'cursor');
  return { key: result.data.k, id: result.data.id };
}
