/**
 * BENCH_COMPARE=<git ref>: that ref checked out in a temporary `git worktree`, with dependencies,
 * and its server started the way its own server/package.json starts it — the bench's third side.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { nodeScriptArgs, packageScripts, REPO_ROOT } from './children.ts';

const run = promisify(execFile);

export interface RefCheckout {
  ref: string;
  commit: string;
  /** One line: the commit's subject. */
  subject: string;
  /** The worktree's root. */
  root: string;
  /** How its dependencies were provided, and why that is safe. */
  install: { mode: 'reused' | 'npm ci'; reason: string; seconds: number };
  /** How its server is started: the package.json script used, as node arguments, run in `cwd`. */
  start: { script: string; argv: string[]; cwd: string };
  /** Environment variable names its config knows (read from its server/src/config.ts). */
  knownEnv: Set<string>;
  /** `git worktree remove --force` and the temporary directory; safe to call twice. */
  remove(): Promise<void>;
  /** The same, synchronously (for process exit). */
  removeSync(): void;
}

type LockPackages = Record<string, { version?: string; integrity?: string; resolved?: string; link?: boolean }>;

/**
 * Can the ref run on this checkout's installed node_modules? Yes when its package-lock.json is
 * identical, or when every package it locks is locked here at the same path, version and integrity
 * (this checkout only added packages). Workspace links are the exception: they are made to point at
 * the ref's own workspaces, never this checkout's.
 */
function lockVerdict(refLockText: string, ownLockText: string): { reuse: boolean; reason: string } {
  if (refLockText === ownLockText) return { reuse: true, reason: 'package-lock.json identical to this checkout\'s' };
  const ref = (JSON.parse(refLockText) as { packages: LockPackages }).packages;
  const own = (JSON.parse(ownLockText) as { packages: LockPackages }).packages;
  const differing: string[] = [];
  let compared = 0;
  for (const [key, locked] of Object.entries(ref)) {
    if (!key.startsWith('node_modules/') || locked.link) continue; // the root, workspaces and their links
    compared++;
    const mine = own[key];
    if (!mine || mine.version !== locked.version || mine.integrity !== locked.integrity) differing.push(`${key.slice('node_modules/'.length)}@${locked.version}`);
  }
  if (differing.length === 0) {
    return { reuse: true, reason: `package-lock.json differs, but all ${compared} packages it locks are locked here at the same path, version and integrity (this checkout only added packages)` };
  }
  return { reuse: false, reason: `${differing.length} of its ${compared} locked packages differ here (e.g. ${differing.slice(0, 3).join(', ')})` };
}

/** node_modules for the worktree made of links into this checkout's, except the workspace links (@orders/*), which point at the worktree's own packages. */
async function linkNodeModules(root: string): Promise<void> {
  const own = path.join(REPO_ROOT, 'node_modules');
  const target = path.join(root, 'node_modules');
  await mkdir(target, { recursive: true });
  const workspaces = new Map<string, string>();
  const rootPackage = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  for (const dir of rootPackage.workspaces ?? []) {
    const file = path.join(root, dir, 'package.json');
    if (existsSync(file)) workspaces.set((JSON.parse(await readFile(file, 'utf8')) as { name: string }).name, path.join(root, dir));
  }
  for (const entry of await readdir(own)) {
    if (entry === '.package-lock.json') continue;
    if (entry.startsWith('@')) {
      // A scope: link its packages one by one, so a workspace package of the same name can take its place.
      await mkdir(path.join(target, entry), { recursive: true });
      for (const name of await readdir(path.join(own, entry))) {
        const full = `${entry}/${name}`;
        const destination = workspaces.get(full) ?? (full.startsWith('@orders/') ? undefined : path.join(own, entry, name));
        if (destination) await symlink(destination, path.join(target, entry, name));
      }
      continue;
    }
    await symlink(path.join(own, entry), path.join(target, entry));
  }
  for (const [name, dir] of workspaces) {
    if (!existsSync(path.join(target, name))) await symlink(dir, path.join(target, name));
  }
}

/** The ref's way of starting its server: server/package.json's `dev` (from sources) if it has one, else `start`. */
function startCommand(root: string): RefCheckout['start'] {
  const cwd = path.join(root, 'server');
  const scripts = packageScripts(cwd);
  for (const script of ['dev', 'start']) {
    const command = scripts[script];
    const argv = nodeScriptArgs(scripts, script);
    if (!argv) continue;
    const entry = argv[argv.length - 1] ?? '';
    // A start script that runs a build (dist/…) is not used: the bench runs checkouts from their sources.
    if (!/\.ts$/.test(entry)) continue;
    // Its workspace packages from their sources, as this checkout's servers are run (harmless where no package uses the condition).
    if (!argv.some((a) => a.startsWith('--conditions'))) argv.unshift('--conditions=@orders/source');
    return { script: `server/package.json "${script}": ${command}`, argv, cwd };
  }
  throw new Error(`no way to start its server from sources: server/package.json scripts ${JSON.stringify(scripts)}`);
}

export async function checkoutRef(ref: string, log: (line: string) => void): Promise<RefCheckout> {
  const git = async (...args: string[]) => (await run('git', args, { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024 })).stdout;
  const commit = (await git('rev-parse', '--verify', `${ref}^{commit}`)).trim();
  const subject = (await git('log', '-1', '--format=%s', commit)).trim();
  const dir = await mkdtemp(path.join(tmpdir(), 'orders-bench-ref-'));
  const root = path.join(dir, 'tree');
  let removed = false;
  const removeSync = () => {
    if (removed) return;
    removed = true;
    process.off('exit', removeSync);
    try {
      execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: REPO_ROOT, stdio: 'ignore' });
    } catch {
      // Not (or no longer) a worktree: the directory goes below, and prune forgets it.
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync('git', ['worktree', 'prune'], { cwd: REPO_ROOT, stdio: 'ignore' });
    } catch {
      // nothing to prune
    }
  };
  const remove = async () => {
    if (removed) return;
    removed = true;
    process.off('exit', removeSync);
    await git('worktree', 'remove', '--force', root).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await git('worktree', 'prune').catch(() => undefined);
  };
  // From here on, however the process ends (an error, Ctrl-C through process.exit), the worktree goes.
  process.on('exit', removeSync);
  try {
    log(`compare: ${ref} = ${commit.slice(0, 10)} "${subject}" → git worktree at ${root}`);
    await git('worktree', 'add', '--detach', root, commit);
    const started = performance.now();
    const verdict = lockVerdict(await readFile(path.join(root, 'package-lock.json'), 'utf8'), await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    let mode: RefCheckout['install']['mode'];
    if (verdict.reuse) {
      mode = 'reused';
      await linkNodeModules(root);
      log(`compare: reusing this checkout's node_modules — ${verdict.reason}`);
    } else {
      mode = 'npm ci';
      log(`compare: npm ci in the worktree — ${verdict.reason}`);
      await run('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 15 * 60_000,
        env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
      });
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const config = await readFile(path.join(root, 'server/src/config.ts'), 'utf8').catch(() => '');
    const knownEnv = new Set([...config.matchAll(/\b([A-Z][A-Z0-9_]{2,})\s*:/g)].map((m) => m[1]!));
    return { ref, commit, subject, root, install: { mode, reason: verdict.reason, seconds }, start: startCommand(root), knownEnv, remove, removeSync };
  } catch (error) {
    await remove();
    throw error;
  }
}
