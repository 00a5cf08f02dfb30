import { defineConfig } from 'electron-vite';
import { rendererConfig } from './renderer.vite.ts';

export default defineConfig({
  // src/main/index.ts → out/main/index.js (ESM: the package is "type": "module").
  main: {},
  // Sandboxed preload scripts cannot be ES modules: CommonJS, out/preload/index.cjs.
  preload: {
    build: { rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } } },
  },
  // src/renderer/index.html → out/renderer, served by the main process at orders://app/.
  renderer: { ...rendererConfig(), base: './' },
});
