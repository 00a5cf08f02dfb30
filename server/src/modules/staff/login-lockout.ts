export interface LoginLockoutSettings {
  /** Failed logins for one email within `windowMs` that lock it; 0 turns locking off. */
  failuresBeforeLock: number;
  /** How far back failures count, and how long a lock lasts. */
  windowMs: number;
}

export const DEFAULT_LOGIN_LOCKOUT: LoginLockoutSettings = { failuresBeforeLock: 10, windowMs: 15 * 60_000 };

/** Emails tracked at most; beyond it the oldest entries are forgotten (a flood of made-up emails must not grow memory). */
const MAX_TRACKED = 10_000;

interface Tracked {
  failures: number[];
  /** Password checks under way: parallel guesses must not all slip in before the first failure counts. */
  inFlight: number;
  lockedUntil: number;
}

/**
 * Failed logins per email, so guessing one account's password from many addresses is stopped too.
 * Unknown emails are counted and locked exactly like known ones: a lock must not reveal whether an
 * account exists. Counts are kept per server instance (N instances allow N times the failures).
 */
export class LoginLockout {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly settings: LoginLockoutSettings = DEFAULT_LOGIN_LOCKOUT,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Before a password check: whether it may run. Refused while the email is locked, or while the
   * checks already under way could use up its remaining failures. Every `true` must be followed by
   * `recordFailure` or `recordSuccess`.
   */
  begin(email: string): { allowed: true } | { allowed: false; lockedUntil: Date | undefined } {
    if (this.settings.failuresBeforeLock <= 0) return { allowed: true };
    const now = this.now();
    const entry = this.touch(email);
    if (entry.lockedUntil > now) return { allowed: false, lockedUntil: new Date(entry.lockedUntil) };
    entry.failures = entry.failures.filter((at) => at > now - this.settings.windowMs);
    if (entry.failures.length + entry.inFlight >= this.settings.failuresBeforeLock) return { allowed: false, lockedUntil: undefined };
    entry.inFlight += 1;
    return { allowed: true };
  }

  /** Counts a failure; returns the lock's end when this failure locked the email. */
  recordFailure(email: string): { lockedUntil: Date; failures: number } | undefined {
    if (this.settings.failuresBeforeLock <= 0) return undefined;
    const now = this.now();
    const entry = this.touch(email);
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    entry.failures.push(now);
    if (entry.lockedUntil <= now && entry.failures.length >= this.settings.failuresBeforeLock) {
      entry.lockedUntil = now + this.settings.windowMs;
      const failures = entry.failures.length;
      entry.failures = [];
      return { lockedUntil: new Date(entry.lockedUntil), failures };
    }
    return undefined;
  }

  /** A check that could not finish (the database failed): it counts neither way. */
  abandon(email: string): void {
    const entry = this.tracked.get(email);
    if (entry) entry.inFlight = Math.max(0, entry.inFlight - 1);
  }

  recordSuccess(email: string): void {
    const entry = this.tracked.get(email);
    if (!entry) return;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    entry.failures = [];
    if (entry.inFlight === 0) this.tracked.delete(email);
  }

  /** The entry for `email`, moved to the newest end so the map stays ordered by last activity. */
  private touch(email: string): Tracked {
    const entry = this.tracked.get(email) ?? { failures: [], inFlight: 0, lockedUntil: 0 };
    this.tracked.delete(email);
    this.tracked.set(email, entry);
    if (this.tracked.size > MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value!);
    return entry;
  }
}
