/**
 * Summarises a V8 .cpuprofile (from `BENCH_PROFILE=1 npm run bench`, written to
 * tests/artifacts/bench-profiles/) by where the time went: self and inclusive time per package
 * (node_modules/<package>, server/src/<dir>, node internals, GC, idle), and the hottest functions.
 *
 *   node --import tsx tests/bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (!file) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)' || functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return functionName;
    return '(native)';
  }
  // The innermost node_modules: @mikro-orm/postgresql ships its own copy of pg, which is pg's time.
  const modules = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1);
  if (modules) return modules[1]!;
  // Sources (tsx) or the build (server/dist mirrors server/src): one name for both.
  const server = /\/server\/(?:src|dist)\/([^/]+(?:\/[^/]+)?)\//.exec(url) ?? /\/server\/(?:src|dist)\/([^/]+)$/.exec(url);
  if (server) return `server/src/${server[1]!.replace(/\.[jt]s$/, '')}`;
  if (/\/shared\/(?:src|dist)\//.test(url)) return 'shared/src';
  if (/\/tests\/bench\//.test(url)) return 'tests/bench';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (const node of profile.nodes) for (const child of node.children ?? []) byId.get(child)!.parent = node.id;

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const functions = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000;
  const leaf = byId.get(profile.samples[i]!)!;
  total += dt;
  const leafCategory = category(leaf.callFrame);
  self.set(leafCategory, (self.get(leafCategory) ?? 0) + dt);
  const fn = `${leaf.callFrame.functionName || '(anonymous)'} ${leafCategory}:${leaf.callFrame.lineNumber + 1}`;
  functions.set(fn, (functions.get(fn) ?? 0) + dt);
  const seen = new Set<string>();
  for (let node: ProfileNode | undefined = leaf; node; node = node.parent === undefined ? undefined : byId.get(node.parent)) {
    const c = category(node.callFrame);
    if (!seen.has(c)) {
      seen.add(c);
      inclusive.set(c, (inclusive.get(c) ?? 0) + dt);
    }
  }
}

const busy = total - (self.get('(idle)') ?? 0);
const pct = (ms: number, of: number) => `${((ms / of) * 100).toFixed(1).padStart(5)} %`;
const rows = (map: Map<string, number>, of: number, n: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => `  ${pct(ms, of)}  ${(ms / 1000).toFixed(2).padStart(8)} s  ${name}`)
    .join('\n');

console.log(`${file}\n  ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (not idle)\n`);
console.log(`Self time by package/directory (% of busy time):\n${rows(new Map([...self].filter(([k]) => k !== '(idle)')), busy, top)}\n`);
console.log(`Inclusive time by package/directory (% of busy time; a sample counts once per package on its stack):\n${rows(new Map([...inclusive].filter(([k]) => k !== '(idle)' && k !== '(root)')), busy, top)}\n`);
console.log(`Hottest functions (self, % of busy time):\n${rows(new Map([...functions].filter(([k]) => !k.startsWith('(idle)'))), busy, top)}`);
