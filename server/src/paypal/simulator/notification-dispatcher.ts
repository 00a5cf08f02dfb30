import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PaypalLogger } from '../logger.js';
import { memoryOnlyJournal, type RecordKind, type SimulatorJournal } from './journal.js';

/** Delivery faults PayPal shows in practice, switchable per notification channel. */
export interface DispatchMode {
  /** Extra identical copies of every message, posted concurrently with the original. */
  duplicates: number;
  /** Hold each message until the next one, then post the newer first; flushes release newest first. */
  outOfOrder: boolean;
  /** Hold every message until flush() or until unpaused. */
  paused: boolean;
}

export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface Delivery {
  copy: number;
  state: 'sending' | 'retrying' | 'delivered' | 'failed' | 'abandoned';
  attempts: DeliveryAttempt[];
}

/** What every logged notification carries, whatever its channel. */
export interface DispatchedEntry {
  createdAt: string;
  held: boolean;
  deliveries: Delivery[];
}

/** How one channel (IPN, webhooks) puts its messages on the wire. */
export interface NotificationFormat<E extends DispatchedEntry> {
  /** For log lines: "IPN", "webhook". */
  name: string;
  request(entry: E): { url: string; headers: Record<string, string>; body: string };
  /** Whether the listener's answer ends the resends (IPN: exactly 200; webhooks: any 2xx). */
  accepted(status: number): boolean;
  logContext(entry: E): Record<string, unknown>;
}

export interface DispatcherOptions {
  retryDelaysMs: number[];
  attemptTimeoutMs: number;
  logger: PaypalLogger;
  /** Where each message and every delivery attempt is written down; nothing is kept by default. */
  journal?: SimulatorJournal;
}

const DEFAULT_MODE: DispatchMode = { duplicates: 0, outOfOrder: false, paused: false };

/**
 * Posts notifications the way PayPal does: resent unchanged until the listener accepts, in arrival
 * order per listener, with duplicates, holds and reordering on request. Subclasses say what a message is.
 */
export class NotificationDispatcher<E extends DispatchedEntry> {
  private log: E[] = [];
  private held: E[] = [];
  private mode: DispatchMode = { ...DEFAULT_MODE };
  private inFlight = new Set<Promise<void>>();
  /** Per listener, so one slow listener does not reorder or delay another's messages. */
  private sendOrder = new Map<string, Promise<void>>();
  private lifetime = new AbortController();
  /** Each message's key in the journal. */
  private ids = new WeakMap<E, string>();
  protected readonly journal: SimulatorJournal;

  constructor(
    private readonly format: NotificationFormat<E>,
    private readonly options: DispatcherOptions,
    /** The journal's name for this channel's messages. */
    private readonly kind: RecordKind,
  ) {
    this.journal = options.journal ?? memoryOnlyJournal;
  }

  /** Logs the entry and releases (or holds) it according to the mode; returns a copy. */
  protected dispatch(entry: E): E {
    this.log.push(entry);
    this.ids.set(entry, randomUUID());
    if (this.mode.paused || (this.mode.outOfOrder && this.held.length === 0)) {
      entry.held = true;
      this.held.push(entry);
      this.save(entry);
    } else if (this.mode.outOfOrder) {
      this.release([entry, ...this.takeHeld().reverse()]);
    } else {
      this.release([entry]);
    }
    if (!entry.held) this.save(entry);
    return structuredClone(entry);
  }

  setMode(change: Partial<DispatchMode>): void {
    if (change.duplicates !== undefined && (!Number.isSafeInteger(change.duplicates) || change.duplicates < 0)) {
      throw new RangeError('duplicates must be a non-negative integer');
    }
    this.mode = { ...this.mode, ...change };
    if (!this.mode.paused && !this.mode.outOfOrder) this.flush();
  }

  getMode(): DispatchMode {
    return { ...this.mode };
  }

  /** Releases held messages: oldest first, or newest first in out-of-order mode. */
  flush(): void {
    const held = this.takeHeld();
    this.release(this.mode.outOfOrder ? held.reverse() : held);
  }

  entries(): E[] {
    return structuredClone(this.log);
  }

  /** Messages an earlier run logged, back in the log (in order); `resume()` sends what they still owe. */
  protected restore(saved: { id: string; body: unknown }[]): E[] {
    const entries = saved.map(({ id, body }) => {
      const entry = body as E;
      this.ids.set(entry, id);
      this.log.push(entry);
      return entry;
    });
    return entries;
  }

  /**
   * After a restart: every message that was held, queued or still being resent when the last run
   * stopped goes out again — a restart is one more resend, then the remaining schedule follows.
   */
  resume(): void {
    const signal = this.lifetime.signal;
    for (const entry of this.log) {
      const unfinished = entry.deliveries.filter((d) => d.state === 'sending' || d.state === 'retrying');
      if (entry.held || entry.deliveries.length === 0) {
        entry.held = false;
        this.release([entry]);
      } else if (unfinished.length > 0) {
        const done = Promise.all(unfinished.map((delivery) => this.deliver(entry, delivery.copy, signal, delivery).finished))
          .then(() => undefined)
          .finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      }
    }
  }

  /** Resolves once every released message is delivered or given up (held ones are not waited for). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.journal.clear([this.kind]);
    this.log = [];
    this.held = [];
    this.mode = { ...DEFAULT_MODE };
    this.inFlight.clear();
    this.sendOrder.clear();
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private takeHeld(): E[] {
    const held = this.held;
    this.held = [];
    for (const entry of held) entry.held = false;
    return held;
  }

  /** Each message's first attempt waits for the previous message's, so release order is arrival order. */
  private release(batch: E[]): void {
    const signal = this.lifetime.signal;
    for (const entry of batch) {
      const url = this.format.request(entry).url;
      const previous = this.sendOrder.get(url) ?? Promise.resolve();
      const copies = previous.then(() =>
        Array.from({ length: 1 + this.mode.duplicates }, (_, copy) => this.deliver(entry, copy, signal)),
      );
      this.sendOrder.set(
        url,
        copies.then((started) => Promise.all(started.map((s) => s.firstAttempt))).then(() => undefined),
      );
      const done: Promise<void> = copies
        .then((started) => Promise.all(started.map((s) => s.finished)))
        .then(() => undefined)
        .finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    }
  }

  /** Writes the entry down as it is now (deliveries included). */
  protected save(entry: E): void {
    const id = this.ids.get(entry);
    if (id) this.journal.save(this.kind, id, entry);
  }

  private deliver(entry: E, copy: number, signal: AbortSignal, resumed?: Delivery) {
    const delivery: Delivery = resumed ?? { copy, state: 'sending', attempts: [] };
    if (!resumed) {
      entry.deliveries.push(delivery);
      this.save(entry);
    }
    let markFirstAttempt = () => {};
    const firstAttempt = new Promise<void>((resolve) => (markFirstAttempt = resolve));
    const finished = (async () => {
      try {
        // A resumed delivery goes on where its schedule stopped: its earlier attempts count.
        for (let retry = delivery.attempts.length; ; retry++) {
          delivery.state = 'sending';
          const attempt = await this.post(entry, signal);
          delivery.attempts.push(attempt);
          markFirstAttempt();
          if (attempt.status !== undefined && this.format.accepted(attempt.status)) {
            delivery.state = 'delivered';
            this.save(entry);
            return;
          }
          const delay = this.options.retryDelaysMs[retry];
          const context = { ...this.format.logContext(entry), ...attempt };
          if (delay === undefined) {
            delivery.state = 'failed';
            this.save(entry);
            this.options.logger.warn(context, `paypal simulator: ${this.format.name} not accepted, giving up`);
            return;
          }
          this.options.logger.info({ ...context, retryInMs: delay }, `paypal simulator: ${this.format.name} not accepted, will resend`);
          delivery.state = 'retrying';
          this.save(entry);
          await sleep(delay, undefined, { signal });
        }
      } catch {
        // Not written down: to the journal the delivery is still owed, and the next run resumes it.
        delivery.state = 'abandoned';
      } finally {
        markFirstAttempt();
      }
    })();
    return { firstAttempt, finished };
  }

  /** One POST; network failures become a recorded attempt, only shutdown throws. */
  private async post(entry: E, signal: AbortSignal): Promise<DeliveryAttempt> {
    const at = new Date().toISOString();
    const { url, headers, body } = this.format.request(entry);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.attemptTimeoutMs)]),
      });
      await response.arrayBuffer();
      return { at, status: response.status };
    } catch (error) {
      if (signal.aborted) throw error;
      return { at, error: describeFetchError(error) };
    }
  }
}

function describeFetchError(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'unknown error';
}
