import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NotificationLag } from '@orders/shared';
import { rows, sql } from '../db/sql.js';
import type { JobQueue } from '../jobs/queue.js';
import { inboxBacklog, notificationLag } from '../modules/backoffice/dashboard.js';
import type { Services } from '../services.js';
import { appRouter } from '../trpc/root.js';

/*
 * /metrics in Prometheus's text format. Two kinds of figures:
 *  - this instance's own: HTTP latency, its connection pools, Node's process metrics;
 *  - the business state, read from the database at scrape time (orders, attempts, notifications,
 *    inbox backlog, job failures, reconciliation). Every instance reports the same values for these:
 *    aggregate them with max(), not sum(). Reconciliation counts come from the very query behind the
 *    back office's reconciliation summary, and the backlog and lag from the dashboard's statements
 *    (modules/backoffice/dashboard.ts), so staff and alerts never disagree.
 */

/** The lag gauges cover the notifications that arrived in this window (the dashboard shows any range). */
const LAG_WINDOW_MS = 60 * 60_000;

/** The database figures are read at most this often, however many scrapers ask. */
const FIGURES_TTL_MS = 5_000;

export interface OperationalFigures {
  ordersByStatus: { status: string; n: number }[];
  attemptsByStatus: { status: string; n: number }[];
  notifications: { source: string; verification: string; processing: string; n: number }[];
  inbox: { backlog: number; oldestSeconds: number };
  /** IPN and webhook lag (stored → processed) over the last LAG_WINDOW_MS of arrivals. */
  lag: NotificationLag[];
  jobs: { queue: string; state: string; n: number }[];
  reconciliation: Record<string, number>;
}

/** The business figures the metrics publish, each one statement (a dashboard may read the same). */
export async function operationalFigures(services: Services, queue: JobQueue): Promise<OperationalFigures> {
  const em = services.orm.em.fork();
  const [ordersByStatus, attemptsByStatus, notifications, inbox, lag, jobs, reconciliation] = await Promise.all([
    rows(em, sql<{ status: string; n: number }>`select status::text as status, count(*)::int as n from "order" group by status`),
    rows(em, sql<{ status: string; n: number }>`select status::text as status, count(*)::int as n from order_payment_attempt group by status`),
    rows(
      em,
      sql<{ source: string; verification: string; processing: string; n: number }>`
        select source, verification, processing, count(*)::int as n from payment_event where source in ('ipn', 'webhook') group by 1, 2, 3`,
    ),
    // The dashboard's own statements: staff and alerts read the same figures.
    inboxBacklog(em),
    notificationLag(em, { start: new Date(Date.now() - LAG_WINDOW_MS), end: new Date(Date.now() + 60_000) }),
    queue.failureCounts(),
    services.reconciliation.summary(),
  ]);
  return {
    ordersByStatus,
    attemptsByStatus,
    notifications,
    inbox,
    lag,
    jobs,
    reconciliation: reconciliation.counts,
  };
}

export interface PoolCounts {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface MetricsSources {
  services: Services;
  queue: JobQueue;
  /** The request pool (MikroORM's, on DATABASE_URL). */
  requestPool(): Promise<PoolCounts | undefined>;
}

/** A registry per server (tests run several in one process) with every collector registered on it. */
export function createMetrics(sources: MetricsSources): { registry: Registry; scrape(): Promise<string>; observeHttp(app: FastifyInstance): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  let cached: { at: number; figures: Promise<OperationalFigures> } | undefined;
  const figures = () => {
    if (!cached || Date.now() - cached.at > FIGURES_TTL_MS) {
      const read = operationalFigures(sources.services, sources.queue);
      cached = { at: Date.now(), figures: read };
      // A failed read is not kept: the next scrape tries again.
      read.catch(() => (cached = undefined));
    }
    return cached.figures;
  };
  const fromFigures = <L extends string>(name: string, help: string, labelNames: L[], fill: (gauge: Gauge<L>, f: OperationalFigures) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        // While the database is unreachable the figures are left out (a gauge without labels says NaN:
        // it cannot be left out); the rest of /metrics still answers.
        const f = await figures().catch(() => undefined);
        this.reset();
        if (f) fill(this, f);
        else if (labelNames.length === 0) (this as Gauge).set(Number.NaN);
      },
    });
  new Gauge({
    name: 'orders_database_figures_available',
    help: '1 when the figures read from the database (orders_orders … orders_reconciliation_open) are in this scrape, 0 when the database could not be read',
    registers,
    async collect() {
      this.set((await figures().then(() => 1).catch(() => 0)));
    },
  });

  fromFigures('orders_orders', 'Orders by status (whole database)', ['status'], (g, f) => f.ordersByStatus.forEach((r) => g.set({ status: r.status }, r.n)));
  fromFigures('orders_payment_attempts', 'Payment attempts by status: created, approved, succeeded, failed, cancelled, expired (whole database)', ['status'], (g, f) =>
    f.attemptsByStatus.forEach((r) => g.set({ status: r.status }, r.n)),
  );
  fromFigures(
    'orders_payment_notifications',
    'IPNs and webhooks received, by verification (pending, verified, invalid, …) and processing outcome (received, processed, duplicate, flagged, unmatched, …)',
    ['source', 'verification', 'processing'],
    (g, f) => f.notifications.forEach((r) => g.set({ source: r.source, verification: r.verification, processing: r.processing }, r.n)),
  );
  fromFigures('orders_inbox_backlog', 'IPNs and webhooks stored but not processed yet', [], (g, f) => g.set(f.inbox.backlog));
  fromFigures('orders_inbox_oldest_unprocessed_seconds', 'Age of the oldest stored, unprocessed IPN or webhook (0 when none)', [], (g, f) => g.set(f.inbox.oldestSeconds));
  fromFigures(
    'orders_notification_lag_seconds',
    'IPN and webhook delay from stored to processed over the last hour of arrivals, by source and quantile (p50, p95, max): the dashboard statement',
    ['source', 'quantile'],
    (g, f) =>
      f.lag.forEach((r) => {
        if (r.p50Seconds !== null) g.set({ source: r.source, quantile: '0.5' }, r.p50Seconds);
        if (r.p95Seconds !== null) g.set({ source: r.source, quantile: '0.95' }, r.p95Seconds);
        if (r.maxSeconds !== null) g.set({ source: r.source, quantile: '1' }, r.maxSeconds);
      }),
  );
  fromFigures('orders_jobs', 'Background jobs failed for good (state=failed) or waiting for a retry (state=retry), by queue', ['queue', 'state'], (g, f) =>
    f.jobs.forEach((r) => g.set({ queue: r.queue, state: r.state }, r.n)),
  );
  fromFigures('orders_reconciliation_open', 'Open reconciliation items by kind (the back office summary query)', ['kind'], (g, f) =>
    Object.entries(f.reconciliation).forEach(([kind, n]) => g.set({ kind }, n)),
  );

  /**
   * The pools as the scrape found them, read before any collector runs: the figures' statements,
   * queued on the request pool when their cache is stale, would otherwise read as the application's
   * (six waiting clients on an idle server).
   */
  let pools: [string, PoolCounts | undefined][] = [];
  const readPools = async (): Promise<[string, PoolCounts | undefined][]> => [
    ['requests', await sources.requestPool().catch(() => undefined)],
    ['jobs', sources.queue.poolCounts()],
  ];
  new Gauge({
    name: 'orders_db_pool_connections',
    help: "This instance's database connections by pool (requests: DATABASE_URL; jobs: DATABASE_DIRECT_URL) and state, when the scrape began",
    labelNames: ['pool', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [pool, counts] of pools) {
        if (!counts) continue;
        this.set({ pool, state: 'max' }, counts.max);
        this.set({ pool, state: 'open' }, counts.total);
        this.set({ pool, state: 'idle' }, counts.idle);
        this.set({ pool, state: 'in_use' }, counts.total - counts.idle);
        this.set({ pool, state: 'waiting_clients' }, counts.waiting);
      }
    },
  });

  const httpDuration = new Histogram({
    name: 'orders_http_request_duration_seconds',
    help: 'HTTP requests by route (tRPC: by procedure) and status, from arrival to the last byte sent',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const procedures = new Set(Object.keys(appRouter._def.procedures));
  // Labels must stay few whatever clients send: only known routes and procedures are named.
  const routeOf = (url: string | undefined, params: unknown): string => {
    if (!url) return 'unmatched';
    if (url.startsWith('/trpc/')) {
      const path = (params as { path?: string } | undefined)?.path ?? '';
      if (path.includes(',')) return '/trpc/(batch)';
      return procedures.has(path) ? `/trpc/${path}` : '/trpc/(unknown)';
    }
    return url;
  };

  return {
    registry,
    async scrape() {
      pools = await readPools();
      return registry.metrics();
    },
    observeHttp(app) {
      app.addHook('onResponse', async (request, reply) => {
        httpDuration.observe(
          { method: request.method, route: routeOf(request.routeOptions.url, request.params), status_code: String(reply.statusCode) },
          reply.elapsedTime / 1000,
        );
      });
    },
  };
}
