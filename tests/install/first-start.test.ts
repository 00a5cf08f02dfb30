import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { useRepositoryCopy, type Running } from './support.ts';

/*
 * The README's two commands on a fresh clone: after `npm ci` (here the installed node_modules as hard
 * links), `npm start` with nothing built builds what it runs, then serves; a second start builds
 * nothing. The first start's build took ~95 s while it bundled the client's declarations, which no
 * start needs.
 */

const SERVICE_KEY = 'first-start-service-key-0123456789ab';
const env = { CI: '1', npm_config_update_notifier: 'false', PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'info' };
const copy = useRepositoryCopy('orders-first-start-');

async function stop(running: Running): Promise<string> {
  running.interrupt();
  const exit = await running.finished;
  const output = exit.stdout + exit.stderr;
  expect(exit.code === 0 || exit.signal === 'SIGINT', output).toBe(true);
  expect(output).not.toMatch(/"level":(4|5|6)0/);
  return output;
}

it('npm start on a fresh install builds the client package, the server and the back office, then serves them; the next start builds nothing', { timeout: 420_000 }, async () => {
  const started = Date.now();
  const server = copy.launch('npm', ['start'], env);
  const [, url] = await server.waitFor(/Orders is running at (http:\/\/\S+) /, 300_000);
  // Recorded, not asserted: the time depends on the machine.
  console.log(`first npm start: serving after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const what of ['the client package (@orders/shared)', 'the server', 'the back office for browsers']) expect(server.stdout()).toContain(`Building ${what}…`);
  for (const output of ['shared/dist/index.js', 'server/dist/main.js', 'desktop/dist-web/index.html']) expect(existsSync(path.join(copy.dir, output)), output).toBe(true);

  const orders = createOrdersClient({ url: `${url}/trpc`, apiKey: SERVICE_KEY });
  await orders.catalog.upsertProduct.mutate({ sku: 'FIRST-1', name: 'Teapot', unitPrice: 2500, currency: 'EUR', stock: 3 });
  const order = await orders.orders.create.mutate({ customer: { type: 'anonymous', id: 'first-start-1' }, items: [{ sku: 'FIRST-1', quantity: 1 }] });
  expect(order).toMatchObject({ status: 'pending', total: 2500, currency: 'EUR' });
  expect((await fetch(`${url}/backoffice/`)).status).toBe(200);
  expect((await fetch(`${url}/demo`)).status).toBe(200);
  await stop(server);

  const again = copy.launch('npm', ['start'], env);
  await again.waitFor(/Orders is running at (http:\/\/\S+) /, 120_000);
  expect(again.stdout()).not.toMatch(/Building /);
  await stop(again);
});
