import path from 'node:path';
import { defineConfig } from 'vite';
import { rendererConfig } from './renderer.vite.ts';

/** The same renderer for plain browsers, served by the Orders server at /backoffice. */
export default defineConfig(() => {
  const shared = rendererConfig();
  return {
    ...shared,
    base: '/backoffice/',
    build: { ...shared.build, outDir: path.join(import.meta.dirname, 'dist-web'), emptyOutDir: true },
  };
});
