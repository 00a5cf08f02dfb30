/*
 * What callers of the embedded PostgreSQL launcher need without loading it: the handle and event
 * types, and the errors `main.ts` turns into one line. The launcher itself (embedded-postgres.ts) is
 * imported only when the server runs without DATABASE_URL.
 */

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's pid (changes when it is restarted after a crash). */
  readonly pid: number;
  /**
   * Stops PostgreSQL: a fast shutdown (open sessions are terminated), then an immediate one. `smart`
   * (the server's own orderly stop, its pools already closed) first lets closing sessions leave.
   */
  stop(mode?: 'fast' | 'smart'): Promise<void>;
}

/** What a watched cluster reports when its PostgreSQL exits without being asked to. */
export type EmbeddedPostgresEvent =
  | { kind: 'orphan-stopped'; pid: number }
  | { kind: 'exited'; code: number | null; signal: string | null }
  | { kind: 'restarting'; attempt: number; of: number; delayMs: number; reason?: string }
  | { kind: 'restarted'; afterMs: number; pid: number }
  | { kind: 'gave-up'; attempts: number; reason: string };

export class AlreadyRunningError extends Error {
  constructor(dataDir: string, pid: number | undefined) {
    super(`Another Orders server${pid ? ` (pid ${pid})` : ''} is already using ${dataDir}. Stop it first, or set DATABASE_URL.`);
    this.name = 'AlreadyRunningError';
  }
}

/** The embedded PostgreSQL cannot run here; the message says why and what to do, in one sentence. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}
