import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The repository's pinned Node 24, never whatever `node` is first on PATH. */
export const NODE = path.join(REPO_ROOT, 'node_modules/.bin/node');

export interface Child {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything it printed, for error messages. */
  output(): string;
  /** Resolves with the first match of `pattern` in its output (stdout and stderr). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | string>;
}

export interface SpawnOptions {
  name: string;
  entry: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Where everything the process prints is also written (for after-the-fact diagnosis). */
  logFile?: string;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Node's arguments after `nodeFlags` instead of `--conditions=@orders/source --import tsx <entry>` (a checkout's own start script). */
  argv?: string[];
  /** Put first on PATH instead of this checkout's node_modules/.bin. */
  binDir?: string;
}

/** The scripts of the package.json in `packageDir`. */
export function packageScripts(packageDir: string): Record<string, string> {
  return (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
}

/** A package.json script's arguments after `node` (`node <flags> <entry>`), or undefined for a script that does not run node. */
export function nodeScriptArgs(scripts: Record<string, string>, script: string): string[] | undefined {
  const [command, ...args] = (scripts[script] ?? '').trim().split(/\s+/);
  return command === 'node' ? args : undefined;
}

/** A TypeScript entry point run by the pinned Node with tsx as a loader (what `npm run dev` does), or `argv` as given. */
export function spawnNode(options: SpawnOptions): Child {
  // --conditions: @orders/shared from its sources.
  const argv = options.argv ?? ['--conditions=@orders/source', '--import', 'tsx', options.entry];
  const child = spawn(NODE, [...(options.nodeFlags ?? []), ...argv], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, PATH: `${options.binDir ?? path.join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Only the tail is kept: a server logging at info for minutes must not grow the bench's memory.
  let out = '';
  const waiters = new Set<() => void>();
  if (options.logFile) mkdirSync(path.dirname(options.logFile), { recursive: true });
  const logStream = options.logFile ? createWriteStream(options.logFile) : undefined;
  const onData = (chunk: Buffer) => {
    logStream?.write(chunk);
    out = (out + chunk.toString()).slice(-200_000);
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  void exited.then(() => logStream?.end());
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  return {
    name: options.name,
    pid: child.pid!,
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => (cleanup(), reject(new Error(`${options.name}: no ${pattern} within ${timeoutMs} ms:\n${out.slice(-3000)}`))), timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then((code) => {
          if (!waiters.has(check)) return;
          cleanup();
          reject(new Error(`${options.name} exited (${code}):\n${out.slice(-3000)}`));
        });
        check();
      });
    },
    async stop(graceMs = 15_000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    exited,
  };
}

/** Resident and peak-resident memory of a process, in MiB, from /proc/<pid>/status (Linux). */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS on an interval; `peak()` is the highest sample since the last `reset()`. */
export class RssSampler {
  private timer: NodeJS.Timeout;
  private peakMiB = 0;
  private overallMiB = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = memoryOf(this.pid);
    if (!m || !Number.isFinite(m.rssMiB)) return;
    this.peakMiB = Math.max(this.peakMiB, m.rssMiB);
    this.overallMiB = Math.max(this.overallMiB, m.rssMiB);
  }

  /** Peak since the last reset, then starts a new window. */
  take(): number {
    this.sample();
    const peak = this.peakMiB;
    this.peakMiB = 0;
    return peak;
  }

  overall(): number {
    this.sample();
    return this.overallMiB;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
