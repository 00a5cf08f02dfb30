import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The repository's Node 24 (the `node` devDependency), first on the PATH as under `npm run`. */
export const NODE_BIN_DIR = path.dirname(path.join(REPO, 'node_modules/node/bin/node'));
export const NODE = path.join(NODE_BIN_DIR, 'node');
export const PATH_WITH_NODE_24 = `${NODE_BIN_DIR}:${process.env.PATH ?? ''}`;

/** A temporary folder outside the repository that PostgreSQL's own user (under root) can enter. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** Where generated things live: never copied, so each step in a copy has to make them. */
const NOT_COPIED = new Set(['node_modules', '.git', '.data', '.turbo', 'dist', 'dist-web', 'out', 'artifacts']);

/**
 * This repository as a fresh clone after `npm ci` would be, in a temporary folder: its sources, and
 * the installed node_modules as hard links of this one's (a full install's files without the network),
 * nothing built.
 */
export async function copyRepository(prefix: string): Promise<string> {
  const copy = await tempDir(prefix);
  await cp(REPO, copy, { recursive: true, filter: (source) => !NOT_COPIED.has(path.basename(source)) || source === REPO });
  await promisify(execFile)('cp', ['-al', path.join(REPO, 'node_modules'), path.join(copy, 'node_modules')]);
  // npm rewrites its hidden lockfile in place, so that one is a real copy (a write through a hard
  // link would change this repository's).
  const hiddenLockfile = path.join(copy, 'node_modules/.package-lock.json');
  await rm(hiddenLockfile);
  await copyFile(path.join(REPO, 'node_modules/.package-lock.json'), hiddenLockfile);
  return copy;
}

export interface RepositoryCopy {
  /** The copy's folder, there once the file's tests run. */
  readonly dir: string;
  /** `command args` in the copy; killed after the file's tests if it still runs. */
  launch(command: string, args: string[], env: Record<string, string | undefined>): Running;
}

/** The file's tests run in a copyRepository made before them; after them, what they launched there is killed and the copy removed. */
export function useRepositoryCopy(prefix: string): RepositoryCopy {
  let dir = '';
  const launched: Running[] = [];
  beforeAll(async () => {
    dir = await copyRepository(prefix);
  }, 120_000);
  afterAll(async () => {
    for (const running of launched) {
      running.kill();
      await running.finished;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);
  return {
    get dir() {
      return dir;
    },
    launch(command, args, env) {
      const running = launch(command, args, { cwd: dir, env });
      launched.push(running);
      return running;
    },
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  finished: Promise<Finished>;
  /** Resolves with the first match in stdout + stderr; rejects if the process ends first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Ctrl-C as a terminal sends it: SIGINT to the whole process group. */
  interrupt(): void;
  kill(): void;
}

export function launch(command: string, args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Running {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, PATH: PATH_WITH_NODE_24, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((listener) => listener());
  child.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), changed()));
  child.stderr!.on('data', (chunk: Buffer) => ((err += chunk.toString()), changed()));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: out, stderr: err });
      changed();
    });
  });
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    finished,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => settle(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}${err}`))), timeoutMs);
        const check = () => {
          const match = (out + err).match(pattern);
          if (match) settle(() => resolve(match));
          else if (child.exitCode !== null || child.signalCode !== null) {
            settle(() => reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}${err}`)));
          }
        };
        const settle = (done: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          done();
        };
        listeners.add(check);
        check();
      }),
    interrupt: () => group('SIGINT'),
    kill: () => group('SIGKILL'),
  };
}

/** Runs a command to its end; throws (with its output) if it takes longer than `timeoutMs`. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs: number },
): Promise<Finished> {
  const running = launch(command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.kill();
      reject(new Error(`${command} ${args.join(' ')}: not done within ${options.timeoutMs} ms:\n${running.stdout()}${running.stderr()}`));
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([running.finished, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lines that are not blank. */
export const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
