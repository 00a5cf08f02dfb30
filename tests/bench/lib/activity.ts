import pg from 'pg';
import { round } from './stats.ts';

/** Average number of a server's connections in each state while a label was current. */
export interface ConnectionUse {
  samples: number;
  /** The application's own pool (MikroORM / the baseline's pg.Pool). */
  app: { active: number; idleInTransaction: number; idle: number };
  /** pg-boss's pool (application_name pgboss:…); always zero for the baseline. */
  queue: { active: number; idleInTransaction: number; idle: number };
}

type Sums = { samples: number; app: Record<string, number>; queue: Record<string, number> };

/**
 * Samples pg_stat_activity every `intervalMs` for the servers' connections: how many are running a
 * statement (active), held by the application between statements of a transaction (idle in
 * transaction), or parked in the pool (idle). A connection held idle in transaction is time the
 * application, not PostgreSQL, spends inside a transaction; with a bounded pool it is throughput.
 */
export class ActivitySampler {
  private sums = new Map<string, Sums>();
  private label: { name: string; database: string } | undefined;
  private timer: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly pool: pg.Pool,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Attributes the following samples to `name`, counting connections to `database`; undefined pauses. */
  set(name: string | undefined, database?: string): void {
    this.label = name && database ? { name, database } : undefined;
  }

  private async sample(): Promise<void> {
    const label = this.label;
    if (!label || this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.pool.query<{ boss: boolean; state: string | null; n: number }>(
        // pg-boss names its connections pgboss:<id>; Orders' LISTEN connection for live updates is left out.
        `select application_name like 'pgboss%' as boss, state, count(*)::int as n
           from pg_stat_activity
          where backend_type = 'client backend' and usename = 'orders' and datname = $1
            and application_name <> 'orders-order-changes'
          group by 1, 2`,
        [label.database],
      );
      if (this.label !== label) return;
      let sums = this.sums.get(label.name);
      if (!sums) this.sums.set(label.name, (sums = { samples: 0, app: {}, queue: {} }));
      sums.samples++;
      for (const r of rows) {
        const into = r.boss ? sums.queue : sums.app;
        const state = r.state ?? 'unknown';
        into[state] = (into[state] ?? 0) + r.n;
      }
    } catch {
      // a missed sample is no loss
    } finally {
      this.busy = false;
    }
  }

  result(name: string): ConnectionUse | undefined {
    const sums = this.sums.get(name);
    if (!sums || sums.samples === 0) return undefined;
    const avg = (from: Record<string, number>) => ({
      active: round((from.active ?? 0) / sums.samples, 2),
      idleInTransaction: round((from['idle in transaction'] ?? 0) / sums.samples, 2),
      idle: round((from.idle ?? 0) / sums.samples, 2),
    });
    return { samples: sums.samples, app: avg(sums.app), queue: avg(sums.queue) };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
