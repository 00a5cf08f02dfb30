import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';
import { NODE, REPO, lines, run, tempDir } from './support.ts';

/*
 * @orders/shared as another service gets it: `npm pack` here, `npm install` of the tarball in a folder
 * outside the repository, a strict NodeNext consumer type-checked by its own TypeScript, then run
 * compiled on plain Node 24 (no tsx, no flags) against a real server.
 */

const SERVICE_KEY = 'install-test-service-key-0123456789';
/** What a service declares beside the tarball (README): the peers, and its own TypeScript and Node types. */
const CONSUMER_DEPENDENCIES = { '@trpc/client': '11.25.2', zod: '4.6.7' };
const CONSUMER_DEV_DEPENDENCIES = { typescript: '5.9.3', '@types/node': '24.19.2' };
const PEERS = ['@trpc/client', '@trpc/server', 'zod'];

const STRICT_NODENEXT = {
  target: 'ES2023',
  // DOM: @trpc/client's own declarations name its RequestInfo (checked, as skipLibCheck is off).
  lib: ['ES2023', 'DOM'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  // The package's declarations are checked too: an import they cannot resolve would be an error here.
  skipLibCheck: false,
  types: ['node'],
  rootDir: 'src',
  outDir: 'dist',
};

let packDir: string;
let consumer: string;
let tarball: string;
let db: TestDatabase;
let server: RunningServer;

/** The README's "Use it from another service" snippet, exactly as written there. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const match = /## Use it from another service[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README: no ts snippet under "Use it from another service"');
  return match[1]!;
}

const npm = (args: string[], cwd: string, timeoutMs: number) => run('npm', args, { cwd, timeoutMs, env: { npm_config_update_notifier: 'false' } });
const tsc = (project: string) => run(NODE, [path.join(consumer, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: consumer, timeoutMs: 120_000 });

beforeAll(async () => {
  packDir = await tempDir('orders-pack-');
  consumer = await tempDir('orders-consumer-');
  // prepack builds the package (tsdown) first.
  const packed = await npm(['pack', '--pack-destination', packDir], path.join(REPO, 'shared'), 300_000);
  expect(packed.code, packed.stdout + packed.stderr).toBe(0);
  tarball = path.join(packDir, lines(packed.stdout).at(-1)!.trim());

  await writeFile(
    path.join(consumer, 'package.json'),
    JSON.stringify({
      name: 'orders-consumer',
      private: true,
      type: 'module',
      dependencies: { '@orders/shared': `file:${tarball}`, ...CONSUMER_DEPENDENCIES },
      devDependencies: CONSUMER_DEV_DEPENDENCIES,
    }),
  );
  // From npm's cache when it has them (it does after this repository's `npm ci`); the registry otherwise.
  const installed = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund'], consumer, 300_000);
  expect(installed.code, installed.stdout + installed.stderr).toBe(0);

  await mkdir(path.join(consumer, 'src'));
  await writeFile(path.join(consumer, 'src/orders-demo.ts'), await readmeSnippet());
  await writeFile(
    path.join(consumer, 'src/wrong.ts'),
    [
      "import { createOrdersClient } from '@orders/shared';",
      '',
      "const orders = createOrdersClient({ url: 'http://127.0.0.1:4000/trpc' });",
      'export async function totalAsText(orderId: string): Promise<string> {',
      "  const order = await orders.orders.get.query({ customer: { type: 'user', id: 'u' }, orderId });",
      '  const s: string = order.total;',
      '  return s;',
      '}',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: STRICT_NODENEXT, files: ['src/orders-demo.ts'] }));
  await writeFile(path.join(consumer, 'tsconfig.wrong.json'), JSON.stringify({ compilerOptions: { ...STRICT_NODENEXT, noEmit: true }, files: ['src/wrong.ts'] }));

  db = await createTestDatabase();
  server = await startServer(loadConfig({ DATABASE_URL: db.url, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' }));
}, 600_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  for (const dir of [packDir, consumer]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('@orders/shared from npm pack, in a service outside the repository', () => {
  it('is compiled JavaScript and one declaration file, whose imports are its peer dependencies only', async () => {
    const listing = await run('tar', ['-tzf', tarball], { cwd: packDir, timeoutMs: 30_000 });
    const files = lines(listing.stdout).sort();
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files.filter((f) => f.endsWith('.d.ts'))).toEqual(['package/dist/index.d.ts']);
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);

    const installed = path.join(consumer, 'node_modules/@orders/shared');
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
      peerDependencies: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    expect(manifest.exports['.']).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(PEERS);
    expect(manifest.dependencies ?? {}).toEqual({});

    const declarations = await readFile(path.join(installed, 'dist/index.d.ts'), 'utf8');
    const imported = new Set([...declarations.matchAll(/(?:from|import)\s*\(?\s*["']([^"'.][^"']*)["']/g)].map((m) => m[1]!));
    const packages = [...imported].map((specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
    expect(packages.filter((name) => !PEERS.includes(name))).toEqual([]);
    expect(packages).toContain('@trpc/client');
    expect(declarations).not.toMatch(/@mikro-orm|from ["']pg["']|from ["']pino["']|@orders\/server/);
    expect(declarations).toContain('type AppRouter');
  });

  it('type-checks the README snippet under strict NodeNext settings (exactOptionalPropertyTypes, skipLibCheck off)', async () => {
    const checked = await tsc('tsconfig.json');
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  });

  it('reports a wrong type: the router types reach the consumer, not `any`', async () => {
    const checked = await tsc('tsconfig.wrong.json');
    expect(checked.code).not.toBe(0);
    expect(checked.stdout).toMatch(/src\/wrong\.ts\(6,9\): error TS2322: Type 'number' is not assignable to type 'string'/);
    expect(lines(checked.stdout).filter((line) => /error TS/.test(line))).toHaveLength(1);
  });

  it('runs compiled on plain Node 24 against a started server, and as .ts through Node 24 itself', async () => {
    const env = { ORDERS_URL: server.trpcUrl, ORDERS_API_KEY: SERVICE_KEY, NODE_OPTIONS: '' };
    const compiled = await run(NODE, ['dist/orders-demo.js'], { cwd: consumer, env, timeoutMs: 60_000 });
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
    expect(compiled.stdout).toMatch(/status: 'pending'/);
    expect(compiled.stdout).toMatch(/total: 2500/);
    expect(compiled.stdout).toMatch(/currency: 'USD'/);

    const stripped = await run(NODE, ['src/orders-demo.ts'], { cwd: consumer, env, timeoutMs: 60_000 });
    expect(stripped.code, stripped.stdout + stripped.stderr).toBe(0);
    expect(stripped.stdout).toMatch(/status: 'pending'/);
  });

  it('a key the server does not know fails with the server\'s UNAUTHORIZED, not a crash of the client', async () => {
    const env = { ORDERS_URL: server.trpcUrl, ORDERS_API_KEY: 'not-a-key-of-this-server-000000', NODE_OPTIONS: '' };
    const refused = await run(NODE, ['dist/orders-demo.js'], { cwd: consumer, env, timeoutMs: 60_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/TRPCClientError/);
    expect(refused.stderr).toMatch(/UNAUTHORIZED|API key/);
  });
});
