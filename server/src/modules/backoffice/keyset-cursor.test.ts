import { describe, expect, it } from 'vitest';
import { DomainError } from '../../errors.js';
import { decodeCursor, encodeCursor, isPgTimestampText } from './keyset-cursor.js';

const id = '0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b';
const at = '2026-11-30 08:43:34.123456+00';

describe('keyset cursors', () => {
  it('round-trip a timestamp key to the microsecond and an integer key', () => {
    expect(decodeCursor(encodeCursor('created:desc', { key: at, id }), 'created:desc', 'timestamp')).toEqual({ key: at, id });
    expect(decodeCursor(encodeCursor('total:asc', { key: 2500, id }), 'total:asc', 'integer')).toEqual({ key: 2500, id });
    expect(decodeCursor(encodeCursor('discrepancies', { key: at, id: `paid_twice:${id}` }), 'discrepancies', 'timestamp').id).toBe(`paid_twice:${id}`);
  });

  it.each([
    ['another ordering', encodeCursor('created:asc', { key: at, id })],
    ['the key type of another sort', encodeCursor('created:desc', { key: 2500, id })],
    ['not a timestamp PostgreSQL wrote', encodeCursor('created:desc', { key: '2026-13-01 00:00:00+00', id })],
    ['not a uuid', encodeCursor('created:desc', { key: at, id: `${id}'--` })],
    ['the orders.list text format', Buffer.from(`${at}|${id}`).toString('base64url')],
    ['not base64url', 'a+b/c='],
    ['empty', ''],
  ])('%s: BAD_REQUEST on the cursor field', (_what, cursor) => {
    expect(() => decodeCursor(cursor, 'created:desc', 'timestamp')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', field: 'cursor' }) as DomainError);
  });

  it('isPgTimestampText: PostgreSQL timestamptz text within the ranges it reads back', () => {
    expect(isPgTimestampText(at)).toBe(true);
    expect(isPgTimestampText('2026-11-30 08:43:34+05:30')).toBe(true);
    expect(isPgTimestampText('2026-11-30T08:43:34Z')).toBe(false);
    expect(isPgTimestampText('1969-12-31 23:59:59+00')).toBe(false);
    expect(isPgTimestampText('2026-11-30 24:00:00+00')).toBe(false);
  });
});
