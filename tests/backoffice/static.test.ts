import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { createTestDatabase, type TestDatabase } from '@orders/server/testing/test-database.ts';

let dir: string;
let db: TestDatabase;
let server: RunningServer;

const INDEX = '<!doctype html><html><head><script type="module" src="/backoffice/assets/app-3f9a.js"></script></head><body><div id="root"></div></body></html>';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'backoffice-web-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), INDEX);
  await writeFile(path.join(dir, 'assets', 'app-3f9a.js'), 'console.log("back office")');
  db = await createTestDatabase();
  server = await startServer(loadConfig({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent' }), { workers: false, backofficeWebDir: dir });
});
afterAll(async () => {
  await server.close();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function get(url: string, method = 'GET') {
  const response = await fetch(`${server.url}${url}`, { method, redirect: 'manual' });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

function expectSecurityHeaders(headers: Record<string, string>) {
  expect(headers['content-security-policy']).toMatch(/default-src 'self'/);
  expect(headers['content-security-policy']).toMatch(/connect-src 'self'/);
  expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('/backoffice (the renderer’s browser build)', () => {
  it('serves the app with security headers at /backoffice and for every client-side route', async () => {
    for (const url of ['/backoffice', '/backoffice/', '/backoffice/orders/01a20822-0c66-778b-8b1f-eef467391a2c', '/backoffice/reconciliation?kind=stuck_attempt']) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toBe(INDEX);
      expectSecurityHeaders(response.headers);
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable, and nothing outside the build', async () => {
    const asset = await get('/backoffice/assets/app-3f9a.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/backoffice/..%2f..%2fetc%2fpasswd', '/backoffice/%2e%2e/%2e%2e/package.json']) {
      const traversal = await get(url);
      expect(traversal.body).not.toMatch(/root:|"workspaces"/);
    }
  });

  it('never answers /backoffice/api/* or writes with the app', async () => {
    const api = await get('/backoffice/api/nothing-here');
    expect(api.status).toBe(404);
    expect(JSON.parse(api.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await get('/backoffice/orders', 'POST')).status).toBe(404);
    // The CSV download lives under /backoffice/api and is not shadowed by the app.
    expect((await get('/backoffice/api/orders.csv')).status).toBe(401);
  });

  it('without a build: a 503 page saying how to build it (checked per load, so building needs no restart)', async () => {
    await rm(path.join(dir, 'index.html'));
    for (const url of ['/backoffice', '/backoffice/orders/1']) {
      const response = await get(url);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('npm run build:web -w @orders/desktop');
      expectSecurityHeaders(response.headers);
    }
  });
});
