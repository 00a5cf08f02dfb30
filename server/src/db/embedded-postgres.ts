import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { chown, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { AlreadyRunningError, EmbeddedPostgresError, type EmbeddedPostgresEvent, type EmbeddedPostgresHandle } from './embedded-postgres-types.js';

export { AlreadyRunningError, EmbeddedPostgresError, type EmbeddedPostgresEvent, type EmbeddedPostgresHandle } from './embedded-postgres-types.js';

/*
 * PostgreSQL from the binaries of the `embedded-postgres` package, started and watched by this
 * process (the package's own launcher neither notices a crash nor copes with root in a 0700 folder,
 * and it hooks process exit).
 *
 * Ownership: a data directory belongs to the process holding its lock, an abstract Unix socket
 * (Linux) that the kernel releases the moment that process dies, SIGKILL included. A live holder
 * means another server: refused. No holder but a running postmaster means a server was killed and
 * left its PostgreSQL behind: that orphan is stopped and a fresh one started.
 */

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

const USER = 'orders';
const PASSWORD = 'orders';
/** Restarts after a crash, and the pause before each: about 15 s in all, then the server gives up. */
const RESTART_DELAYS_MS = [250, 1_000, 2_000, 4_000, 8_000];
const READY_TIMEOUT_MS = 60_000;
/** How often postmaster.pid is read for its status while PostgreSQL starts. */
const READY_POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether `postmaster` exits within `ms`. The timer is cleared when it does: left armed, it kept
 * the process alive for up to 20 s after PostgreSQL had stopped (vitest's "close timed out").
 */
async function exitedWithin(postmaster: { exited: Promise<unknown> }, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([postmaster.exited.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An exited orphan stays a zombie where nothing reaps it (a container whose init does not): dead.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

// ── the lock ───────────────────────────────────────────────────────────────────────────────────

interface DataDirLock {
  release(): Promise<void>;
}

function lockAddress(dataDir: string): string {
  const name = `orders-embedded-postgres-${createHash('sha256').update(dataDir).digest('hex').slice(0, 32)}`;
  // Abstract sockets vanish with their process; elsewhere a socket file stands in (stale ones are replaced).
  return process.platform === 'linux' ? `\0${name}` : path.join(os.tmpdir(), `${name}.sock`);
}

/** The holder answers a connection with its pid, so a refusal can name it. */
async function holderPid(address: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let text = '';
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(Number(text) > 0 ? Number(text) : undefined));
    socket.on('error', () => resolve(undefined));
  });
}

async function acquireLock(dataDir: string): Promise<DataDirLock> {
  const address = lockAddress(dataDir);
  const listen = () =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer((socket) => socket.end(String(process.pid)));
      server.once('error', reject);
      server.listen(address, () => resolve(server));
    });
  let server: net.Server;
  try {
    server = await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const pid = await holderPid(address);
    if (pid !== undefined || process.platform === 'linux') throw new AlreadyRunningError(dataDir, pid);
    await rm(address, { force: true });
    server = await listen();
  }
  // The lock must not keep the process alive on its own.
  server.unref();
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * What `dataDir`'s postmaster.pid says: the postmaster's pid (its first line) and its status (the
 * eighth: "ready" once it accepts connections), or undefined when there is no such file.
 */
async function postmasterFile(dataDir: string): Promise<{ pid: number; status: string | undefined } | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  return { pid: Number(lines[0]), status: lines[7]?.trim() };
}

/** A postmaster still running on `dataDir` although no server holds its lock: left by a killed server. */
async function stopOrphan(dataDir: string, log: (line: string) => void): Promise<number | undefined> {
  const pid = (await postmasterFile(dataDir))?.pid;
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A recycled pid belongs to some other program: only a postmaster working in this directory is stopped.
  if (process.platform === 'linux') {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== realpathSync(dataDir)) return undefined;
    } catch {
      return undefined;
    }
  }
  log(`stopping PostgreSQL (pid ${pid}) left running on ${dataDir} by a server that did not stop it`);
  // Fast shutdown; then immediate; then a kill (PostgreSQL recovers from its WAL on the next start).
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return pid;
    }
    const deadline = Date.now() + waitMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (!isAlive(pid)) return pid;
  }
  throw new EmbeddedPostgresError(`PostgreSQL (pid ${pid}) left running on ${dataDir} could not be stopped; stop it and start again.`);
}

// ── who runs PostgreSQL ────────────────────────────────────────────────────────────────────────

interface Runner {
  bin: (name: 'postgres' | 'initdb') => string;
  command(binary: string, args: string[]): { command: string; args: string[]; uid?: number; gid?: number };
}

function nativeDir(): string {
  const require = createRequire(import.meta.url);
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = createRequire(require.resolve('embedded-postgres')).resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return path.resolve(path.dirname(binaries), '..', 'native');
}

function account(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    return line ? { uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

function runs(command: string, args: string[], ids: { uid?: number; gid?: number } = {}): boolean {
  const result = spawnSync(command, args, { ...ids, stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

/**
 * PostgreSQL refuses to run as root. As root it runs under another uid, preferably in a user
 * namespace that maps that uid back to root: files stay root's, and any folder root can use works,
 * a 0700 home included. Where user namespaces are off (some containers), it runs as the `postgres`
 * user, which must be able to reach the data directory; binaries it cannot reach are copied beside it.
 */
async function chooseRunner(dataDir: string): Promise<Runner> {
  const native = nativeDir();
  const direct = (dir: string): Runner['bin'] => (name) => path.join(dir, 'bin', name);
  if (process.getuid?.() !== 0) return { bin: direct(native), command: (command, args) => ({ command, args }) };

  const owner = existsSync(dataDir) ? await stat(dataDir) : undefined;
  const mapped = account('postgres') ?? account('nobody');
  if ((!owner || owner.uid === 0) && mapped && runs('unshare', ['--user', `--map-user=${mapped.uid}`, `--map-group=${mapped.gid}`, 'true'])) {
    return {
      bin: direct(native),
      command: (binary, args) => ({ command: 'unshare', args: ['--user', `--map-user=${mapped.uid}`, `--map-group=${mapped.gid}`, binary, ...args] }),
    };
  }

  // A cluster made by an earlier version as `postgres` keeps running as its owner.
  let user = owner && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : account('postgres');
  if (!user) {
    if (!runs('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])) {
      throw new EmbeddedPostgresError(
        'PostgreSQL will not run as root, and neither a user namespace nor a `postgres` user could be set up for it: run as an ordinary user, or set DATABASE_URL.',
      );
    }
    user = account('postgres')!;
  }
  const parent = path.dirname(dataDir);
  if (!runs('test', ['-x', parent, '-a', '-w', parent], user)) {
    throw new EmbeddedPostgresError(
      `As root, PostgreSQL runs as the user \`postgres\`, which cannot reach ${parent} (a folder on the way is private, e.g. mode 0700): set DATA_DIR to a folder it can reach, run as an ordinary user, or set DATABASE_URL.`,
    );
  }
  let binaries = native;
  if (!runs(path.join(native, 'bin', 'postgres'), ['--version'], user)) {
    // The package's binaries sit in a folder that user cannot enter: a copy beside the data.
    binaries = path.join(parent, 'postgres-binaries');
    const marker = path.join(binaries, 'SOURCE');
    if (!existsSync(marker) || (await readFile(marker, 'utf8')) !== native) {
      await rm(binaries, { recursive: true, force: true });
      await cp(native, binaries, { recursive: true, verbatimSymlinks: true });
      await writeFile(marker, native);
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chown(dataDir, user.uid, user.gid);
  return { bin: direct(binaries), command: (command, args) => ({ command, args, uid: user.uid, gid: user.gid }) };
}

// ── processes ──────────────────────────────────────────────────────────────────────────────────

/** The last lines PostgreSQL wrote, for an error message that says what went wrong. */
class Tail {
  private lines: string[] = [];
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.onLine(line);
      this.lines.push(line);
      if (this.lines.length > 20) this.lines.shift();
    }
  }
  /** The most telling line: PostgreSQL's FATAL or ERROR, else the last one. */
  reason(): string {
    const line = [...this.lines].reverse().find((l) => /FATAL|ERROR|PANIC/.test(l)) ?? this.lines.at(-1) ?? 'no output';
    return line.replace(/^.*?(FATAL|ERROR|PANIC):\s*/, '');
  }
}

function describeSpawnError(error: NodeJS.ErrnoException, binary: string): EmbeddedPostgresError {
  if (error.code === 'EACCES') {
    return new EmbeddedPostgresError(`PostgreSQL's program ${binary} may not be run by this user (permission denied): run as its owner, or set DATABASE_URL.`);
  }
  return new EmbeddedPostgresError(`PostgreSQL's program ${binary} could not be started (${error.code ?? error.message}): reinstall with \`npm ci\`, or set DATABASE_URL.`);
}

async function run(runner: Runner, name: 'initdb', args: string[], log: (line: string) => void): Promise<void> {
  const binary = runner.bin(name);
  const { command, args: argv, ...ids } = runner.command(binary, args);
  const tail = new Tail(log);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, argv, { ...ids, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.on('error', (error) => reject(describeSpawnError(error, binary)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new EmbeddedPostgresError(`Creating the database cluster failed: ${tail.reason()}.`))));
  });
}

interface Postmaster {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/**
 * shared_buffers for the embedded PostgreSQL: an eighth of the machine's memory, from PostgreSQL's
 * default of 128 MB up to 2 GiB (PostgreSQL's guidance is a quarter on a server of its own; this one
 * shares the machine with Orders and whatever else runs there). At 128 MB a shop of 1,000,000 orders
 * (~4 GB) read most pages of a search through the kernel's cache: a deep page of "walnut" + EUR took
 * 7.0 ms of PostgreSQL's time against 5.5 ms at 2 GiB, a currency by total 4.3 against 2.3
 * (pg_stat_statements, the same searches). Memory is only taken as pages are read.
 */
export function sharedBuffersFor(totalMemoryBytes: number): string {
  const megabytes = Math.floor(totalMemoryBytes / 8 / 2 ** 20);
  return `${Math.max(128, Math.min(2048, megabytes))}MB`;
}

async function startPostmaster(runner: Runner, dataDir: string, port: number, log: (line: string) => void): Promise<Postmaster> {
  const binary = runner.bin('postgres');
  const { command, args, ...ids } = runner.command(binary, [
    '-D', dataDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=300',
    '-c', `shared_buffers=${sharedBuffersFor(os.totalmem())}`,
    '-c', 'lc_messages=C',
  ]);
  const tail = new Tail(log);
  const child = spawn(command, args, {
    ...ids,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches the server only, which stops PostgreSQL
    // last, after the connections using it are closed.
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      clearInterval(poll);
      outcome();
    };
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      settle(() => reject(new EmbeddedPostgresError(`PostgreSQL did not become ready within ${READY_TIMEOUT_MS / 1000} s: ${tail.reason()}.`)));
    }, READY_TIMEOUT_MS);
    // Where its log goes to files of its own (logging_collector, set in postgresql.auto.conf by
    // whoever manages it), PostgreSQL says it is ready there, not here: postmaster.pid's status line
    // ("ready", written once it accepts connections) tells either way. Its first line names the
    // postmaster, so a file left by an earlier one that died is not taken for this one's.
    const poll = setInterval(() => {
      void postmasterFile(dataDir).then((file) => {
        if (file && file.pid === child.pid && file.status === 'ready') settle(resolve);
      });
    }, READY_POLL_MS);
    child.stderr!.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (chunk.toString('utf8').includes('database system is ready to accept connections')) settle(resolve);
    });
    child.on('error', (error) => settle(() => reject(describeSpawnError(error, binary))));
    void exited.then(() => settle(() => reject(new EmbeddedPostgresError(`PostgreSQL stopped while starting: ${tail.reason()}.`))));
  });
  // Nothing reads its log after start-up beyond `log`; the pipe must not hold the event loop open.
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  child.unref();
  return { child, exited };
}

/**
 * Starts PostgreSQL under `dataDir` (created by initdb on first use, kept afterwards) and watches it:
 * if it exits on its own it is restarted on the same port with growing pauses; `onEvent` hears about
 * each step, and `gave-up` when every restart failed.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
  onEvent?: (event: EmbeddedPostgresEvent) => void;
}): Promise<EmbeddedPostgresHandle> {
  await mkdir(path.dirname(path.resolve(options.dataDir)), { recursive: true });
  // One name per directory however it is spelled (symlinks, relative paths): the lock is keyed by it.
  const dataDir = path.join(realpathSync(path.dirname(path.resolve(options.dataDir))), path.basename(options.dataDir));
  const log = options.onLog ?? (() => {});
  const onEvent = options.onEvent ?? (() => {});
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const lock = await acquireLock(dataDir);
  let postmaster: Postmaster | undefined;
  let stopping = false;
  try {
    const orphan = await stopOrphan(dataDir, log);
    if (orphan) onEvent({ kind: 'orphan-stopped', pid: orphan });
    const runner = await chooseRunner(dataDir);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${process.pid}`);
      await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
      try {
        await run(runner, 'initdb', [
          `--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`,
          '--encoding=UTF8', '--no-sync', '--lc-messages=C',
        ], log);
      } finally {
        await rm(passwordFile, { force: true });
      }
    }
    postmaster = await startPostmaster(runner, dataDir, port, log);
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      const exists = await client.query('select 1 from pg_database where datname = $1', ['orders']);
      if (exists.rowCount === 0) await client.query('create database orders');
    } finally {
      await client.end();
    }

    const watch = (current: Postmaster) => {
      void current.exited.then(async (exit) => {
        if (stopping || current !== postmaster) return;
        onEvent({ kind: 'exited', ...exit });
        const lostAt = Date.now();
        let reason = `exit ${exit.code ?? exit.signal}`;
        for (const [i, delayMs] of RESTART_DELAYS_MS.entries()) {
          onEvent({ kind: 'restarting', attempt: i + 1, of: RESTART_DELAYS_MS.length, delayMs, reason });
          await sleep(delayMs);
          if (stopping) return;
          try {
            postmaster = await startPostmaster(runner, dataDir, port, log);
            if (stopping) {
              postmaster.child.kill('SIGINT');
              return;
            }
            onEvent({ kind: 'restarted', afterMs: Date.now() - lostAt, pid: postmaster.child.pid! });
            watch(postmaster);
            return;
          } catch (error) {
            reason = (error as Error).message;
          }
        }
        postmaster = undefined;
        onEvent({ kind: 'gave-up', attempts: RESTART_DELAYS_MS.length, reason });
      });
    };
    watch(postmaster);
  } catch (error) {
    stopping = true;
    postmaster?.child.kill('SIGQUIT');
    await lock.release();
    throw error;
  }

  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/orders`,
    port,
    dataDir,
    get pid() {
      return postmaster?.child.pid ?? 0;
    },
    stop: async (mode: 'fast' | 'smart' = 'fast') => {
      stopping = true;
      const current = postmaster;
      if (current && current.child.exitCode === null && current.child.signalCode === null) {
        // Smart shutdown first when the server stops in order: its pools are closed by then, but a
        // closing connection's goodbye may still be on its way, and a fast shutdown would answer it
        // with 57P01 ("terminating connection due to administrator command"), logged as an error.
        // Then a fast one (after 3 s), then after 20 s more an immediate one (crash recovery at the next start).
        const steps = [['SIGTERM', 3_000], ['SIGINT', 20_000], ['SIGQUIT', 5_000]] as const;
        for (const [signal, waitMs] of mode === 'smart' ? steps : steps.slice(1)) {
          current.child.kill(signal);
          if (await exitedWithin(current, waitMs)) break;
        }
      }
      await lock.release();
    },
  };
}
