import pg from 'pg';
import { z } from 'zod';
import { ORDER_STATUSES, type OrderChangeEvent } from '@orders/shared';
import { iso } from '../../db/sql.js';
import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** The channel the trigger on "order" notifies (migration …_backoffice). */
export const ORDER_CHANGES_CHANNEL = 'order_changes';

/** A subscriber this far behind is cut off rather than buffered without bound; its client subscribes again. */
const MAX_PENDING_PER_SUBSCRIBER = 1000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 30_000;

const notification = z.object({
  orderId: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  kind: z.enum(['created', 'updated']),
  at: z.string(),
});

interface Subscriber {
  push(event: OrderChangeEvent): void;
  stop(): void;
  /** The feed lost its connection: changes made meanwhile are not coming. */
  lose(): void;
}

/**
 * One LISTEN connection per server process, fanning order changes out to back-office subscribers.
 * The trigger NOTIFYs at commit, so a change made through any instance reaches every instance's
 * subscribers. A dropped connection is re-opened with backoff and never takes the process down.
 * NOTIFYs sent while it is down are gone for good, so its subscribers are not kept on as if nothing
 * happened: their streams end with SERVICE_UNAVAILABLE, and new ones are refused until it is back. A
 * client subscribing again refetches what it shows (the desktop app does), so no change goes unseen.
 */
export class OrderChangeFeed {
  private client: pg.Client | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private reconnectDelayMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves once listening; a first connection that fails fails the start-up. */
  async start(): Promise<void> {
    await this.connect();
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /**
   * Order changes from now on, until `signal` aborts. When the feed closes (shutdown) the stream is
   * cut with an AbortError, not completed, so clients reconnect to an instance that is still up.
   */
  async *changes(signal?: AbortSignal): AsyncGenerator<OrderChangeEvent, void, undefined> {
    // A closed feed (shutdown) ends streams like it ends running ones; one not listening refuses them.
    if (this.closed) throw new DOMException('the server is shutting down', 'AbortError');
    if (!this.listening) throw new DomainError('SERVICE_UNAVAILABLE', 'live order changes are reconnecting to the database; subscribe again shortly');
    const pending: OrderChangeEvent[] = [];
    // Changed from the callbacks below; the cast keeps TypeScript from narrowing it to 'open'.
    let state = 'open' as 'open' | 'overflow' | 'stopped' | 'lost';
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      push(event) {
        if (pending.length >= MAX_PENDING_PER_SUBSCRIBER) state = 'overflow';
        else pending.push(event);
        wake?.();
      },
      stop() {
        state = 'stopped';
        wake?.();
      },
      lose() {
        state = 'lost';
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    this.subscribers.add(subscriber);
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (state === 'stopped') throw new DOMException('the server is shutting down', 'AbortError');
        if (state === 'overflow') throw new DomainError('SERVICE_UNAVAILABLE', 'too far behind on order changes; subscribe again');
        if (state === 'lost') throw new DomainError('SERVICE_UNAVAILABLE', 'order changes may have been missed while the database connection was lost; subscribe again');
        const next = pending.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.subscribers.delete(subscriber);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const subscriber of this.subscribers) subscriber.stop();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, application_name: 'orders-order-changes' });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === ORDER_CHANGES_CHANNEL) this.dispatch(message.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${ORDER_CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.reconnectDelayMs = RECONNECT_MIN_MS;
  }

  private lost(client: pg.Client, error?: Error): void {
    // Only the live connection matters: a failed attempt or one already replaced reports here too.
    if (client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.logger.warn({ error: error?.message }, 'order change feed lost its database connection; reconnecting');
    for (const subscriber of this.subscribers) subscriber.lose();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: Error) => {
        // The loss was told once; each retry is not (the database watch summarises a long outage).
        this.logger.debug({ error: error.message, retryInMs: this.reconnectDelayMs }, 'order change feed could not reconnect');
        this.scheduleReconnect();
      });
    }, delay);
  }

  private dispatch(payload: string | undefined): void {
    let parsed: z.infer<typeof notification>;
    try {
      parsed = notification.parse(JSON.parse(payload ?? ''));
    } catch {
      this.logger.warn('ignored a malformed order change notification');
      return;
    }
    const event: OrderChangeEvent = { orderId: parsed.orderId, status: parsed.status, kind: parsed.kind, at: iso(parsed.at) };
    for (const subscriber of this.subscribers) subscriber.push(event);
  }
}
