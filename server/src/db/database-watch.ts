import type { Logger } from '../logger.js';

const CHECK_EVERY_MS = 2_000;
const SUMMARY_EVERY_MS = 60_000;
export const PROBE_TIMEOUT_MS = 2_000;

export interface DatabaseStatus {
  up: boolean;
  /** When the current outage began (epoch ms), while down. */
  downSince?: number;
  lastCheckMs?: number;
}

/**
 * Watches the database the server talks to, so an outage is told once instead of by every failing
 * component: one line when it goes, a summary a minute while it lasts (with what was kept quiet
 * meanwhile), one line when it is back. Nothing here reconnects: the pools and the LISTEN feed do
 * that by themselves; this only knows and tells.
 */
export class DatabaseWatch {
  private status: DatabaseStatus = { up: true };
  private failedChecks = 0;
  private lastReason = '';
  private readonly suppressed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private lastSummaryAt = 0;
  private checking: Promise<boolean> | undefined;
  /** After stop() (the server is stopping, the database goes next) nothing more is checked or told. */
  private stopped = false;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: { checkEveryMs?: number; summaryEveryMs?: number } = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs ?? CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  get current(): DatabaseStatus {
    return { ...this.status };
  }

  /**
   * Another component met a database error: while the outage is known it is only counted (and
   * `true` says "already told"); otherwise a check runs at once, and the caller logs it itself.
   */
  absorb(source: string): boolean {
    if (this.stopped) return true;
    if (!this.status.up) {
      this.suppressed.set(source, (this.suppressed.get(source) ?? 0) + 1);
      return true;
    }
    void this.check();
    return false;
  }

  /** One probe (concurrent callers share it); true when the database answered. */
  check(): Promise<boolean> {
    this.checking ??= this.runCheck().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async runCheck(): Promise<boolean> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probe(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS))),
      ]);
      this.status.lastCheckMs = Date.now() - started;
      if (!this.status.up) this.recovered();
      return true;
    } catch (error) {
      if (this.stopped) return false;
      this.failedChecks++;
      this.lastReason = (error as Error).message;
      if (this.status.up) this.wentDown();
      else if (Date.now() - this.lastSummaryAt >= (this.options.summaryEveryMs ?? SUMMARY_EVERY_MS)) this.summarise();
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private wentDown(): void {
    const now = Date.now();
    this.status = { up: false, downSince: now };
    this.failedChecks = 1;
    this.suppressed.clear();
    this.lastSummaryAt = now;
    this.logger.error({ reason: this.lastReason }, 'database unreachable: /readyz answers 503 and requests needing it fail with 503 until it is back');
  }

  private summarise(): void {
    this.lastSummaryAt = Date.now();
    this.logger.warn(
      { downForSeconds: Math.round((Date.now() - this.status.downSince!) / 1000), failedChecks: this.failedChecks, quietErrors: Object.fromEntries(this.suppressed), reason: this.lastReason },
      'database still unreachable',
    );
  }

  private recovered(): void {
    const downForSeconds = Math.round((Date.now() - this.status.downSince!) / 1000);
    this.logger.info({ downForSeconds, failedChecks: this.failedChecks, quietErrors: Object.fromEntries(this.suppressed) }, 'database reachable again');
    this.status = { up: true, lastCheckMs: this.status.lastCheckMs };
    this.suppressed.clear();
  }
}
