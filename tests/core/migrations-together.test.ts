import { afterAll, expect, inject, it } from 'vitest';
import pg from 'pg';
import { initOrm, migrate } from '@orders/server/db/orm.ts';
import { withDatabase } from '@orders/server/testing/global-setup.ts';

/*
 * A deploy starts several instances at once, and each applies pending migrations at start: on an
 * empty database, three at the same moment must end with every migration applied exactly once.
 * (Without the advisory lock in migrate(), two of three failed here: "relation … already exists".)
 */

const name = `migrate_together_${process.pid}`;
const admin = () => new pg.Client({ connectionString: inject('postgresUrl') });

afterAll(async () => {
  const client = admin();
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.end();
});

it('three instances migrating one empty database at once: all start, each migration applied once', { timeout: 120_000 }, async () => {
  const client = admin();
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = withDatabase(inject('postgresUrl'), name);
  const orms = await Promise.all([1, 2, 3].map(() => initOrm(url, { poolMax: 1 })));
  try {
    const results = await Promise.allSettled(orms.map((orm) => migrate(orm)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      const { rows } = await check.query<{ name: string; n: number }>('select name, count(*)::int as n from mikro_orm_migrations group by name having count(*) > 1');
      expect(rows).toEqual([]);
      const applied = await check.query<{ n: number }>('select count(*)::int as n from mikro_orm_migrations');
      expect(applied.rows[0]!.n).toBe((await import('@orders/server/db/migrations/index.ts')).migrations.length);
      // A session opened after the migrations, as their role: no JIT compilation (Migration20261202070000).
      const jit = await check.query<{ jit: string }>(`select current_setting('jit') as jit`);
      expect(jit.rows[0]!.jit).toBe('off');
    } finally {
      await check.end();
    }
  } finally {
    await Promise.all(orms.map((orm) => orm.close()));
  }
});
