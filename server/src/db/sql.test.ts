import { describe, expect, it } from 'vitest';
import { createHarness } from '../testing/harness.js';
import { firstRow, iso, sql, withLocalSettings, type EntityManager } from './sql.js';

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

describe('withLocalSettings', () => {
  it('sets PostgreSQL settings for its own transaction only', async () => {
    const harness = await createHarness();
    try {
      const show = (em: EntityManager) => firstRow(em, sql<{ workers: string; memory: string }>`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('work_mem') as memory`);
      const before = await show(harness.orm.em.fork());
      const inside = await withLocalSettings(harness.orm.em.fork(), { max_parallel_workers_per_gather: '0', work_mem: '64MB' }, show);
      expect(inside).toEqual({ workers: '0', memory: '64MB' });
      expect(before?.workers).not.toBe('0');
      // Every connection of the pool keeps its defaults afterwards.
      const after = await Promise.all(Array.from({ length: 4 }, () => show(harness.orm.em.fork())));
      expect(after).toEqual(Array.from({ length: 4 }, () => before));
      // A failing statement rolls its settings back with it.
      await expect(withLocalSettings(harness.orm.em.fork(), { work_mem: '32MB' }, (em) => firstRow(em, sql`select 1 / 0`))).rejects.toThrow(/division by zero/);
      expect(await show(harness.orm.em.fork())).toEqual(before);
    } finally {
      await harness.close();
    }
  });
});
