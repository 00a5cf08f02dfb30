import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CUSTOMER_SCOPES } from '@orders/shared';
import { REPO_ROOT, RssSampler, spawnNode, type Child } from './children.ts';

export const SERVICE_KEY = 'bench-service-key-0123456789abcdefghijklmnop';
export const ADMIN_EMAIL = 'bench-admin@orders.example';
export const ADMIN_PASSWORD = 'bench-admin-password-123';
export const PROFILE_DIR = path.join(REPO_ROOT, 'tests/artifacts/bench-profiles');
/** Each server's full output (Orders logs at its default level), kept for diagnosis; git-ignored. */
export const LOG_DIR = path.join(REPO_ROOT, 'tests/artifacts/bench-logs');
/** Extra node flags for both servers, e.g. BENCH_NODE_FLAGS=--trace-gc. */
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

/** A server under test, reached over HTTP, with its process's memory sampled. */
export interface Target {
  name: 'orders' | 'baseline';
  url: string;
  trpcUrl: string;
  simulatorUrl: string;
  /** Bearer token of the simulator's control API (/_sim/*), when the bench drives it over HTTP. */
  simulatorToken?: string;
  database: string;
  process: Child;
  rss: RssSampler;
  stop(): Promise<void>;
}

/** A started server as the bench drives it: its addresses, its process and an RSS sampler on it. */
function runningTarget(name: Target['name'], child: Child, url: string, simulatorUrl: string, database: string, simulatorToken?: string): Target {
  const rss = new RssSampler(child.pid);
  return {
    name,
    url,
    trpcUrl: `${url}/trpc`,
    simulatorUrl,
    ...(simulatorToken ? { simulatorToken } : {}),
    database,
    process: child,
    rss,
    stop: async () => {
      rss.stop();
      await child.stop();
    },
  };
}

function profileFlags(name: string, profile: boolean): string[] {
  if (!profile) return [];
  mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}

/**
 * Orders exactly as `npm start` runs it (server/src/main.ts in its own process, pinned Node, tsx
 * loader), on the bench's PostgreSQL, with the in-process PayPal simulator it starts by itself.
 * LOG_LEVEL stays at its default (info). Rate limits are switched off where the server supports
 * the variables (it ignores unknown ones): the bench posts every IPN from one address.
 */
export async function startOrders(options: { databaseUrl: string; database: string; profile: boolean }): Promise<Target> {
  const child = spawnNode({
    name: 'orders',
    entry: path.join(REPO_ROOT, 'server/src/main.ts'),
    nodeFlags: [...profileFlags('orders', options.profile), ...extraFlags],
    logFile: path.join(LOG_DIR, 'orders.log'),
    env: {
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IPN_RATE_LIMIT: '0',
      LOGIN_RATE_LIMIT: '0',
    },
  });
  try {
    const [, url] = await child.waitFor(/Orders is running at (http:\/\/\S+) /);
    const [, simulatorUrl, simulatorToken] = await child.waitFor(/"url":"(http:\/\/[^"]+)","controlToken":"([^"]+)"[^\n]*"msg":"PayPal simulator started"/);
    return runningTarget('orders', child, url!, simulatorUrl!, options.database, simulatorToken);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The hand-written baseline (tests/bench/baseline/server.ts), on its own database with the same schema. */
export async function startBaseline(options: { databaseUrl: string; database: string; profile: boolean }): Promise<Target> {
  // Orders ensures its service key at start; the baseline's database gets the same key the same way.
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  await pool.query(
    `insert into api_key (id, created_at, updated_at, name, prefix, key_hash, scopes, disabled)
     values (uuidv7(), now(), now(), 'bench', $1, $2, $3, false) on conflict (key_hash) do nothing`,
    [SERVICE_KEY.slice(0, 8), createHash('sha256').update(SERVICE_KEY).digest('hex'), [...CUSTOMER_SCOPES, 'catalog:write']],
  );
  await pool.end();
  const child = spawnNode({
    name: 'baseline',
    entry: path.join(REPO_ROOT, 'tests/bench/baseline/server.ts'),
    nodeFlags: [...profileFlags('baseline', options.profile), ...extraFlags],
    logFile: path.join(LOG_DIR, 'baseline.log'),
    env: { DATABASE_URL: options.databaseUrl },
  });
  try {
    const [, url, simulatorUrl] = await child.waitFor(/BASELINE READY (\S+) (\S+)/);
    return runningTarget('baseline', child, url!, simulatorUrl!, options.database);
  } catch (error) {
    await child.stop();
    throw error;
  }
}
