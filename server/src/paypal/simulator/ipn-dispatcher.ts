import { setTimeout as sleep } from 'node:timers/promises';
import type { PaypalLogger } from '../logger.js';

export interface IpnMode {
  /** Extra identical copies of every message, posted concurrently with the original. */
  duplicates: number;
  /** Hold each message until the next one, then post the newer first; flushes release newest first. */
  outOfOrder: boolean;
  /** Hold every message until flushIpns() or until unpaused. */
  paused: boolean;
}

export interface IpnAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface IpnDelivery {
  copy: number;
  state: 'sending' | 'retrying' | 'delivered' | 'failed' | 'abandoned';
  attempts: IpnAttempt[];
}

export interface IpnLogEntry {
  notifyUrl: string;
  /** The exact bytes posted; only these verify as VERIFIED. */
  body: string;
  fields: Record<string, string>;
  createdAt: string;
  held: boolean;
  deliveries: IpnDelivery[];
}

export interface IpnDispatcherOptions {
  retryDelaysMs: number[];
  attemptTimeoutMs: number;
  logger: PaypalLogger;
}

const DEFAULT_MODE: IpnMode = { duplicates: 0, outOfOrder: false, paused: false };

/**
 * Posts IPN messages the way PayPal does: form-encoded, resent unchanged until the listener answers
 * 200, and remembered byte-for-byte so the _notify-validate postback can tell genuine from forged.
 */
export class IpnDispatcher {
  private genuineBodies = new Set<string>();
  private log: IpnLogEntry[] = [];
  private held: IpnLogEntry[] = [];
  private mode: IpnMode = { ...DEFAULT_MODE };
  private inFlight = new Set<Promise<void>>();
  /** Per listener, so one slow listener does not reorder or delay another's messages. */
  private sendOrder = new Map<string, Promise<void>>();
  private lifetime = new AbortController();

  constructor(private readonly options: IpnDispatcherOptions) {}

  /** `fields` as name/value pairs keeps their order, which is part of the bytes verification compares. */
  send(fields: readonly [string, string][] | Record<string, string>, notifyUrl: string): IpnLogEntry {
    const params = new URLSearchParams(fields);
    const entry: IpnLogEntry = {
      notifyUrl,
      body: params.toString(),
      fields: Object.fromEntries(params),
      createdAt: new Date().toISOString(),
      held: false,
      deliveries: [],
    };
    this.genuineBodies.add(entry.body);
    this.log.push(entry);

    if (this.mode.paused || (this.mode.outOfOrder && this.held.length === 0)) {
      entry.held = true;
      this.held.push(entry);
    } else if (this.mode.outOfOrder) {
      this.release([entry, ...this.takeHeld().reverse()]);
    } else {
      this.release([entry]);
    }
    return structuredClone(entry);
  }

  isGenuine(rawBody: string): boolean {
    return this.genuineBodies.has(rawBody);
  }

  setMode(change: Partial<IpnMode>): void {
    this.mode = { ...this.mode, ...change };
    if (!this.mode.paused && !this.mode.outOfOrder) this.flush();
  }

  getMode(): IpnMode {
    return { ...this.mode };
  }

  /** Releases held messages: oldest first, or newest first in out-of-order mode. */
  flush(): void {
    const held = this.takeHeld();
    this.release(this.mode.outOfOrder ? held.reverse() : held);
  }

  entries(): IpnLogEntry[] {
    return structuredClone(this.log);
  }

  /** Resolves once every released message is delivered or given up (held ones are not waited for). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.genuineBodies.clear();
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

  private takeHeld(): IpnLogEntry[] {
    const held = this.held;
    this.held = [];
    for (const entry of held) entry.held = false;
    return held;
  }

  /** Each message's first attempt waits for the previous message's, so release order is arrival order. */
  private release(batch: IpnLogEntry[]): void {
    const signal = this.lifetime.signal;
    for (const entry of batch) {
      const previous = this.sendOrder.get(entry.notifyUrl) ?? Promise.resolve();
      const copies = previous.then(() =>
        Array.from({ length: 1 + this.mode.duplicates }, (_, copy) => this.deliver(entry, copy, signal)),
      );
      this.sendOrder.set(
        entry.notifyUrl,
        copies.then((started) => Promise.all(started.map((s) => s.firstAttempt))).then(() => undefined),
      );
      const done: Promise<void> = copies
        .then((started) => Promise.all(started.map((s) => s.finished)))
        .then(() => undefined)
        .finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    }
  }

  private deliver(entry: IpnLogEntry, copy: number, signal: AbortSignal) {
    const delivery: IpnDelivery = { copy, state: 'sending', attempts: [] };
    entry.deliveries.push(delivery);
    let markFirstAttempt = () => {};
    const firstAttempt = new Promise<void>((resolve) => (markFirstAttempt = resolve));
    const finished = (async () => {
      try {
        for (let retry = 0; ; retry++) {
          const attempt = await this.post(entry, signal);
          delivery.attempts.push(attempt);
          markFirstAttempt();
          if (attempt.status === 200) {
            delivery.state = 'delivered';
            return;
          }
          const delay = this.options.retryDelaysMs[retry];
          const context = { txnId: entry.fields.txn_id, paymentStatus: entry.fields.payment_status, ...attempt };
          if (delay === undefined) {
            delivery.state = 'failed';
            this.options.logger.warn(context, 'paypal simulator: IPN not accepted, giving up');
            return;
          }
          this.options.logger.info({ ...context, retryInMs: delay }, 'paypal simulator: IPN not accepted, will resend');
          delivery.state = 'retrying';
          await sleep(delay, undefined, { signal });
          delivery.state = 'sending';
        }
      } catch {
        delivery.state = 'abandoned';
      } finally {
        markFirstAttempt();
      }
    })();
    return { firstAttempt, finished };
  }

  /** One POST; network failures become a recorded attempt, only shutdown throws. */
  private async post(entry: IpnLogEntry, signal: AbortSignal): Promise<IpnAttempt> {
    const at = new Date().toISOString();
    try {
      const response = await fetch(entry.notifyUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'PayPal IPN ( https://www.paypal.com/ipn )',
        },
        body: entry.body,
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
