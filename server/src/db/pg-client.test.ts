import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type TestHarness } from '../testing/harness.js';
import { PromptClient } from './pg-client.js';
import { rows, sql } from './sql.js';

// V8's own collector, asked for by kind: a young-generation (minor) GC is what promotes what is still held.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major'; execution: 'sync' }) => void;

const oldSpaceUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

const RESULTS = 200;
/** 100 rows of ~300 bytes of text: each result is ~40 KB of strings and row objects. */
const PAGE = `select g, repeat('x', 300) as text from generate_series(1, 100) g`;

/** How much of `RESULTS` results, each read and then dropped before a young-generation GC, ends up in the old generation. */
async function promoted(read: () => Promise<unknown[]>): Promise<number> {
  // Only the count reaches this loop: a long-lived async function's frame would hold the rows itself.
  const count = async () => (await read()).length;
  await count();
  gc({ type: 'major', execution: 'sync' });
  const before = oldSpaceUsed();
  for (let i = 0; i < RESULTS; i++) {
    expect(await count()).toBe(100);
    await new Promise((resolve) => setImmediate(resolve));
    gc({ type: 'minor', execution: 'sync' });
  }
  return oldSpaceUsed() - before;
}

describe('PromptClient', () => {
  let harness: TestHarness;
  beforeAll(async () => {
    harness = await createHarness();
  });
  afterAll(async () => harness?.close());

  it('is the client of the ORM pool', async () => {
    const pool = (await harness.orm.em.getConnection().getNativeClient()) as pg.Pool;
    const client = await pool.connect();
    try {
      expect(client).toBeInstanceOf(PromptClient);
    } finally {
      client.release();
    }
  });

  it('lets results go before the next young-generation GC, where pg promotes them', async () => {
    // A statement through the ORM, as every request runs them (Kysely asks pg for a promise).
    const ours = await promoted(() => rows(harness.orm.em.fork(), sql.raw<{ g: number }>(PAGE)));
    // The same through pg's own client, asked for a promise the same way: the control. How much of it
    // outlives two scavenges depends on when each GC falls: once in a CI run, with the other test files
    // busy on both cores, it promoted 131 KB. The most of three rounds is the control's figure.
    const plain = new pg.Client({ connectionString: harness.db.url });
    await plain.connect();
    let theirs = 0;
    try {
      for (let round = 0; round < 3 && theirs <= 1_000_000; round++) {
        theirs = Math.max(theirs, await promoted(async () => (await plain.query(PAGE, [])).rows));
      }
    } finally {
      await plain.end();
    }
    // 200 results are ~8 MB: pg's promise form promoted 7.7 MB of them (measured), this client ~70 KB.
    expect(theirs, `pg's promise form promoted ${theirs} bytes: if it no longer does, PromptClient is not needed`).toBeGreaterThan(1_000_000);
    expect(ours).toBeLessThan(400_000);
  });
});
