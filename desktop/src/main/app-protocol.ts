import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PROXIED_PATH_PREFIXES } from '../shared/bridge.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Request headers that describe the renderer's origin, not the staff member's request. */
const DROPPED_REQUEST_HEADERS = ['host', 'origin', 'referer', 'cookie'];

export interface AppProtocolOptions {
  /** Absolute path of the built renderer (out/renderer). */
  rendererDir: string;
  getServerUrl(): Promise<string>;
  /** Electron's net.fetch in the app (system proxy settings apply); anything fetch-like in tests. */
  fetch(url: string, init: RequestInit): Promise<Response>;
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/**
 * Handles `orders://app/…`: the renderer's files from the bundle, and `/trpc/…` and
 * `/backoffice/api/…` forwarded to the configured Orders server. The renderer thus talks to its
 * own origin exactly as it does when the server serves it at /backoffice: no CORS, and the
 * server URL can change without reloading code.
 */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const root = path.resolve(options.rendererDir);

  async function proxy(request: Request, url: URL): Promise<Response> {
    const serverUrl = await options.getServerUrl();
    const target = `${serverUrl}${url.pathname}${url.search}`;
    const headers = new Headers(request.headers);
    for (const name of DROPPED_REQUEST_HEADERS) headers.delete(name);
    const init: RequestInit = { method: request.method, headers, signal: request.signal };
    if (request.method !== 'GET' && request.method !== 'HEAD') init.body = await request.arrayBuffer();
    try {
      return await options.fetch(target, init);
    } catch (error) {
      if (request.signal.aborted) throw error;
      return textResponse(502, `Cannot reach the Orders server at ${serverUrl}`);
    }
  }

  async function serveFile(url: URL): Promise<Response> {
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      return textResponse(400, 'bad path');
    }
    const resolved = path.resolve(root, `.${path.posix.normalize(`/${relative}`)}`);
    if (resolved !== root && !resolved.startsWith(root + path.sep)) return textResponse(404, 'not found');
    const isFile = await stat(resolved).then((s) => s.isFile(), () => false);
    // Client-side routes (no extension) get the app; a missing asset is a real 404.
    const file = isFile ? resolved : path.extname(resolved) ? undefined : path.join(root, 'index.html');
    if (!file) return textResponse(404, 'not found');
    const body = await readFile(file);
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
    });
  }

  return async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return textResponse(404, 'not found');
    if (PROXIED_PATH_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return proxy(request, url);
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
    return serveFile(url);
  };
}
