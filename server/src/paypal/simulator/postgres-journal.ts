import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { PaypalLogger } from '../logger.js';
import { emptyContents, RECORD_KINDS, type JournalContents, type RecordKind, type SimulatorJournal } from './journal.js';

/** The simulator's own schema: nothing of Orders lives there, and Orders' migrations never touch it. */
export const SIMULATOR_SCHEMA = 'paypal_sim';

type Change = { op: 'save'; kind: RecordKind; id: string; body: string } | { op: 'clear'; kinds: readonly RecordKind[] };

const table = (kind: RecordKind) => `${SIMULATOR_SCHEMA}.${kind}`;

/**
 * The simulator's state in PostgreSQL, one table per kind of record (`id`, the record as JSON, and the
 * order it was first saved in). Changes are written in the order they happened, a batch per
 * transaction; the simulator's HTTP routes wait for `flush()` before answering, so whatever PayPal
 * told a caller is on disk before the caller hears it. The schema is created here, not by Orders'
 * migrations: it exists only where the simulator runs.
 */
export class PostgresJournal implements SimulatorJournal {
  private pending: Change[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly logger: PaypalLogger,
  ) {}

  /** Creates the schema when missing and reads back everything saved so far. */
  static async open(databaseUrl: string, logger: PaypalLogger): Promise<{ journal: PostgresJournal; contents: JournalContents }> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // An idle connection the database drops must not crash the process; the next write reconnects.
    pool.on('error', (err) => logger.warn({ err: err.message }, 'paypal simulator: database connection lost'));
    try {
      await createSchema(pool);
      const contents = emptyContents();
      for (const kind of RECORD_KINDS) {
        const { rows } = await pool.query<{ id: string; body: unknown }>(`select id, body from ${table(kind)} order by seq`);
        contents[kind] = rows;
      }
      return { journal: new PostgresJournal(pool, logger), contents };
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  save(kind: RecordKind, id: string, body: unknown): void {
    if (this.closed) return;
    // Serialised now: the simulator keeps changing its objects after telling us.
    this.pending.push({ op: 'save', kind, id, body: JSON.stringify(body) });
    this.schedule();
  }

  clear(kinds: readonly RecordKind[]): void {
    if (this.closed) return;
    this.pending.push({ op: 'clear', kinds });
    this.schedule();
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    // What is still pending (a few changes from the last moments) is written before the pool ends.
    await Promise.race([this.flush(), sleep(5_000)]);
    this.closed = true;
    await this.pool.end();
  }

  private schedule(): void {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0 && !this.closed) this.schedule();
    });
  }

  /** Writes everything pending; a failed write is retried (the database may be restarting) until it lands. */
  private async writeAll(): Promise<void> {
    for (let failures = 0; this.pending.length > 0 && !this.closed; ) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(batch);
        failures = 0;
      } catch (err) {
        this.pending = [...batch, ...this.pending];
        failures += 1;
        if (failures === 1) this.logger.warn({ err: (err as Error).message }, 'paypal simulator: could not save its state; retrying');
        await sleep(Math.min(2_000, 100 * 2 ** failures));
      }
    }
  }

  private write(batch: Change[]): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      // Consecutive saves go in one statement per kind, the last body of each id winning.
      let saves = new Map<string, Extract<Change, { op: 'save' }>>();
      const writeSaves = async () => {
        const byKind = new Map<RecordKind, { ids: string[]; bodies: string[] }>();
        for (const change of saves.values()) {
          const rows = byKind.get(change.kind) ?? { ids: [], bodies: [] };
          rows.ids.push(change.id);
          rows.bodies.push(change.body);
          byKind.set(change.kind, rows);
        }
        for (const [kind, rows] of byKind) {
          await client.query(
            `insert into ${table(kind)} (id, body)
             select id, body from unnest($1::text[], $2::jsonb[]) with ordinality as t(id, body, n) order by n
             on conflict (id) do update set body = excluded.body`,
            [rows.ids, rows.bodies],
          );
        }
        saves = new Map();
      };
      for (const change of batch) {
        if (change.op === 'save') {
          saves.set(`${change.kind} ${change.id}`, change);
          continue;
        }
        await writeSaves();
        for (const kind of change.kinds) await client.query(`delete from ${table(kind)}`);
      }
      await writeSaves();
    });
  }
}

/** Runs `work` in one transaction on a client of `pool`: committed when it resolves, rolled back when it throws. */
async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  // A connection cut while checked out (a database stopped or dropped) is also the rejection of the query
  // in flight; without a listener the client's own 'error' event would be an uncaught exception.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query('begin');
    await work(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.off('error', ignore);
    client.release();
  }
}

function createSchema(pool: pg.Pool): Promise<void> {
  return inTransaction(pool, async (client) => {
    // Two servers starting on one database at once would otherwise race on creating the same tables.
    await client.query(`select pg_advisory_xact_lock(hashtext('${SIMULATOR_SCHEMA}'))`);
    await client.query(`create schema if not exists ${SIMULATOR_SCHEMA}`);
    for (const kind of RECORD_KINDS) {
      await client.query(
        `create table if not exists ${table(kind)} (
           id text primary key,
           body jsonb not null,
           seq bigint generated always as identity
         )`,
      );
    }
  });
}
