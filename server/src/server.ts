import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from './config.js';
import { compilesWithJit, initOrm, migrate, requestPoolCounts } from './db/orm.js';
import type { EmbeddedPostgresEvent, EmbeddedPostgresHandle } from './db/embedded-postgres-types.js';
import { DatabaseWatch, PROBE_TIMEOUT_MS } from './db/database-watch.js';
import { DatabaseProbe } from './db/database-probe.js';
import { registerOperationsRoutes } from './http/health.js';
import { buildHttpApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { bootstrapCredentials } from './modules/staff/bootstrap.js';
import { createServices, type Services } from './services.js';
import { JobQueue } from './jobs/queue.js';
import { registerPaypalRoutes } from './http/paypal-routes.js';
import { registerPaypalWebhookRoute } from './http/paypal-webhook-route.js';
import { registerBackofficeExport } from './http/backoffice-export.js';
import { registerSessionRoutes } from './http/session-cookie.js';
import { registerBackofficeStatic } from './http/backoffice-static.js';
import { setupPaypal, type PaypalSetup } from './paypal/setup.js';

export interface RunningServer {
  url: string;
  trpcUrl: string;
  services: Services;
  orm: MikroORM;
  http: FastifyInstance;
  logger: Logger;
  paypal: PaypalSetup;
  queue: JobQueue;
  /** /readyz answers 503 "stopping" from now on while everything still serves, for `ms` (SHUTDOWN_DRAIN_SECONDS). */
  drain(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** How long one step of a stop may take before it is told (and again each time as long). */
export const SLOW_SHUTDOWN_STEP_MS = 10_000;

/**
 * Start-up in order: database (embedded unless DATABASE_URL) → migrations → bootstrap → HTTP.
 * Whatever started is stopped again if a later step fails.
 */
export async function startServer(
  config: AppConfig,
  options: {
    logger?: Logger;
    workers?: boolean;
    /** The back office's browser build; default desktop/dist-web. */ backofficeWebDir?: string;
    /** The embedded PostgreSQL died and could not be restarted; by default: log it, stop, exit 1 for a supervisor. */
    onFatal?: (message: string) => void;
    /** Told every SLOW_SHUTDOWN_STEP_MS while one step of close() runs on; by default a warning in the log. */
    onSlowShutdownStep?: (step: string, waitedMs: number) => void;
  } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const cleanups: [step: string, run: () => Promise<void>][] = [];
  let phase: 'starting' | 'serving' | 'stopping' = 'starting';
  const onSlowStep = options.onSlowShutdownStep ?? ((step, waitedMs) => logger.warn({ step, waitedMs }, 'shutdown: still waiting'));
  const close = async () => {
    phase = 'stopping';
    for (const [step, run] of cleanups.reverse()) {
      const started = Date.now();
      // A step that never ends would hang the stop with nothing said: which one it is gets told.
      // At least the intervals gone by: timers run on a millisecond-truncated monotonic clock, and
      // Date.now() read as the first one fires could say 9,999 ms (seen in CI).
      let reports = 0;
      const watch = setInterval(() => onSlowStep(step, Math.max(Date.now() - started, ++reports * SLOW_SHUTDOWN_STEP_MS)), SLOW_SHUTDOWN_STEP_MS);
      await run()
        .catch((err) => logger.error({ err, step }, 'shutdown step failed'))
        .finally(() => clearInterval(watch));
    }
    cleanups.length = 0;
  };
  try {
    let databaseUrl = config.databaseUrl;
    // Migrations, LISTEN and pg-boss need a session of their own; requests may go through PgBouncer.
    let directUrl = config.databaseDirectUrl ?? databaseUrl;
    let embedded: EmbeddedPostgresHandle | undefined;
    if (!databaseUrl) {
      const fatal = options.onFatal ?? ((message: string) => {
        logger.fatal(`${message}; exiting so that a supervisor restarts the server`);
        void Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 10_000))]).finally(() => process.exit(1));
      });
      const onEvent = (event: EmbeddedPostgresEvent) => {
        if (event.kind === 'orphan-stopped') logger.warn({ pid: event.pid }, 'stopped the embedded PostgreSQL a killed server had left running');
        else if (event.kind === 'exited') logger.error({ code: event.code, signal: event.signal }, 'embedded PostgreSQL exited unexpectedly; restarting it');
        else if (event.kind === 'restarting' && event.attempt > 1) logger.warn({ attempt: event.attempt, of: event.of, reason: event.reason }, 'embedded PostgreSQL did not restart; trying again');
        else if (event.kind === 'restarted') logger.info({ afterMs: event.afterMs }, 'embedded PostgreSQL restarted');
        else if (event.kind === 'gave-up') fatal(`embedded PostgreSQL could not be restarted (${event.attempts} attempts; last: ${event.reason})`);
      };
      // Loaded only in this mode: a server given DATABASE_URL never loads the launcher.
      const { startEmbeddedPostgres } = await import('./db/embedded-postgres.js');
      embedded = await startEmbeddedPostgres({ dataDir: `${config.dataDir}/postgres`, onEvent });
      // Runs last (cleanups run in reverse): every pool is closed, so a smart shutdown ends at once.
      cleanups.push(['embedded PostgreSQL', () => embedded!.stop('smart')]);
      databaseUrl = directUrl = embedded.url;
      logger.info({ dataDir: embedded.dataDir, port: embedded.port }, 'embedded PostgreSQL started');
    }
    // Migrated on a connection of its own, closed before the request pool opens any: a migration's
    // session defaults (jit = off, Migration20261202070000) then hold for every request connection.
    const direct = await initOrm(directUrl!, { poolMax: 1 });
    await migrate(direct).finally(() => direct.close());
    const orm = await initOrm(databaseUrl, { poolMax: config.pools.requestsMax, poolWaitMs: config.pools.requestsWaitMs });
    cleanups.push(['database pool', () => orm.close()]);
    if (await compilesWithJit(orm)) {
      logger.warn(
        "PostgreSQL compiles this connection's costly statements with JIT (jit = on): the dashboard and reconciliation take seconds instead of milliseconds; run ALTER ROLE <role> IN DATABASE <database> SET jit = off for the role DATABASE_URL connects as",
      );
    }
    // Tells a database outage once (then a summary a minute) instead of through every component failing.
    // On a connection of its own (database-probe.ts), where requests go: busy request connections are not an outage.
    const databaseProbe = new DatabaseProbe(databaseUrl, PROBE_TIMEOUT_MS);
    const databaseWatch = new DatabaseWatch(() => databaseProbe.check(), logger.child({ component: 'database' }));
    databaseWatch.start();
    cleanups.push([
      'database watch',
      async () => {
        databaseWatch.stop();
        await databaseProbe.close();
      },
    ]);
    // In simulator mode the simulator keeps its state in this database (schema paypal_sim).
    const paypal = await setupPaypal(config.paypal, logger, { databaseUrl: directUrl! });
    cleanups.push(['PayPal', () => paypal.close()]);
    const queue = await JobQueue.start(directUrl!, logger, { poolMax: config.pools.jobQueueMax, absorbError: () => databaseWatch.absorb('job queue') });
    cleanups.push(['job queue', () => queue.stop()]);
    let publicBaseUrl = config.publicBaseUrl;
    // A refund still `requested` after this long has no live request behind it (each PayPal call is
    // bounded by PAYPAL_TIMEOUT_MS; the OAuth call before it by the same): the sweep resumes it.
    const refundResumeAfterMs = Math.max(5_000, 3 * config.paypal.timeoutMs);
    const services = createServices({
      orm,
      gateway: paypal.gateway,
      queue,
      logger,
      listenUrl: directUrl,
      payments: {
        publicBaseUrl: () => publicBaseUrl!,
        receiverEmail: paypal.receiverEmail,
        // The mounted simulator's postback address is known once this server listens.
        get ipnVerifyUrl() {
          return paypal.ipnVerifyUrl;
        },
        executeClaimMs: 2 * config.paypal.timeoutMs,
        ipnVerifyTimeoutMs: config.paypal.ipnVerifyTimeoutMs,
      },
      webhooks: { webhookId: paypal.webhookId },
      refundDuplicates: config.paypal.refundDuplicates,
      loginLockAfterFailures: config.loginLockAfterFailures,
    });
    await bootstrapCredentials(orm, config, logger);
    const http = await buildHttpApp({ services, logger, rateLimits: config.rateLimits });
    registerOperationsRoutes(http, {
      services,
      queue,
      databaseWatch,
      databaseProbe: () => databaseProbe.check(),
      paypalMode: config.paypal.mode,
      phase: () => phase,
      requestPool: () => requestPoolCounts(orm),
    });
    await registerPaypalRoutes(http, services.payments, logger);
    if (services.webhooks.enabled) await registerPaypalWebhookRoute(http, services.webhooks);
    await registerBackofficeExport(http, services, logger);
    await registerSessionRoutes(http, services, { secure: () => (publicBaseUrl ?? '').startsWith('https:') });
    await registerBackofficeStatic(http, { root: options.backofficeWebDir });
    await paypal.mount(http);
    let url = '';
    if (config.paypal.mode === 'simulator') {
      // Loaded only in this mode: sandbox and live have no /demo (404).
      const { registerDemoShop } = await import('./demo/demo-shop.js');
      await registerDemoShop(http, { orm, services, logger, urls: () => ({ trpcUrl: `${url}/trpc`, publicBaseUrl: publicBaseUrl ?? url }) });
    }
    cleanups.push(['HTTP', () => http.close()]);
    // Closed before HTTP (cleanups run in reverse): live subscriptions end, so closing HTTP never waits on them.
    await services.orderChanges.start();
    cleanups.push(['live updates', () => services.orderChanges.close()]);
    await http.listen({ host: config.host, port: config.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    url = `http://${config.host}:${port}`;
    publicBaseUrl ??= url;
    paypal.listening({ localUrl: url, publicBaseUrl });
    paypal.connectWebhook(`${publicBaseUrl}/paypal/webhook`);
    if (options.workers !== false) {
      await queue.work({
        processIpn: (eventId) => services.payments.processIpn(eventId),
        ...(services.webhooks.enabled ? { processWebhook: (eventId: string) => services.webhooks.processWebhook(eventId) } : {}),
        sweep: async () => {
          const requeued = (await services.payments.requeueStrandedIpns()) + (await services.webhooks.requeueStranded());
          const expired = await services.payments.expireStaleAttempts(config.payments.attemptExpiryMinutes);
          const refunds = await services.refunds.resumeInterrupted({ olderThanMs: refundResumeAfterMs, giveUpAfterMs: config.payments.refundGiveUpAfterMs });
          if (requeued || expired || refunds.completed || refunds.failed || refunds.retrying) logger.info({ requeued, expired, refunds }, 'payments sweep');
        },
      });
      // IPNs and webhooks stored by an instance that died before queueing them are picked up at once;
      // refunds it left half done, once no live request can still be waiting on PayPal for them.
      const round = `boot-${Date.now()}-${process.pid}`;
      await services.payments.requeueStrandedIpns(0, round);
      await services.webhooks.requeueStranded(0, round);
      await queue.sweepAfter(Math.ceil(refundResumeAfterMs / 1000) + 1);
    }
    phase = 'serving';
    const drain = async (ms: number) => {
      phase = 'stopping';
      await new Promise((resolve) => setTimeout(resolve, ms));
    };
    return { url, trpcUrl: `${url}/trpc`, services, orm, http, logger, paypal, queue, drain, close };
  } catch (error) {
    await close();
    throw error;
  }
}
