import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { NODE_BIN_DIR, run, useRepositoryCopy } from './support.ts';

/*
 * Production as the README describes it, in a copy of this repository: the installed node_modules
 * (hard links of this one's, as `npm ci` would leave them), `npm run build`, `npm prune --omit=dev`,
 * then `npm start` serves orders from the compiled JavaScript with no development tool present.
 */

const SERVICE_KEY = 'production-build-service-key-0123456789';
const DEV_TOOLS = ['tsx', 'tsdown', 'vitest', 'vite', 'turbo', 'electron', 'node'];

const copy = useRepositoryCopy('orders-production-');
// Node 24 first (the `node` devDependency is pruned with the rest, as on a server with Node installed);
// no node_modules/.bin of this repository, so no development tool can be borrowed from it.
const PATH = [NODE_BIN_DIR, ...(process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules'))].join(':');
const env = { PATH, CI: '1', TURBO_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' };

async function step(args: string[], timeoutMs: number): Promise<string> {
  const result = await run('npm', args, { cwd: copy.dir, env, timeoutMs });
  const output = result.stdout + result.stderr;
  expect(result.code, `npm ${args.join(' ')}:\n${output.slice(-4000)}`).toBe(0);
  return output;
}

describe('npm run build, npm prune --omit=dev, npm start', () => {
  it('npm run build compiles the client package, the server and the back office to JavaScript', async () => {
    await step(['run', 'build'], 600_000);
    for (const output of ['shared/dist/index.js', 'server/dist/main.js', 'server/dist/db/migrations/index.js', 'desktop/dist-web/index.html']) {
      expect(existsSync(path.join(copy.dir, output)), output).toBe(true);
    }
  }, 660_000);

  it('npm prune --omit=dev removes every development tool', async () => {
    await step(['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], 300_000);
    for (const tool of DEV_TOOLS) expect(existsSync(path.join(copy.dir, 'node_modules', tool)), tool).toBe(false);
    expect(existsSync(path.join(copy.dir, 'node_modules/pino-pretty'))).toBe(true);
  }, 330_000);

  it('npm start then runs the build as it is, with its data in the copy’s .data, and serves orders and the back office', async () => {
    // PORT=0: the system picks a free one, and the banner says which.
    const server = copy.launch('npm', ['start'], { ...env, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'info' });
    const [, url] = await server.waitFor(/Orders is running at (http:\/\/\S+) /, 120_000);
    await server.waitFor(/Ctrl-C stops it\./, 10_000);
    expect(server.stdout()).not.toMatch(/Building /);
    expect(server.stdout()).toContain(`data in ${path.join(copy.dir, '.data')}`);
    expect((await stat(path.join(copy.dir, '.data/postgres'))).isDirectory()).toBe(true);

    const orders = createOrdersClient({ url: `${url}/trpc`, apiKey: SERVICE_KEY });
    const customer = { type: 'user', id: 'production-1' } as const;
    await orders.catalog.upsertProduct.mutate({ sku: 'PROD-1', name: 'Kettle', unitPrice: 4200, currency: 'GBP', stock: 5 });
    const cart = await orders.carts.create.mutate({ customer });
    await orders.carts.setItem.mutate({ customer, cartId: cart.id, sku: 'PROD-1', quantity: 2 });
    const order = await orders.orders.create.mutate({ customer, cartId: cart.id });
    expect(await orders.orders.get.query({ customer, orderId: order.id })).toMatchObject({ status: 'pending', total: 8400, currency: 'GBP' });

    const backoffice = await fetch(`${url}/backoffice/`);
    expect(backoffice.status).toBe(200);
    const page = await backoffice.text();
    expect(page).toContain('<div id="root">');
    expect(page).toBe(await readFile(path.join(copy.dir, 'desktop/dist-web/index.html'), 'utf8'));

    server.interrupt();
    const exit = await server.finished;
    const output = exit.stdout + exit.stderr;
    // npm itself ends by the SIGINT it relayed (as in a terminal); the server stopped cleanly under it.
    expect(exit.code === 0 || exit.signal === 'SIGINT', output).toBe(true);
    expect(output).not.toMatch(/"level":(4|5|6)0/);
    expect(existsSync(path.join(copy.dir, '.data/postgres/postmaster.pid')), output).toBe(false);
  }, 180_000);
});
