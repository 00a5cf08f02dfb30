// `npm run desktop`: the Electron app (electron-vite builds it, then starts it). Where the `electron`
// package has no binary (its download failed, e.g. on a machine without internet), one line says so
// and points to the same app in a browser, instead of Electron's own error and npm's noise.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const desktop = fileURLToPath(new URL('..', import.meta.url));
const root = path.dirname(desktop);
const serverUrl = (process.env.ORDERS_SERVER_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');

/** Electron's binary as the `electron` package finds it, without its fallback of downloading it now. */
function electronBinary() {
  const packageDir = path.join(root, 'node_modules/electron');
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(packageDir, 'dist');
  const binary = path.join(distDir, relative);
  return existsSync(binary) ? binary : undefined;
}

if (!electronBinary()) {
  console.error(
    `Electron's binary is not installed (node_modules/electron has none), so the desktop app cannot start; use the back office in a browser instead: ${serverUrl}/backoffice`,
  );
  process.exit(1);
}

const child = spawn(path.join(root, 'node_modules/.bin/electron-vite'), ['preview'], { cwd: desktop, stdio: 'inherit' });
// A terminal's Ctrl-C reaches electron-vite itself; this process waits for it to end.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
