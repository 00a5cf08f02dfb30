import { createServer, type Server } from 'node:net';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { NODE, REPO, launch, lines, run, tempDir, type Finished } from './support.ts';

/*
 * What an operator sees from `npm start` (the same main.ts, run from its sources): one line and a
 * non-zero exit for each start failure, one ready banner, a Ctrl-C that stops without an error line,
 * readable logs on a terminal; and `npm run desktop` without Electron's binary.
 */

const MAIN = ['--conditions=@orders/source', '--import', 'tsx', path.join(REPO, 'server/src/main.ts')];
const SERVICE_KEY = 'start-failures-service-key-0123456789';
const dirs: string[] = [];

const start = (env: Record<string, string>) => run(NODE, MAIN, { cwd: REPO, env: { LOG_LEVEL: 'info', ...env }, timeoutMs: 60_000 });

/** Nothing but the one line: no stack, no log line at warn or above, nothing on stdout that is an error. */
function expectOneLine(result: Finished, pattern: RegExp) {
  const output = result.stdout + result.stderr;
  expect(lines(result.stderr), output).toHaveLength(1);
  expect(result.stderr.trim(), output).toMatch(pattern);
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/"level":(4|5|6)0/);
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a start that cannot succeed prints one line and exits non-zero', () => {
  let occupied: Server;
  afterAll(() => new Promise<void>((resolve) => (occupied ? occupied.close(() => resolve()) : resolve())));

  it('port taken: said before anything is created (no database cluster in DATA_DIR)', async () => {
    occupied = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => occupied.listen(port, '127.0.0.1', resolve));
    const dataDir = await tempDir('orders-port-taken-');
    dirs.push(dataDir);
    const result = await start({ DATA_DIR: dataDir, PORT: String(port) });
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is already in use \\(is Orders already running\\?\\)`));
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('database unreachable', async () => {
    const port = await freePort();
    const result = await start({ DATABASE_URL: `postgres://orders:s3cret-pass@127.0.0.1:${port}/orders`, PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\): connection refused`));
    expect(result.stdout + result.stderr).not.toContain('s3cret-pass');
  });

  it('wrong credentials', async () => {
    const url = new URL(db.url);
    url.password = 'wrong-password-123';
    const result = await start({ DATABASE_URL: url.toString(), PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${url.port} refused the credentials in DATABASE_URL: password authentication failed for user "${url.username}"`));
    expect(result.stdout + result.stderr).not.toContain('wrong-password-123');
  });

  it('a database that does not exist: said, never created behind the operator’s back', async () => {
    const url = new URL(db.url);
    const missing = `${db.name}_missing`;
    url.pathname = `/${missing}`;
    const result = await start({ DATABASE_URL: url.toString(), PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${url.port} has no database "${missing}" \\(DATABASE_URL\\): create it, or name another\\.$`));
    // The role may create databases (the test cluster's superuser): it still did not.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_database where datname = $1', [missing]);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('bad configuration: every bad variable named, on one line', async () => {
    const result = await start({ PORT: 'abc', BOOTSTRAP_SERVICE_API_KEY: 'short' });
    expect(result.code).toBe(2);
    expectOneLine(result, /^Invalid configuration: PORT: must be a port number; BOOTSTRAP_SERVICE_API_KEY: must be at least 24 characters$/);
  });
});

describe('a start that succeeds', () => {
  it('prints one ready banner (API, back office, PayPal simulated), serves, and stops on Ctrl-C without an error line', async () => {
    const dataDir = await tempDir('orders-ready-');
    dirs.push(dataDir);
    // PORT=0: the system picks a free one, and the banner says which.
    const server = launch(NODE, MAIN, { cwd: REPO, env: { LOG_LEVEL: 'info', DATA_DIR: dataDir, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY } });
    try {
      const [, url] = await server.waitFor(/Orders is running at (http:\/\/\S+) /, 90_000);
      await server.waitFor(/Ctrl-C stops it\./, 10_000);
      const stdout = server.stdout();
      expect(stdout.match(/Orders is running at/g)).toHaveLength(1);
      expect(stdout).toContain(`Orders is running at ${url} (tRPC at ${url}/trpc, health at ${url}/healthz)`);
      expect(stdout).toMatch(new RegExp(`^  back office  ${url}/backoffice`, 'm'));
      expect(stdout).toMatch(/^ {2}PayPal {7}simulated/m);
      expect(stdout).toMatch(new RegExp(`^  database     embedded PostgreSQL, data in ${dataDir}`, 'm'));

      // Some work first, so the job queue and the database have connections to lose at Ctrl-C.
      const orders = createOrdersClient({ url: `${url}/trpc`, apiKey: SERVICE_KEY });
      await orders.catalog.upsertProduct.mutate({ sku: 'CTRL-C-1', name: 'Mug', unitPrice: 900, currency: 'EUR', stock: 3 });
      const customer = { type: 'anonymous', id: 'ctrl-c' } as const;
      const cart = await orders.carts.create.mutate({ customer });
      await orders.carts.setItem.mutate({ customer, cartId: cart.id, sku: 'CTRL-C-1', quantity: 1 });
      await orders.orders.create.mutate({ customer, cartId: cart.id });

      server.interrupt();
      const exit = await server.finished;
      const output = exit.stdout + exit.stderr;
      expect({ code: exit.code, signal: exit.signal }, output).toEqual({ code: 0, signal: null });
      expect(exit.stderr, output).toBe('');
      expect(output).not.toMatch(/"level":(4|5|6)0/);
      expect(output).not.toMatch(/57P01|job queue error|terminating connection/);
    } finally {
      server.kill();
    }
  });

  it('logs human-readable lines on a terminal, JSON lines through a pipe', async () => {
    const env = { LOG_LEVEL: 'info', DATABASE_URL: db.url, PORT: '0' };
    const command = [NODE, ...MAIN].join(' ');
    // util-linux `script` gives the server a terminal (a pty) as a user's shell would.
    const onTerminal = launch('script', ['-qefc', command, '/dev/null'], { cwd: REPO, env });
    try {
      await onTerminal.waitFor(/Ctrl-C stops it\./, 60_000);
      const output = onTerminal.stdout();
      expect(output).toMatch(/\[\d\d:\d\d:\d\d\] .*INFO.*: .*PayPal simulator started/);
      expect(output).not.toContain('{"level"');
    } finally {
      onTerminal.child.kill('SIGTERM');
      await onTerminal.finished;
    }

    const piped = launch(NODE, MAIN, { cwd: REPO, env });
    try {
      await piped.waitFor(/Ctrl-C stops it\./, 60_000);
      const logLines = lines(piped.stdout()).filter((line) => line.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) expect(JSON.parse(line)).toHaveProperty('msg');
    } finally {
      piped.interrupt();
      await piped.finished;
    }
  });
});

describe('npm run desktop without Electrons binary', () => {
  it('says so in one line, points to /backoffice and exits non-zero', async () => {
    // An empty override directory: no binary, whether or not this machine downloaded one.
    const empty = await tempDir('orders-no-electron-');
    dirs.push(empty);
    const result = await run('npm', ['run', 'desktop'], { cwd: REPO, env: { ELECTRON_OVERRIDE_DIST_PATH: empty }, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expectOneLine(result, /^Electron's binary is not installed .* use the back office in a browser instead: http:\/\/127\.0\.0\.1:4000\/backoffice$/);
    expect(result.stdout + result.stderr).not.toMatch(/npm error/);
  });
});

