import os from 'node:os';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { sharedBuffersFor } from './embedded-postgres.js';

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
});
