import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { sharedBuffersFor, startEmbeddedPostgres } from './embedded-postgres.js';

const GiB = 2 ** 30;

describe('the embedded PostgreSQL', () => {
  it('takes an eighth of the memory for shared_buffers, from 128 MB up to 2 GiB', () => {
    expect(sharedBuffersFor(0.5 * GiB)).toBe('128MB');
    expect(sharedBuffersFor(2 * GiB)).toBe('256MB');
    expect(sharedBuffersFor(8 * GiB)).toBe('1024MB');
    expect(sharedBuffersFor(24 * GiB)).toBe('2048MB');
    expect(sharedBuffersFor(256 * GiB)).toBe('2048MB');
  });

  it('runs with it (the tests run on one)', async () => {
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ bytes: string }>(`select setting::bigint * 8192 as bytes from pg_settings where name = 'shared_buffers'`);
      expect(Number(rows[0]!.bytes)).toBe(Number.parseInt(sharedBuffersFor(os.totalmem()), 10) * 2 ** 20);
    } finally {
      await client.end();
    }
  });

  it('starts where its log goes to files of its own (logging_collector on): ready is read from postmaster.pid, not waited for on stderr', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'orders-pg-collector-'));
    // As root, PostgreSQL runs under another uid, which must be able to enter the folder.
    await chmod(root, 0o755);
    const dataDir = path.join(root, 'pg');
    const sql = async (url: string, text: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<Record<string, string>>(text)).rows[0];
      } finally {
        await client.end();
      }
    };
    let handle = await startEmbeddedPostgres({ dataDir });
    try {
      await sql(handle.url, `alter system set logging_collector = on`);
      await handle.stop();
      const started = Date.now();
      handle = await startEmbeddedPostgres({ dataDir, port: handle.port });
      // Before, it waited on stderr for a line that went to the log files, and gave up after 60 s.
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await sql(handle.url, 'show logging_collector')).toEqual({ logging_collector: 'on' });
    } finally {
      await handle.stop();
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
