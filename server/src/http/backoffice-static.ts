import fastifyStatic from '@fastify/static';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { htmlHead } from './html.js';

/** Where `npm run build:web -w @orders/desktop` writes the renderer's browser build (built with base `/backoffice/`). */
export const DEFAULT_WEB_BUILD_DIR = fileURLToPath(new URL('../../../desktop/dist-web', import.meta.url));

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // React and TanStack set inline styles on elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    // The page names the hashed assets of one build: always ask whether a newer build is there.
    .header('cache-control', 'no-cache');
}

const NOT_BUILT_PAGE = `${htmlHead('Back office not built')}
<style>:root { color-scheme: light dark; font-family: system-ui, sans-serif; } body { max-width: 36rem; margin: 4rem auto; padding: 0 1rem; }</style>
</head><body><h1>The back office is not built yet</h1>
<p>Build the browser version of the desktop app, then reload this page:</p>
<pre><code>npm run build:web -w @orders/desktop</code></pre>
<p>It is served from <code>desktop/dist-web</code>.</p></body></html>`;

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * The browser build of the back-office renderer under /backoffice, with client-side routes
 * (/backoffice/orders/…) answered by index.html. /backoffice/api/* is never the app. Whether the
 * build exists is checked per page load, so building it does not need a restart.
 */
export async function registerBackofficeStatic(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? DEFAULT_WEB_BUILD_DIR;
  const index = path.join(root, 'index.html');
  const sendApp = async (reply: FastifyReply) => {
    if (!(await exists(index))) return htmlHeaders(reply).status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    return reply.status(200).sendFile('index.html');
  };
  await app.register(
    async (scope) => {
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        index: false,
        suppressWarning: true,
        setHeaders: (reply, file) => {
          if (file.endsWith('.html')) htmlHeaders(reply);
          // Vite names assets by content hash: a name never changes meaning.
          else if (file.includes(`${path.sep}assets${path.sep}`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
        },
      });
      scope.get('/', (_request, reply) => sendApp(reply));
      scope.setNotFoundHandler((request, reply) => {
        const url = request.url.split('?')[0]!;
        if (url.startsWith('/backoffice/api/') || (request.method !== 'GET' && request.method !== 'HEAD')) {
          return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `${request.method} ${url} not found` } });
        }
        return sendApp(reply);
      });
    },
    { prefix: '/backoffice' },
  );
}
