import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { AppConfig } from './config.js';
import { DEFAULT_WEB_BUILD_DIR } from './http/backoffice-static.js';
import type { RunningServer } from './server.js';

/** A start-up failure the operator can fix: its message is the one line `npm start` prints. */
export class StartFailure extends Error {
  override name = 'StartFailure';
}

function portTaken(config: Pick<AppConfig, 'host' | 'port'>): StartFailure {
  return new StartFailure(
    `Port ${config.port} on ${config.host} is already in use (is Orders already running?): stop that process, or start with another PORT.`,
  );
}

/**
 * Fails at once when the API's port is taken: before a database cluster is created or started for
 * nothing. (Whoever takes the port in between is still caught when the server listens.)
 */
export async function ensurePortFree(config: Pick<AppConfig, 'host' | 'port'>): Promise<void> {
  if (config.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? portTaken(config) : error));
    probe.listen({ host: config.host, port: config.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

type SystemError = Error & { code?: string; errors?: unknown[]; cause?: unknown };

/** The errors inside `error`: its causes, and each attempt of a connection tried on several addresses. */
function* errorChain(error: unknown, depth = 0): Generator<SystemError> {
  if (!(error instanceof Error) || depth > 5) return;
  const current = error as SystemError;
  yield current;
  if (Array.isArray(current.errors)) for (const inner of current.errors) yield* errorChain(inner, depth + 1);
  yield* errorChain(current.cause, depth + 1);
}

/** Host, port, user and database of DATABASE_URL, never its password. */
function describeDatabase(databaseUrl: string): { where: string; user: string; database: string } {
  const url = new URL(databaseUrl);
  // `?host=` names the host pg connects to, a Unix socket's directory when it starts with '/'.
  const host = url.searchParams.get('host') ?? url.hostname;
  const port = url.port || '5432';
  return {
    where: host.startsWith('/') ? `${host} (Unix socket, port ${port})` : `${host}:${port}`,
    user: decodeURIComponent(url.username) || '(none)',
    database: decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username),
  };
}

/**
 * The one line for a start-up failure an operator can act on (port taken, database unreachable,
 * credentials refused), or undefined for anything else: that is a crash and is logged whole.
 */
export function describeStartFailure(error: unknown, config: AppConfig): string | undefined {
  for (const cause of errorChain(error)) {
    if (cause instanceof StartFailure) return cause.message;
    const listening = 'syscall' in cause && cause.syscall === 'listen';
    if (listening && cause.code === 'EADDRINUSE') return portTaken(config).message;
    if (listening && cause.code === 'EACCES') {
      return `Not allowed to listen on ${config.host}:${config.port}: ports below 1024 need privileges; choose another PORT.`;
    }
    if (listening && cause.code === 'EADDRNOTAVAIL') return `HOST=${config.host} is not an address of this machine.`;
    if (!config.databaseUrl) continue;
    const db = describeDatabase(config.databaseUrl);
    switch (cause.code) {
      case 'ECONNREFUSED':
        return `Cannot reach PostgreSQL at ${db.where} (DATABASE_URL): connection refused; is it running there?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `Cannot reach PostgreSQL at ${db.where} (DATABASE_URL): the host name does not resolve.`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `Cannot reach PostgreSQL at ${db.where} (DATABASE_URL): no answer (${cause.code}).`;
      case '28P01':
        return `PostgreSQL at ${db.where} refused the credentials in DATABASE_URL: password authentication failed for user "${db.user}".`;
      case '28000':
        return `PostgreSQL at ${db.where} refused user "${db.user}" (DATABASE_URL): ${cause.message}.`;
      case '3D000':
        return `PostgreSQL at ${db.where} has no database "${db.database}" (DATABASE_URL): create it, or name another.`;
    }
  }
  return undefined;
}

const PAYPAL_MODES: Record<AppConfig['paypal']['mode'], string> = {
  simulator: 'simulated: a local PayPal simulator, no real money',
  sandbox: 'sandbox: PayPal test accounts, no real money',
  live: 'live: real payments',
};

/** What `npm start` prints once it serves: where everything is, in a few aligned lines. */
export function readyBanner(
  server: Pick<RunningServer, 'url' | 'trpcUrl' | 'paypal'>,
  config: AppConfig,
  options: { hasAdmin: boolean; backofficeWebDir?: string },
): string {
  const backofficeWebDir = options.backofficeWebDir ?? DEFAULT_WEB_BUILD_DIR;
  const backofficeBuilt = existsSync(path.join(backofficeWebDir, 'index.html'));
  const simulator = server.paypal.simulator?.pagesUrl;
  const lines = [
    // The first line's shape is what scripts and tests wait for.
    `Orders is running at ${server.url} (tRPC at ${server.trpcUrl}, health at ${server.url}/healthz)`,
    ...(config.paypal.mode === 'simulator' ? [`  demo shop    ${server.url}/demo  ← start here: buy something, pay with the simulated PayPal`] : []),
    `  back office  ${server.url}/backoffice${backofficeBuilt ? '' : ' (not built yet: npm run build)'}`,
    // A fresh install has no login: the one way to get the first, where a new user looks first.
    ...(options.hasAdmin ? [] : ['               no admin login yet: restart with BOOTSTRAP_ADMIN_EMAIL=you@example.com BOOTSTRAP_ADMIN_PASSWORD=<12+ characters> to create one']),
    `  PayPal       ${PAYPAL_MODES[config.paypal.mode]}${simulator ? ` (${simulator})` : ''}`,
    `  database     ${config.databaseUrl ? `PostgreSQL at ${describeDatabase(config.databaseUrl).where}` : `embedded PostgreSQL, data in ${config.dataDir}`}`,
    `  Ctrl-C stops it.`,
  ];
  return lines.join('\n');
}
