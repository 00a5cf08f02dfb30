import { describe, expect, it } from 'vitest';
import { createHarness } from '../testing/harness.js';
import { db, firstRow, inlineParameters, iso, rows, sql, withLocalSettings, type EntityManager } from './sql.js';

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

  it('sends its parameters as literals that read back exactly as the parameters would', async () => {
    const harness = await createHarness();
    try {
      const ids = ['0190f5b2-8a1e-7cc0-9a00-000000000001', '0190F5B2-8A1E-7CC0-9A00-000000000002'];
      const texts = ['plain', "it's", 'back\\slash', 'a "quoted", {braced} value', 'NULL', '', 'zoë 東京 😀', '$1 and $2'];
      const statement = sql<Record<string, unknown>>`select ${"O'Brien \\ $2 -- not a comment"}::text as text, ${-12}::int as negative,
        ${Number.MAX_SAFE_INTEGER}::bigint::text as big, ${null}::text as nothing, ${true}::boolean as yes,
        ${ids}::uuid[]::text as ids, ${texts}::text[] as texts, ${new Date(Date.UTC(2026, 11, 3, 9, 30, 1, 250))}::timestamptz = '2026-12-03 09:30:01.25+00' as dated,
        '$1' as "quoted", E'\\'$2' as "escaped", ${'literal'} as "untyped", coalesce(null::text, ${5}) as "numberAsText",
        ${{ a: [1, 'two'] }}::jsonb as json, ${2.5}::numeric * 2 as "decimal", $$has $1 and it's$$ as "dollared",
        $q$and $2 $$ inside$q$ as "tagged" -- a comment with $1 and it's apostrophe
        /* and $2 in a block */ limit ${3}`;
      const extended = await rows(harness.orm.em.fork(), statement);
      const inlined = await withLocalSettings(harness.orm.em.fork(), { work_mem: '8MB' }, statement);
      expect(inlined).toEqual(extended);
      expect(inlined[0]).toMatchObject({ text: "O'Brien \\ $2 -- not a comment", negative: -12, big: String(Number.MAX_SAFE_INTEGER), nothing: null, yes: true, texts, dated: true, quoted: '$1', escaped: "'$2", untyped: 'literal', numberAsText: '5', json: { a: [1, 'two'] }, decimal: '5.0', dollared: "has $1 and it's", tagged: 'and $2 $$ inside' });
      expect(() => inlineParameters('select $q$ open', [])).toThrow(/unterminated/);
      expect(() => inlineParameters('select $2', [1])).toThrow(/no parameter for \$2/);
      expect(() => inlineParameters('select $1', [Buffer.from('x')])).toThrow(/binary/);
      expect(() => inlineParameters("select 'open", [])).toThrow(/unterminated/);
    } finally {
      await harness.close();
    }
  });

  it('cancels a statement over its statement_timeout and leaves every connection usable', async () => {
    const harness = await createHarness();
    try {
      const slow = sql<{ slept: string }>`select pg_sleep(${2})::text as slept`;
      const started = performance.now();
      await expect(withLocalSettings(harness.orm.em.fork(), { statement_timeout: '50' }, slow)).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - started).toBeLessThan(1500);
      // The aborted transaction was rolled back: each connection answers, outside any transaction, with the defaults.
      const after = await Promise.all(
        Array.from({ length: 6 }, () => firstRow(harness.orm.em.fork(), sql<{ timeout: string; open: boolean }>`select current_setting('statement_timeout') as timeout, now() <> statement_timestamp() as open`)),
      );
      for (const row of after) expect(row).toEqual({ timeout: '0', open: false });
    } finally {
      await harness.close();
    }
  });
});
