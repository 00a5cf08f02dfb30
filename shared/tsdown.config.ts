import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsdown';

/**
 * The package other services install: ESM JavaScript plus one declaration file. The declarations
 * carry AppRouter's type inlined from the server's sources, so a consumer needs no server package.
 * Every package import stays an import (the server's own ones fall away with the declarations
 * nobody references); the ones left must be peer dependencies: tests/install checks.
 * `npm pack` builds all of it (prepack); `npm run build` and `npm start` build the JavaScript only
 * (--no-dts), which is all the server runs.
 */
export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  platform: 'neutral',
  target: 'es2023',
  outDir: 'dist',
  clean: true,
  tsconfig: 'tsconfig.build.json',
  deps: { neverBundle: [/^(?!@orders\/)[^./]/] },
  // The server's routers (reached for AppRouter's declarations) import this package by name: it is
  // these sources. Unresolved, each import was a warning on every build and every npm pack.
  alias: { '@orders/shared': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  // eager: AppRouter's module is outside this package; tsc resolution: it honours @orders/source.
  dts: { eager: true, resolver: 'tsc' },
  // Building the declarations from the server's sources is most of the ~75 s: known, not worth a warning each time.
  checks: { pluginTimings: false },
});
