import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CUSTOMER_SCOPES } from '@orders/shared';
import { nodeScriptArgs, packageScripts, REPO_ROOT, RssSampler, spawnNode, type Child } from './children.ts';

export const SERVICE_KEY = 'bench-service-key-0123456789abcdefghijklmnop';
export const ADMIN_EMAIL = 'bench-admin@orders.example';
export const ADMIN_PASSWORD = 'bench-admin-password-123';
export const PROFILE_DIR = path.join(REPO_ROOT, 'tests/artifacts/bench-profiles');
/** Each server's full output (Orders logs at its default level), kept for diagnosis; git-ignored. */
export const LOG_DIR = path.join(REPO_ROOT, 'tests/artifacts/bench-logs');
/** Extra node flags for both servers, e.g. BENCH_NODE_FLAGS=--trace-gc. */
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

/**
 * The node flags of this checkout's `npm start` or `npm run dev` (`node <flags> <entry>` in the root
 * package.json), so Orders runs here as those scripts run it (its young generation's size, for one).
 */
export function scriptNodeFlags(script: 'start' | 'dev'): string[] {
  const scripts = packageScripts(REPO_ROOT);
  const args = nodeScriptArgs(scripts, script);
  if (!args) throw new Error(`package.json "${script}" does not start with node: ${scripts[script]}`);
  return args.slice(0, -1).filter((arg) => !arg.startsWith('--conditions') && arg !== '--import' && arg !== 'tsx');
}

/** A side of the comparison: this checkout's Orders, the hand-written baseline, a previous release (BENCH_COMPARE). */
export type Side = 'orders' | 'baseline' | 'previous';

/** A server under test, reached over HTTP, with its process's memory sampled. */
export interface Target {
  name: Side;
  url: string;
  trpcUrl: string;
  database: string;
  process: Child;
  rss: RssSampler;
  stop(): Promise<void>;
}

/** A started server as the bench drives it: its addresses, its process and an RSS sampler on it. */
function runningTarget(name: Side, child: Child, url: string, database: string): Target {
  const rss = new RssSampler(child.pid);
  return {
    name,
    url,
    trpcUrl: `${url}/trpc`,
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

/** What Orders (either checkout) is started with, besides the database: PayPal is the bench's external simulator, reached as the sandbox. */
function ordersEnv(options: { databaseUrl: string; paypalEnv: Record<string, string> }, knownEnv?: Set<string>): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IPN_RATE_LIMIT: '0',
    LOGIN_RATE_LIMIT: '0',
    ...options.paypalEnv,
  };
  if (!knownEnv) return env;
  // An older checkout is given only the variables its config reads (it would ignore the others anyway; this says which).
  const missing = Object.keys(env).filter((name) => !knownEnv.has(name));
  for (const name of missing) delete env[name];
  if (missing.some((name) => name.startsWith('PAYPAL_') || name === 'DATABASE_URL')) {
    throw new Error(`its config does not read ${missing.join(', ')}: it cannot be pointed at the bench's database and simulator`);
  }
  return env;
}

/** `BENCH_ORDERS_FROM=sources`: Orders through tsx from its TypeScript, as `npm run dev` runs it, instead of its build. */
const ORDERS_FROM_SOURCES = process.env.BENCH_ORDERS_FROM === 'sources';

/**
 * Orders as production runs it: `npm start` (scripts/start.mjs: builds what is missing or older
 * than its sources, then runs server/dist/main.js in the same process), pinned Node; with
 * BENCH_ORDERS_FROM=sources, server/src/main.ts through tsx as `npm run dev` runs it (tsx alone
 * holds ~60 MiB more RSS). On the bench's PostgreSQL, in PAYPAL_MODE=sandbox against the bench's
 * external simulator (the same one the baseline uses). LOG_LEVEL stays at its default (info). Rate
 * limits are switched off: the bench posts every IPN from one address.
 */
export async function startOrders(options: { databaseUrl: string; database: string; profile: boolean; paypalEnv: Record<string, string> }): Promise<Target> {
  const entry = path.join(REPO_ROOT, ORDERS_FROM_SOURCES ? 'server/src/main.ts' : 'scripts/start.mjs');
  const child = spawnNode({
    name: 'orders',
    entry,
    ...(ORDERS_FROM_SOURCES ? {} : { argv: [entry] }),
    nodeFlags: [...profileFlags('orders', options.profile), ...scriptNodeFlags(ORDERS_FROM_SOURCES ? 'dev' : 'start'), ...extraFlags],
    logFile: path.join(LOG_DIR, 'orders.log'),
    env: ordersEnv(options),
  });
  try {
    // A first start builds (scripts/start.mjs): minutes on a busy machine.
    const [, url] = await child.waitFor(/Orders is running at (http:\/\/\S+) /, 900_000);
    return runningTarget('orders', child, url!, options.database);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** A previous release (BENCH_COMPARE) from its worktree, started with its own start script, on its own database (it migrates it itself). */
export async function startPrevious(options: {
  databaseUrl: string;
  database: string;
  profile: boolean;
  paypalEnv: Record<string, string>;
  checkout: { root: string; start: { argv: string[]; cwd: string }; knownEnv: Set<string> };
}): Promise<Target> {
  const child = spawnNode({
    name: 'previous',
    entry: options.checkout.start.argv[options.checkout.start.argv.length - 1]!,
    argv: options.checkout.start.argv,
    cwd: options.checkout.start.cwd,
    binDir: path.join(options.checkout.root, 'node_modules/.bin'),
    nodeFlags: [...profileFlags('previous', options.profile), ...extraFlags],
    logFile: path.join(LOG_DIR, 'previous.log'),
    env: ordersEnv(options, options.checkout.knownEnv),
  });
  try {
    const [, url] = await child.waitFor(/Orders is running at (http:\/\/\S+) /, 120_000);
    return runningTarget('previous', child, url!, options.database);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The hand-written baseline (tests/bench/baseline/server.ts), on its own database with the same schema. */
export async function startBaseline(options: { databaseUrl: string; database: string; profile: boolean; paypalEnv: Record<string, string> }): Promise<Target> {
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
    // The same runtime flags as Orders: the two differ by their code only.
    nodeFlags: [...profileFlags('baseline', options.profile), ...scriptNodeFlags('start'), ...extraFlags],
    logFile: path.join(LOG_DIR, 'baseline.log'),
    env: { DATABASE_URL: options.databaseUrl, ...options.paypalEnv },
  });
  try {
    const [, url] = await child.waitFor(/BASELINE READY (\S+)/);
    return runningTarget('baseline', child, url!, options.database);
  } catch (error) {
    await child.stop();
    throw error;
  }
}
