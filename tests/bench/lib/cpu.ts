import { readdirSync, readFileSync } from 'node:fs';

/**
 * How busy the machine was during a phase, and how much of that was not the bench (its servers,
 * its PostgreSQL): other work on a shared machine skews absolute figures, so the report says how much
 * there was. Linux /proc only; elsewhere every figure is NaN.
 */
export interface CpuShare {
  /** Share of the whole machine (all cores) that was busy, in %. */
  busy: number;
  /** Share of the machine used by the bench's own process tree, in %. */
  bench: number;
  /** Share used by everything else, in %. */
  other: number;
}

interface Snapshot {
  busy: number;
  total: number;
  ours: number;
}

function machine(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** CPU ticks (1/100 s) of `root` and every descendant, including reaped children's (cutime/cstime). */
export function treeTicks(root: number): number {
  const processes = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the command: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
      const ppid = Number(rest[1]);
      const ticks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
      processes.set(Number(entry), { ppid, ticks });
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  for (const [pid, p] of processes) {
    for (let at: number | undefined = pid; at !== undefined && at > 0; at = processes.get(at)?.ppid) {
      if (at === root) {
        sum += p.ticks;
        break;
      }
    }
  }
  return sum;
}

export function cpuSnapshot(): Snapshot {
  try {
    return { ...machine(), ours: treeTicks(process.pid) };
  } catch {
    return { busy: NaN, total: NaN, ours: NaN };
  }
}

export function cpuSince(start: Snapshot): CpuShare {
  const end = cpuSnapshot();
  const total = end.total - start.total;
  const pct = (ticks: number) => Math.round((ticks / total) * 1000) / 10;
  const busy = end.busy - start.busy;
  const ours = Math.min(busy, end.ours - start.ours);
  return { busy: pct(busy), bench: pct(ours), other: pct(Math.max(0, busy - ours)) };
}

/** CPU time (user + system) a process has used so far, in ms; NaN when unknown. Assumes USER_HZ = 100, as on every Linux. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return NaN;
  }
}

/** CPU time of a process and all its descendants (e.g. the postmaster and its backends), in ms. */
export function treeCpuMs(root: number): number {
  try {
    return treeTicks(root) * 10;
  } catch {
    return NaN;
  }
}
