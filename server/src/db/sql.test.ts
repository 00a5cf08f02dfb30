import { describe, expect, it } from 'vitest';
import { createHarness } from '../testing/harness.js';
import { db, firstRow, iso, sql, withLocalSettings, type EntityManager } from './sql.js';

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
      const settings = sql<{ workers: string; memory: string; timeout: string }>`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('work_mem') as memory, current_setting('statement_timeout') as timeout`;
      const show = (em: EntityManager) => firstRow(em, settings);
      const before = await show(harness.orm.em.fork());
      const inside = await withLocalSettings(harness.orm.em.fork(), { max_parallel_workers_per_gather: '0', work_mem: '64MB', statement_timeout: '5000' }, settings);
      expect(inside).toEqual([{ workers: '0', memory: '64MB', timeout: '5s' }]);
      expect(before?.workers).not.toBe('0');
      // Every connection of the pool keeps its defaults afterwards.
      const after = await Promise.all(Array.from({ length: 4 }, () => show(harness.orm.em.fork())));
      expect(after).toEqual(Array.from({ length: 4 }, () => before));
      // A query builder runs the same way.
      const built = await withLocalSettings(harness.orm.em.fork(), { work_mem: '32MB' }, db(harness.orm.em.fork()).selectNoFrom(sql<string>`current_setting('work_mem')`.as('memory')));
      expect(built).toEqual([{ memory: '32MB' }]);
      // A failing statement rolls its settings back with it.
      await expect(withLocalSettings(harness.orm.em.fork(), { work_mem: '32MB' }, sql`select 1 / 0`)).rejects.toThrow(/division by zero/);
      expect(await show(harness.orm.em.fork())).toEqual(before);
      // Settings are written into the statement: anything but a plain name and value is refused, and nothing runs.
      for (const [name, value] of [['work_mem', "64MB'; drop table x; --"], ['work_mem; drop table x', '1'], ['work_mem', '']]) {
        await expect(withLocalSettings(harness.orm.em.fork(), { [name!]: value! }, settings)).rejects.toThrow(/not a plain PostgreSQL setting/);
      }
      // Not inside another transaction: its COMMIT would end that one.
      await expect(harness.orm.em.fork().transactional((tx) => withLocalSettings(tx, { work_mem: '32MB' }, settings))).rejects.toThrow(/transaction of its own/);
    } finally {
      await harness.close();
    }
  });
});
