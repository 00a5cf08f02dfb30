// `npm start`: Orders from its compiled JavaScript. Whatever is missing or older than its sources is
// built first (the client package, the server, the back office for browsers); then the server runs
// in this process, so its exit code and Ctrl-C handling are those of `npm start`.
// Plain JavaScript: it must run where the development tools (tsx, TypeScript) were pruned away.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => path.join(root, 'node_modules/.bin', name);

const builds = [
  {
    what: 'the client package (@orders/shared)',
    output: 'shared/dist/index.js',
    sources: ['shared/src', 'shared/package.json', 'shared/tsdown.config.ts'],
    tool: bin('tsdown'),
    // As its `build` script: the JavaScript the server runs. The bundled declarations (over a minute on
    // two cores) are for other services and come with `npm pack`.
    args: ['--no-dts'],
    cwd: 'shared',
  },
  {
    what: 'the server',
    output: 'server/dist/main.js',
    sources: ['server/src', 'server/package.json', 'server/tsconfig.build.json'],
    tool: bin('tsc'),
    args: ['-p', 'tsconfig.build.json'],
    cwd: 'server',
  },
  {
    what: 'the back office for browsers',
    output: 'desktop/dist-web/index.html',
    sources: ['desktop/src/renderer', 'desktop/renderer.vite.ts', 'desktop/vite.web.config.ts'],
    tool: bin('vite'),
    args: ['build', '--config', 'vite.web.config.ts'],
    cwd: 'desktop',
  },
];

/** The newest modification time under `entry` (tests excluded: they are not built). */
function newest(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(entry) ? 0 : stat.mtimeMs;
  let latest = 0;
  for (const child of readdirSync(entry)) latest = Math.max(latest, newest(path.join(entry, child)));
  return latest;
}

for (const build of builds) {
  const output = path.join(root, build.output);
  const built = existsSync(output) ? statSync(output).mtimeMs : 0;
  const changed = build.sources.some((source) => newest(path.join(root, source)) > built);
  if (!changed) continue;
  if (!existsSync(build.tool)) {
    // Production installs (npm ci --omit=dev) have no build tools: run what was built, if anything was.
    if (built) continue;
    console.error(`Cannot build ${build.what}: its build tools are not installed (npm ci --omit=dev?). Run \`npm ci\` and \`npm run build\` first.`);
    process.exit(1);
  }
  console.log(`Building ${build.what}…`);
  const result = spawnSync(build.tool, build.args, { cwd: path.join(root, build.cwd), encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    console.error(`Building ${build.what} failed (above).`);
    process.exit(1);
  }
}

await import(pathToFileURL(path.join(root, 'server/dist/main.js')).href);
