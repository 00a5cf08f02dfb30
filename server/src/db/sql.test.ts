import { describe, expect, it } from 'vitest';
import { iso } from './sql.js';

describe('iso', () => {
  it('writes PostgreSQL timestamps as Date would, without parsing those in UTC', () => {
    const texts = [
      '2026-12-01 03:20:48+00',
      '2026-12-01 03:20:48.1+00',
      '2026-12-01 03:20:48.12+00',
      '2026-12-01 03:20:48.123+00',
      '2026-12-01 03:20:48.1239+00',
      '2026-12-01 03:20:48.999999+00',
      '2024-02-29 23:59:59.000001+00',
      '1970-01-01 00:00:00+00',
      // Not UTC, or not this shape: parsed.
      '2026-12-01 04:20:48.5+01',
      '2026-12-01 03:20:48.5-03:30',
      '2026-12-01T03:20:48.500Z',
    ];
    for (const text of texts) expect(iso(text), text).toBe(new Date(text).toISOString());
    expect(iso('2026-12-01 03:20:48.999999+00')).toBe('2026-12-01T03:20:48.999Z');
    expect(iso('2026-12-01 04:20:48.5+01')).toBe('2026-12-01T03:20:48.500Z');
  });

  it('passes Dates and nulls through', () => {
    expect(iso(new Date(Date.UTC(2026, 11, 1, 3, 20, 48, 7)))).toBe('2026-12-01T03:20:48.007Z');
    expect(iso(null)).toBeNull();
  });
});
