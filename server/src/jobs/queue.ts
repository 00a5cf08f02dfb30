import { PgBoss, type JobResult } from 'pg-boss';
import type { Logger } from '../logger.js';

export const IPN_QUEUE = 'ipn-process';
export const WEBHOOK_QUEUE = 'webhook-process';
export const SWEEP_QUEUE = 'payments-sweep';

export interface JobHandlers {
  processIpn(eventId: string): Promise<unknown>;
  /** Absent while webhooks are off: then nothing polls their queue. */
  processWebhook?: (eventId: string) => Promise<unknown>;
  sweep(): Promise<unknown>;
}

/**
 * The listeners' enqueues wait this long to go out together: one insert into pg-boss for every
 * notification stored meanwhile, instead of one per request. Nothing is lost by waiting: the stored
 * row is the inbox, and a notification whose job never got out (a crash inside the window) is queued
 * again by the restart's requeue or the minute sweep.
 */
const SEND_WINDOW_MS = 10;
const SEND_BATCH_MAX = 500;

/** Jobs one notification worker fetches at once. */
const NOTIFICATION_BATCH = 10;

/**
 * How often an idle notification worker looks for jobs nobody told it of: another instance's, a
 * retry whose backoff ended, a restart's. What this instance enqueues wakes its workers at once (wake).
 */
const NOTIFICATION_POLL_SECONDS = 2;

/** Ids gathered for one queue, sent as one insert when the window closes or the batch is full. */
class SendBatch {
  private ids: string[] = [];
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (ids: string[]) => Promise<void>) {}

  add(id: string): Promise<void> {
    const sent = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.ids.push(id);
    if (this.ids.length >= SEND_BATCH_MAX) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), SEND_WINDOW_MS);
    return sent;
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const [ids, waiters] = [this.ids, this.waiters];
    [this.ids, this.waiters] = [[], []];
    if (ids.length === 0) return;
    try {
      await this.send(ids);
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}

/** Verification may be unreachable for a while: retry with exponential backoff, up to about a day. */
const NOTIFICATION_QUEUE_OPTIONS = { retryLimit: 20, retryDelay: 1, retryBackoff: true, retryDelayMax: 3600, expireInSeconds: 120 } as const;

/**
 * What makes two of pg-boss's errors the same failure, for telling it once: its code and message,
 * without the "(Queue: …, Worker: …)" each polling worker appends to the message. With the suffix
 * kept, PostgreSQL stopping was told by every worker (five lines for two failures) before
 * the database watch knew of the outage and took the rest.
 */
export function queueErrorKey(err: Error & { code?: string }): string {
  return `${err.code ?? ''} ${err.message.replace(/ \(Queue: [^()]*, Worker: [^()]*\)$/, '')}`;
}

/**
 * Background work on pg-boss: jobs live in PostgreSQL, so any instance may take them, none takes
 * one twice, and a crash only delays them.
 */
export class JobQueue {
  private readonly batches: Record<string, SendBatch>;
  /** Each queue's notification workers, and which one the next wake starts with. */
  private readonly workers: Record<string, { ids: string[]; next: number }> = {};

  private constructor(
    private readonly boss: PgBoss,
    private readonly logger: Logger,
  ) {
    const batch = (queue: string) =>
      new SendBatch(async (ids) => {
        const unique = [...new Set(ids)];
        await this.boss.insert(queue, unique.map((eventId) => ({ data: { eventId }, singletonKey: eventId })));
        this.wake(queue, unique.length);
      });
    this.batches = { [IPN_QUEUE]: batch(IPN_QUEUE), [WEBHOOK_QUEUE]: batch(WEBHOOK_QUEUE) };
  }

  /**
   * `databaseUrl` must be a session connection (DATABASE_DIRECT_URL), never a transaction pooler:
   * pg-boss's maintenance takes session-level locks and its schema migration runs in one session.
   * `absorbError` may claim an error (a known database outage, told once elsewhere): it is then not logged.
   */
  static async start(databaseUrl: string, logger: Logger, options: { poolMax?: number; absorbError?: (error: Error) => boolean } = {}): Promise<JobQueue> {
    // Without pg-boss's LISTEN connection: that connection, killed while pg-boss stops (Ctrl-C reaches
    // PostgreSQL too), emitted an unheard 'error' and crashed the process. Workers are woken in process
    // instead (wake), and poll as a backstop.
    const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', max: options.poolMax ?? 5 });
    const repeats = new Map<string, { at: number; quiet: number }>();
    boss.on('error', (err: Error & { code?: string }) => {
      if (options.absorbError?.(err)) return;
      // The same failure repeats at every poll: told once a minute, with how often it came meanwhile.
      const key = queueErrorKey(err);
      const seen = repeats.get(key);
      if (seen && Date.now() - seen.at < 60_000) {
        seen.quiet++;
        return;
      }
      repeats.set(key, { at: Date.now(), quiet: 0 });
      // pg errors carry their whole client object; the message and code are what an operator needs.
      logger.error({ error: err.message, code: err.code, ...(seen?.quiet ? { repeatedSinceLastLine: seen.quiet } : {}) }, 'job queue error');
    });
    await boss.start();
    await boss.createQueue(IPN_QUEUE, NOTIFICATION_QUEUE_OPTIONS);
    await boss.createQueue(WEBHOOK_QUEUE, NOTIFICATION_QUEUE_OPTIONS);
    await boss.createQueue(SWEEP_QUEUE, { retryLimit: 0, expireInSeconds: 300 });
    return new JobQueue(boss, logger);
  }

  /**
   * `singletonKey` keeps re-queues from piling up while a job for the event is still waiting or
   * retrying. A restart passes its own `round`, so IPNs whose jobs died with the previous process
   * (active until they expire, or far into a backoff) get a fresh job at once; processing is
   * idempotent, so an extra job only finds the event already handled.
   */
  enqueueIpn(eventId: string, round = ''): Promise<void> {
    return this.enqueueNotification(IPN_QUEUE, eventId, round);
  }

  /** The same for a stored webhook, on its own queue. */
  enqueueWebhook(eventId: string, round = ''): Promise<void> {
    return this.enqueueNotification(WEBHOOK_QUEUE, eventId, round);
  }

  /** A listener's enqueue joins the open batch (see SEND_WINDOW_MS); a restart's re-queue goes out at once. */
  private async enqueueNotification(queue: string, eventId: string, round: string): Promise<void> {
    if (!round) return this.batches[queue]!.add(eventId);
    await this.boss.send(queue, { eventId }, { singletonKey: `${eventId}@${round}` });
    this.wake(queue, 1);
  }

  /**
   * Wakes enough of `queue`'s workers here to fetch `jobs` just sent, and one more in case one of them
   * is busy (a woken busy worker fetches as soon as it is done), starting where the last wake ended.
   * Without it a job waited for the next poll: receipt to processed was 231 ms at p50 and 458 at p95
   * with workers polling every 0.5 s (an IPN every 300 ms); each idle worker then fetched twice a second.
   */
  private wake(queue: string, jobs: number): void {
    const workers = this.workers[queue];
    if (!workers?.ids.length) return;
    const count = Math.min(workers.ids.length, Math.ceil(jobs / NOTIFICATION_BATCH) + 1);
    for (let i = 0; i < count; i++) {
      this.boss.notifyWorker(workers.ids[workers.next]!);
      workers.next = (workers.next + 1) % workers.ids.length;
    }
  }

  /** One extra sweep, `seconds` from now, besides the one every minute. */
  async sweepAfter(seconds: number): Promise<void> {
    await this.boss.send(SWEEP_QUEUE, {}, { startAfter: seconds });
  }

  /** `pollSeconds`: how often idle notification workers look for jobs they were not woken for. */
  async work(handlers: JobHandlers, options: { concurrency?: number; pollSeconds?: number } = {}): Promise<void> {
    const { concurrency = 4, pollSeconds = NOTIFICATION_POLL_SECONDS } = options;
    await this.workNotifications(IPN_QUEUE, handlers.processIpn, concurrency, pollSeconds);
    if (handlers.processWebhook) await this.workNotifications(WEBHOOK_QUEUE, handlers.processWebhook, concurrency, pollSeconds);
    await this.boss.work(SWEEP_QUEUE, async () => {
      await handlers.sweep();
    });
    await this.boss.schedule(SWEEP_QUEUE, '* * * * *');
    this.logger.debug('job workers started');
  }

  /**
   * A batch keeps workers fetching back to back while a backlog lasts (with one job per fetch, a
   * worker not woken would wait a poll between jobs). Results are per job, so one notification that fails is
   * retried with its own backoff while the rest of its batch completes. One work() per worker, so
   * that each has an id to wake it by (pg-boss's localConcurrency names only the first).
   */
  private async workNotifications(queue: string, handle: (eventId: string) => Promise<unknown>, concurrency: number, pollSeconds: number): Promise<void> {
    const batches = {
      batchSize: NOTIFICATION_BATCH,
      burstWhenBatchFull: true,
      perJobResults: true,
      pollingIntervalSeconds: pollSeconds,
    };
    const workers = (this.workers[queue] = { ids: [] as string[], next: 0 });
    for (let i = 0; i < concurrency; i++) {
      workers.ids.push(
        await this.boss.work<{ eventId: string }, unknown, typeof batches>(queue, batches, async (jobs) => {
          const results: JobResult[] = [];
          for (const job of jobs) {
            try {
              await handle(job.data.eventId);
              results.push({ id: job.id, status: 'completed' });
            } catch (error) {
              // Retried with backoff; said once per failure so a message that keeps failing is seen, with its cause.
              this.logger.warn({ queue, eventId: job.data.eventId, error: (error as Error).message }, 'notification job failed; it will be retried');
              results.push({ id: job.id, status: 'failed', output: { message: (error as Error).message } });
            }
          }
          return results;
        }),
      );
    }
  }

  /** A round trip through the queue's own (session) connection pool. */
  async probe(): Promise<void> {
    await this.boss.getDb().executeSql('select 1');
  }

  /** The queue's connection pool, as node-postgres counts it. */
  poolCounts(): { max: number; total: number; idle: number; waiting: number } | undefined {
    return this.boss.getDb().poolCounts?.() ?? undefined;
  }

  /** Jobs that failed for good and jobs waiting to be retried, per queue (the metrics read these). */
  async failureCounts(): Promise<{ queue: string; state: 'failed' | 'retry'; n: number }[]> {
    const { rows } = await this.boss
      .getDb()
      .executeSql(`select name as queue, state::text as state, count(*)::int as n from pgboss.job where state in ('failed', 'retry') group by 1, 2`);
    return rows as { queue: string; state: 'failed' | 'retry'; n: number }[];
  }

  async stop(): Promise<void> {
    // What the listeners stored in the last window still goes out (else the next start's requeue sends it).
    await Promise.all(Object.values(this.batches).map((batch) => batch.flush()));
    await this.boss.stop({ graceful: true, timeout: 5000 });
  }
}
