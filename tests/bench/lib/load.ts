import { performance } from 'node:perf_hooks';
import { summarize, round, type LatencySummary } from './stats.ts';
import type { Side } from './targets.ts';

/** Named timings inside one operation (e.g. the three calls of an order intake). */
export type Step = <T>(name: string, call: () => Promise<T>) => Promise<T>;

export interface LoadResult {
  concurrency: number;
  /** Measured time, summed over the slices. */
  seconds: number;
  slices: number;
  completed: number;
  errors: number;
  /** Up to five distinct error messages, so a broken run says why. */
  errorSamples: string[];
  perSecond: number;
  latencyMs: LatencySummary;
  steps: Record<string, LatencySummary>;
  /** CPU per completed operation, in ms (user + system, /proc), by meter: the server process, PostgreSQL (all backends), the load generator. */
  cpuMsPerOp: Record<string, number>;
}

/** Reads a CPU counter (ms) for the side whose slice runs. */
export type CpuMeter = (side: Side) => number;

export type Operation = (worker: number, step: Step) => Promise<void>;

interface Slice {
  latencies: number[];
  steps: Map<string, number[]>;
  errors: number;
  errorSamples: Set<string>;
  elapsed: number;
  cpuMs: Map<string, number>;
}

/**
 * One closed-loop slice: `concurrency` workers each run `op` back to back until the deadline (no
 * new op starts after it; ops in flight finish and count).
 */
async function runSlice(concurrency: number, durationMs: number, op: Operation, into: Slice, meters: [string, () => number][] = []): Promise<void> {
  const cpuAtStart = meters.map(([, read]) => read());
  const step: Step = async (name, call) => {
    const t0 = performance.now();
    const result = await call();
    let list = into.steps.get(name);
    if (!list) into.steps.set(name, (list = []));
    list.push(performance.now() - t0);
    return result;
  };
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op(worker, step);
          into.latencies.push(performance.now() - t0);
        } catch (error) {
          into.errors++;
          if (into.errorSamples.size < 5) into.errorSamples.add(String((error as Error).message ?? error).slice(0, 300));
        }
      }
    }),
  );
  into.elapsed += (performance.now() - startedAt) / 1000;
  meters.forEach(([name, read], i) => into.cpuMs.set(name, (into.cpuMs.get(name) ?? 0) + read() - cpuAtStart[i]!));
}

const emptySlice = (): Slice => ({ latencies: [], steps: new Map(), errors: 0, errorSamples: new Set(), elapsed: 0, cpuMs: new Map() });

function toResult(concurrency: number, slices: number, s: Slice): LoadResult {
  return {
    concurrency,
    seconds: round(s.elapsed),
    slices,
    completed: s.latencies.length,
    errors: s.errors,
    errorSamples: [...s.errorSamples],
    perSecond: round(s.latencies.length / s.elapsed),
    latencyMs: summarize(s.latencies),
    steps: Object.fromEntries([...s.steps].map(([name, list]) => [name, summarize(list)])),
    cpuMsPerOp: Object.fromEntries([...s.cpuMs].map(([name, ms]) => [name, round(ms / s.latencies.length, 3)])),
  };
}

/**
 * The sides (Orders, the baseline, and the previous release when compared) under the same
 * closed-loop load, interleaved: after a warm-up of each, the measured time is cut into `slices`
 * slices run alternately — forward, then backward (O B P, P B O, …; with two sides O B, B O) — so
 * load from anything else on the machine that comes and goes hits every side alike.
 */
export async function compareClosedLoops(options: {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  slices: number;
  /** In running order; a side without an operation is not run. */
  ops: Partial<Record<Side, Operation>>;
  /** CPU counters read around every measured slice, attributed to the side that ran. */
  cpuMeters?: Record<string, CpuMeter>;
  /** Told which side's measured slice runs (undefined between them and during warm-up). */
  onSlice?: (side: Side | undefined) => void;
}): Promise<Partial<Record<Side, LoadResult>>> {
  const { concurrency, ops } = options;
  const sides = (Object.keys(ops) as Side[]).filter((side) => ops[side]);
  if (options.warmupMs > 0) {
    for (const side of sides) await runSlice(concurrency, options.warmupMs, ops[side]!, emptySlice());
  }
  const measured = Object.fromEntries(sides.map((side) => [side, emptySlice()])) as Record<Side, Slice>;
  const sliceMs = options.durationMs / options.slices;
  for (let i = 0; i < options.slices; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      options.onSlice?.(side);
      const meters = Object.entries(options.cpuMeters ?? {}).map(([name, read]): [string, () => number] => [name, () => read(side)]);
      await runSlice(concurrency, sliceMs, ops[side]!, measured[side], meters);
      options.onSlice?.(undefined);
    }
  }
  return Object.fromEntries(sides.map((side) => [side, toResult(concurrency, options.slices, measured[side])]));
}

/** Runs `items` through `fn` with at most `concurrency` in flight; returns per-item latencies (ms). */
export async function boundedEach<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<number[]> {
  const latencies = new Array<number>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const started = performance.now();
        await fn(items[i]!, i);
        latencies[i] = performance.now() - started;
      }
    }),
  );
  return latencies;
}
