import type { FastifyInstance } from 'fastify';
import type { PaypalMode } from '../config.js';
import type { DatabaseWatch } from '../db/database-watch.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Services } from '../services.js';
import { createMetrics, type MetricsSources } from './metrics.js';

/** A readiness check that takes longer than this counts as failed: a load balancer must not wait. */
const CHECK_TIMEOUT_MS = 1_500;

type Check = { status: 'ok' } | { status: 'down'; reason: string };

export interface OperationsRoutesOptions extends MetricsSources {
  services: Services;
  queue: JobQueue;
  databaseWatch: DatabaseWatch;
  /** `select 1` on the watch's own connection (not the request pool: busy is not down). */
  databaseProbe(): Promise<unknown>;
  paypalMode: PaypalMode;
  /**
   * 'starting' until start-up has finished (job workers, stranded-message recovery): not ready yet;
   * 'stopping' once shutdown began: not ready, so load balancers move traffic away first.
   */
  phase(): 'starting' | 'serving' | 'stopping';
}

async function bounded(check: () => Promise<unknown>, reason: string): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)))]);
    return { status: 'ok' };
  } catch {
    // Never the driver's text: it names hosts and ports.
    return { status: 'down', reason };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process is alive and serving HTTP (restart it when this fails). `/readyz`: it can do
 * its work now — database for requests, job queue, LISTEN feed — (send it traffic only while 200).
 * `/metrics`: Prometheus. None needs credentials: bind to a private interface or filter at the
 * load balancer if that matters.
 */
export function registerOperationsRoutes(app: FastifyInstance, options: OperationsRoutesOptions): void {
  const startedAt = Date.now();
  const metrics = createMetrics(options);
  metrics.observeHttp(app);
  const uptimeSeconds = () => Math.round((Date.now() - startedAt) / 1000);

  app.get('/healthz', async () => ({ status: 'ok', uptimeSeconds: uptimeSeconds() }));

  app.get('/readyz', async (_request, reply) => {
    const [database, jobQueue] = await Promise.all([
      bounded(() => options.databaseProbe(), 'unreachable'),
      bounded(() => options.queue.probe(), 'unreachable'),
    ]);
    if (database.status === 'down') options.databaseWatch.absorb('readiness check');
    const liveFeed: Check = options.services.orderChanges.listening ? { status: 'ok' } : { status: 'down', reason: 'reconnecting' };
    const outage = options.databaseWatch.current;
    const checks = {
      database: outage.downSince ? { ...database, downForSeconds: Math.round((Date.now() - outage.downSince) / 1000) } : database,
      jobQueue,
      liveFeed,
      paypal: { status: 'ok' as const, mode: options.paypalMode },
    };
    const phase = options.phase();
    const ready = phase === 'serving' && [database, jobQueue, liveFeed].every((c) => c.status === 'ok');
    return reply
      .status(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ready ? 'ready' : phase === 'serving' ? 'not ready' : phase, checks, uptimeSeconds: uptimeSeconds() });
  });

  app.get('/metrics', async (_request, reply) => {
    try {
      const text = await metrics.scrape();
      return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    } catch {
      return reply.status(503).send({ error: 'metrics unavailable' });
    }
  });
}
