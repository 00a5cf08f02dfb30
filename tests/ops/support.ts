import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, within } from '../support/timing.ts';

/* `npm start`'s command (server/src/main.ts under tsx) as a child process in its own process group. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MAIN = path.join(ROOT, 'server/src/main.ts');

export interface Launched {
  child: ChildProcess;
  url: string;
  output(): string;
  stderr(): string;
  /** Lines of the output whose text contains `fragment`. */
  lines(fragment: string | RegExp): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export function launch(port: number, env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Launched {
  const child = spawn(NODE, ['--conditions=@orders/source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'info',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...options,
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out + err,
    stderr: () => err,
    lines: (fragment) => (out + err).split('\n').filter((line) => (typeof fragment === 'string' ? line.includes(fragment) : fragment.test(line))),
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

export { sleep, within };

export interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, { status: string; reason?: string; mode?: string }> } | undefined;
}

export async function readyz(url: string): Promise<Readiness> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** Polls /readyz until it answers `status`; fails with the server's output if the process exits first. */
export async function waitReady(server: Launched, timeoutMs = 60_000, status = 200): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await readyz(server.url);
    if (answer.status === status) return answer;
    if (!server.alive()) throw new Error(`server exited (${server.child.exitCode ?? server.child.signalCode}) before /readyz said ${status}:\n${server.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms (last ${answer.status} ${JSON.stringify(answer.body)}):\n${server.output().slice(-3000)}`);
    await sleep(100);
  }
}

/** Stops what a test started: SIGKILL to its process group (the server; its PostgreSQL runs in a group of its own). */
export async function killGroup(server: Launched | undefined): Promise<void> {
  if (!server) return;
  try {
    process.kill(-server.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await server.exited;
}
