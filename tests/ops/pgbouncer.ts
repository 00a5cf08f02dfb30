import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '@orders/server/db/embedded-postgres.ts';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** `databaseUrl` with PgBouncer's host and port: what DATABASE_URL is in production. */
  url: string;
  /** Runs a command on PgBouncer's admin console (SHOW STATS, SHOW POOLS, …). */
  admin(command: string): Promise<Record<string, unknown>[]>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * PgBouncer (the Debian package) in transaction pooling mode in front of `databaseUrl`'s server, on
 * a free loopback port, its configuration in a temporary folder. Clients authenticate with SCRAM
 * against the password in its auth file, which it also uses towards PostgreSQL.
 */
export async function startPgBouncer(databaseUrl: string): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'orders-pgbouncer-'));
  // As root PgBouncer switches to an unprivileged user, which must still read its files.
  await chmod(dir, 0o755);
  const runAs = process.getuid?.() === 0 ? (['postgres', 'nobody'].find((name) => readFileSync('/etc/passwd', 'utf8').includes(`\n${name}:`)) ?? 'nobody') : undefined;
  await writeFile(path.join(dir, 'userlist.txt'), `"${user}" "${password}"\n`, { mode: 0o644 });
  await writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 400',
      'default_pool_size = 20',
      `admin_users = ${user}`,
      ...(runAs ? [`user = ${runAs}`] : []),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  if (!existsSync(PGBOUNCER)) throw new Error(`${PGBOUNCER} is missing: apt-get install -y pgbouncer`);
  const child = spawn(PGBOUNCER, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PgBouncer did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('process up')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`PgBouncer exited:\n${output}`)));
  });
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    output: () => output,
    admin: async (command) => {
      const adminUrl = new URL(url);
      adminUrl.pathname = '/pgbouncer';
      const client = new pg.Client({ connectionString: adminUrl.toString() });
      await client.connect();
      try {
        return (await client.query(command)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
