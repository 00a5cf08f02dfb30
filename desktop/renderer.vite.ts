import path from 'node:path';
import { defaultClientConditions, type UserConfig } from 'vite';
import { DEFAULT_SERVER_URL } from './src/shared/server-url.ts';

/**
 * What the Electron renderer and the web build share. In development the dev server forwards the
 * API to the Orders server (ORDERS_SERVER_URL, default http://127.0.0.1:4000), so the renderer
 * always talks to its own origin: the same as in the app (main-process proxy) and at /backoffice.
 */
export function rendererConfig(): UserConfig {
  const target = process.env.ORDERS_SERVER_URL ?? DEFAULT_SERVER_URL;
  return {
    root: path.join(import.meta.dirname, 'src/renderer'),
    // @orders/shared from its sources (the "@orders/source" condition of its exports), not its build.
    resolve: { conditions: ['@orders/source', ...defaultClientConditions] },
    // Vite transforms TSX itself (Oxc); no React plugin, so no inline dev preamble for the CSP to refuse.
    oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
    server: {
      proxy: {
        '/trpc': { target, changeOrigin: true },
        '/backoffice/api': { target, changeOrigin: true },
      },
    },
    build: {
      target: 'es2023',
      sourcemap: true,
      chunkSizeWarningLimit: 1024,
      rolldownOptions: {
        // TanStack Query marks its modules "use client" (a React Server Components hint): meaningless here.
        onwarn(warning, warn) {
          if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
        },
      },
    },
  };
}
