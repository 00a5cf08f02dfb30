import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createAppProtocolHandler } from './app-protocol.js';
import { useTempDir } from './test-support.js';

describe('orders:// protocol handler', () => {
  const tempDir = useTempDir();

  async function setup(fetchImpl?: (url: string, init: RequestInit) => Promise<Response>) {
    const root = await tempDir();
    const rendererDir = path.join(root, 'renderer');
    await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
    await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orders</title>');
    await writeFile(path.join(rendererDir, 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(path.join(root, 'secret.txt'), 'do not serve');
    const fetch = vi.fn(fetchImpl ?? (async () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })));
    const handler = createAppProtocolHandler({ rendererDir, getServerUrl: async () => 'http://127.0.0.1:4000', fetch });
    return { handler, fetch };
  }

  it('serves the bundled renderer, with index.html for app routes and 404 for missing assets', async () => {
    const { handler } = await setup();
    const index = await handler(new Request('orders://app/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>Orders</title>');
    const script = await handler(new Request('orders://app/assets/index-abc.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await (await handler(new Request('orders://app/orders/0193'))).text()).toContain('<title>Orders</title>');
    expect((await handler(new Request('orders://app/assets/missing.js'))).status).toBe(404);
    expect((await handler(new Request('orders://elsewhere/index.html'))).status).toBe(404);
    expect((await handler(new Request('orders://app/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it('never serves a file outside the renderer directory', async () => {
    const { handler } = await setup();
    for (const url of ['orders://app/../secret.txt', 'orders://app/%2e%2e/secret.txt', 'orders://app/assets/..%2f..%2fsecret.txt', 'orders://app/%2e%2e%5csecret.txt']) {
      const response = await handler(new Request(url));
      expect(await response.text(), url).not.toContain('do not serve');
    }
  });

  it('forwards /trpc and /backoffice/api to the configured server with the staff token, not the renderer origin', async () => {
    const { handler, fetch } = await setup(async () => new Response('[{"result":{"data":1}}]', { status: 200, headers: { 'content-type': 'application/json' } }));
    const response = await handler(
      new Request('orders://app/trpc/auth.login?batch=1', {
        method: 'POST',
        headers: { authorization: 'Bearer oss_x', 'content-type': 'application/json', origin: 'orders://app', cookie: 'a=b' },
        body: '{"0":{"email":"a@b.c"}}',
      }),
    );
    expect(await response.text()).toBe('[{"result":{"data":1}}]');
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('http://127.0.0.1:4000/trpc/auth.login?batch=1');
    const headers = new Headers(init.headers);
    expect(headers.get('authorization')).toBe('Bearer oss_x');
    expect(headers.has('origin')).toBe(false);
    expect(headers.has('cookie')).toBe(false);
    expect(init.method).toBe('POST');
    expect(Buffer.from(init.body as ArrayBuffer).toString()).toBe('{"0":{"email":"a@b.c"}}');

    await handler(new Request('orders://app/backoffice/api/orders.csv?status=paid'));
    expect(fetch.mock.calls[1]![0]).toBe('http://127.0.0.1:4000/backoffice/api/orders.csv?status=paid');
    expect(fetch.mock.calls[1]![1].body).toBeUndefined();
  });

  it('answers 502 with the server address when the server cannot be reached', async () => {
    const { handler } = await setup(async () => {
      throw new TypeError('fetch failed');
    });
    const response = await handler(new Request('orders://app/trpc/auth.me'));
    expect(response.status).toBe(502);
    expect(await response.text()).toBe('Cannot reach the Orders server at http://127.0.0.1:4000');
  });
});
