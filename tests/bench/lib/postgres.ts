import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@orders/server/db/embedded-postgres.ts';
import { initOrm, migrate } from '@orders/server/db/orm.ts';
import { JobQueue } from '@orders/server/jobs/queue.ts';
import { createLogger } from '@orders/server/logger.ts';

export const ORDERS_DB = 'orders_bench';
export const BASELINE_DB = 'baseline_bench';
/** The previous release's database (BENCH_COMPARE): created empty; that release migrates it with its own migrations at start. */
export const PREVIOUS_DB = 'previous_bench';
const TEMPLATE_DB = 'bench_template';
/** The bench's own connections (seeding, polling, reading statistics) use this role, so pg_stat_statements can leave them out. */
const BENCH_ROLE = 'bench';

export interface BenchPostgres {
  /** Connection URL for `database` as the servers' role (the one embedded-postgres creates). */
  serverUrl(database: string): string;
  /** Connection URL for `database` as the bench's own role. */
  benchUrl(database: string): string;
  version: string;
  settings: Record<string, string>;
  /** The postmaster's pid (its backends are its children), from postmaster.pid. */
  postmasterPid(): number;
  /** An empty database (no schema: whoever uses it migrates it). */
  createEmptyDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string, user?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user) {
    parsed.username = user;
    parsed.password = user;
  }
  return parsed.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * One embedded PostgreSQL for the whole bench, in a temporary directory. It is started twice:
 * `startEmbeddedPostgres` takes fixed flags, so pg_stat_statements is enabled with ALTER SYSTEM
 * (postgresql.auto.conf) and a restart — no server code involved. Then a migrated template
 * (with pg-boss's schema) is cloned into one database for Orders and one for the baseline.
 */
export async function startBenchPostgres(log: (line: string) => void): Promise<BenchPostgres> {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'orders-bench-pg-'));
  // mkdtemp makes 0700; as root, PostgreSQL runs as its own user and must be able to enter it.
  await chmod(dataRoot, 0o755);
  const dataDir = path.join(dataRoot, 'pg');
  let handle: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir });
  const adminUrl = withDatabase(handle.url, 'postgres');
  await withClient(adminUrl, async (c) => {
    await c.query(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
    await c.query(`alter system set pg_stat_statements.max = 10000`);
    await c.query(`alter system set pg_stat_statements.track_utility = on`);
  });
  await handle.stop();
  handle = await startEmbeddedPostgres({ dataDir, port: handle.port });
  const stop = async () => {
    await handle.stop().catch((error) => log(`PostgreSQL stop failed: ${String(error)}`));
    await rm(dataRoot, { recursive: true, force: true });
  };
  try {
    const { version, settings } = await withClient(adminUrl, async (c) => {
      await c.query(`create extension if not exists pg_stat_statements`);
      await c.query(`create role ${BENCH_ROLE} login superuser password '${BENCH_ROLE}'`);
      await c.query(`create database ${TEMPLATE_DB}`);
      const version = (await c.query<{ v: string }>(`select version() as v`)).rows[0]!.v;
      const names = ['shared_buffers', 'work_mem', 'max_connections', 'synchronous_commit', 'shared_preload_libraries', 'effective_cache_size', 'jit'];
      const s = await c.query<{ name: string; setting: string; unit: string | null }>(
        `select name, setting, unit from pg_settings where name = any($1)`,
        [names],
      );
      return { version, settings: Object.fromEntries(s.rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting])) };
    });
    const templateUrl = withDatabase(handle.url, TEMPLATE_DB);
    const orm = await initOrm(templateUrl, { poolMax: 1 });
    await migrate(orm);
    await orm.close();
    // pg-boss installs its schema on first start; doing it in the template keeps both clones ready.
    const queue = await JobQueue.start(templateUrl, createLogger('silent'), { poolMax: 1 });
    await queue.stop();
    await withClient(adminUrl, async (c) => {
      for (const db of [ORDERS_DB, BASELINE_DB]) await c.query(`create database ${db} template ${TEMPLATE_DB}`);
    });
    return {
      serverUrl: (database) => withDatabase(handle.url, database),
      benchUrl: (database) => withDatabase(handle.url, database, BENCH_ROLE),
      version,
      settings,
      postmasterPid: () => Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
      createEmptyDatabase: (name) => withClient(adminUrl, async (c) => void (await c.query(`create database ${name}`))),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The server role's statements in one database since the last reset, from pg_stat_statements. */
export interface StatementStat {
  query: string;
  calls: number;
  totalMs: number;
  rows: number;
}

export async function resetStatements(pool: pg.Pool): Promise<void> {
  await pool.query(`select pg_stat_statements_reset()`);
}

export async function readStatements(pool: pg.Pool, database: string): Promise<StatementStat[]> {
  const { rows } = await pool.query<{ query: string; calls: string; total: number; rows: string }>(
    `select s.query, s.calls, s.total_exec_time as total, s.rows
       from pg_stat_statements s
       join pg_database d on d.oid = s.dbid
       join pg_roles r on r.oid = s.userid
      where d.datname = $1 and r.rolname <> $2 and s.calls > 0
      order by s.calls desc, s.query`,
    [database, BENCH_ROLE],
  );
  return rows.map((r) => ({ query: r.query, calls: Number(r.calls), totalMs: r.total, rows: Number(r.rows) }));
}

/** Shared buffers the server role's statements in one database found in PostgreSQL's cache (hit) or read from outside it (the kernel's cache or disk), since the last reset. */
export interface BufferUse {
  calls: number;
  hit: number;
  read: number;
}

export async function readBufferUse(pool: pg.Pool, database: string): Promise<BufferUse> {
  const { rows } = await pool.query<{ calls: string | null; hit: string | null; read: string | null }>(
    `select sum(s.calls) as calls, sum(s.shared_blks_hit) as hit, sum(s.shared_blks_read) as read
       from pg_stat_statements s
       join pg_database d on d.oid = s.dbid
       join pg_roles r on r.oid = s.userid
      where d.datname = $1 and r.rolname <> $2`,
    [database, BENCH_ROLE],
  );
  const r = rows[0]!;
  return { calls: Number(r.calls ?? 0), hit: Number(r.hit ?? 0), read: Number(r.read ?? 0) };
}
