import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import { within } from '../support/timing.ts';

/* `npm start` as a user runs it: the real entry point in its own process, embedded PostgreSQL under DATA_DIR. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The repository's Node 24 with tsx as a loader in the same process (`npm run dev`): the main.ts that
// `npm start` runs compiled (tests/install/production-build.test.ts runs that one).
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MAIN = path.join(ROOT, 'server/src/main.ts');
const SERVICE_KEY = 'start-test-service-key-0123456789';

/** What a failing assertion shows: plain lines as they are, pino JSON lines shortened to level, message and error. */
function summary(proc: ServerProcess): string {
  const lines = proc.output().split('\n').map((line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      return `[log ${entry.level}] ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
    } catch {
      return line;
    }
  });
  return lines.join('\n').slice(-2500);
}

interface ServerProcess {
  child: ChildProcess;
  output(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const started: ServerProcess[] = [];

function launch(env: Record<string, string>): ServerProcess {
  const child = spawn(NODE, ['--conditions=@orders/source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      // The repository's own node (24) comes first, as under `npm start`.
      PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? tmpdir(),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test can send SIGINT to the group as a terminal's Ctrl-C does.
    detached: true,
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), notify()));
  child.stderr!.on('data', (chunk: Buffer) => ((err += chunk.toString()), notify()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      notify();
    }),
  );
  const proc: ServerProcess = {
    child,
    output: () => out + err,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 45_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = (out + err).match(pattern);
          if (match) return done(() => resolve(match));
          if (child.exitCode !== null || child.signalCode !== null) {
            return done(() => reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}${err}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}${err}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
  };
  started.push(proc);
  return proc;
}

async function startAndWait(env: Record<string, string>): Promise<{ proc: ServerProcess; url: string }> {
  const proc = launch(env);
  const match = await proc.waitFor(/Orders is running at (http:\/\/\S+)/);
  return { proc, url: match[1]! };
}

let dataDir: string;
const postmasterPid = () => path.join(dataDir, 'postgres', 'postmaster.pid');

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'orders-start-'));
  // As root, PostgreSQL runs as its own user and must be able to enter the directory.
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  for (const proc of started) {
    // The group each test started: the server's node process and its PostgreSQL.
    try {
      process.kill(-proc.child.pid!, 'SIGKILL');
    } catch {
      // nothing of it is left
    }
    await proc.exited;
  }
  // A PostgreSQL left behind by a killed server: stop it by the pid it wrote.
  if (dataDir && existsSync(postmasterPid())) {
    const pid = Number((await readFile(postmasterPid(), 'utf8')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start (server/src/main.ts) with embedded PostgreSQL under DATA_DIR', () => {
  let first: { proc: ServerProcess; url: string };

  it('starts, says where it runs, and /healthz answers 200', async () => {
    const port = await freePort();
    first = await startAndWait({ DATA_DIR: dataDir, PORT: String(port), BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY });
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    expect(first.proc.output()).toContain(`tRPC at http://127.0.0.1:${port}/trpc`);
    // A fresh DATA_DIR has no login yet: the banner says how to get the first.
    await first.proc.waitFor(/Ctrl-C stops it\./);
    expect(first.proc.output()).toContain('no admin login yet: restart with BOOTSTRAP_ADMIN_EMAIL=you@example.com BOOTSTRAP_ADMIN_PASSWORD=<12+ characters> to create one');
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(existsSync(postmasterPid())).toBe(true);

    const orders = createOrdersClient({ url: `${first.url}/trpc`, apiKey: SERVICE_KEY });
    await orders.catalog.upsertProduct.mutate({ sku: 'KEEP-1', name: 'Kept', unitPrice: 1500, currency: 'JPY', stock: 4 });
  });

  it('a second server on the same DATA_DIR exits non-zero saying it is already running; the first keeps serving', async () => {
    const second = launch({ DATA_DIR: dataDir, PORT: String(await freePort()), BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY });
    const { code } = await within(second.exited, 30_000, 'the second server exiting');
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(second.stderr()).toMatch(/already/i);
    expect(second.output()).not.toContain('Orders is running at');
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });

  it('SIGINT stops it with exit code 0 within 10 s, PostgreSQL included', async () => {
    first.proc.child.kill('SIGINT');
    const { code, signal } = await within(first.proc.exited, 10_000, 'exit after SIGINT');
    expect({ code, signal }, summary(first.proc)).toEqual({ code: 0, signal: null });
    expect(existsSync(postmasterPid())).toBe(false);
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();
  });

  let again: { proc: ServerProcess; url: string };

  it('a restart on the same DATA_DIR keeps the data (and, given BOOTSTRAP_ADMIN_*, no longer says there is no login)', async () => {
    again = await startAndWait({
      DATA_DIR: dataDir, PORT: String(await freePort()), BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
      BOOTSTRAP_ADMIN_EMAIL: 'first-admin@orders.example', BOOTSTRAP_ADMIN_PASSWORD: 'first-admin-password',
    });
    // With an admin now: no hint.
    await again.proc.waitFor(/Ctrl-C stops it\./);
    expect(again.proc.output()).not.toContain('no admin login yet');
    const orders = createOrdersClient({ url: `${again.url}/trpc`, apiKey: SERVICE_KEY });
    const erin = { type: 'anonymous', id: 'erin' } as const;
    const cart = await orders.carts.create.mutate({ customer: erin });
    const withItem = await orders.carts.setItem.mutate({ customer: erin, cartId: cart.id, sku: 'KEEP-1', quantity: 4 });
    expect(withItem.lines).toEqual([{ sku: 'KEEP-1', name: 'Kept', quantity: 4, unitPrice: 1500, lineTotal: 6000, currency: 'JPY' }]);
  });

  it('Ctrl-C in a terminal (SIGINT to the whole process group) also exits 0 within 10 s, PostgreSQL included', async () => {
    process.kill(-again.proc.child.pid!, 'SIGINT');
    const exit = await within(again.proc.exited, 10_000, 'exit after Ctrl-C');
    expect(exit, summary(again.proc)).toEqual({ code: 0, signal: null });
    expect(existsSync(postmasterPid())).toBe(false);
  });
});

describe('npm start with a bad environment', () => {
  it('PORT=abc exits with code 2 and names PORT on stderr', async () => {
    const proc = launch({ DATA_DIR: dataDir, PORT: 'abc' });
    const { code } = await within(proc.exited, 30_000, 'exit on a bad PORT');
    expect(code).toBe(2);
    expect(proc.stderr()).toMatch(/PORT/);
    expect(proc.stderr()).not.toMatch(/^\s+at /m);
  });
});
