/**
 * Domain errors carry the tRPC code they map to, so services stay transport-agnostic. The mapping to
 * transports lives here once: tRPC answers with the code itself (trpc/init.ts), plain HTTP routes
 * with `httpStatusOf` (the status tRPC gives the same code).
 */
export type DomainErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_MANY_REQUESTS'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The HTTP status of each code: the one tRPC answers with for it (errors.test.ts checks they agree). */
const HTTP_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  TOO_MANY_REQUESTS: 429,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<DomainErrorCode, number>;

export function httpStatusOf(code: DomainErrorCode): number {
  return HTTP_STATUS[code];
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, field?: string) => new DomainError('CONFLICT', message, field);
export const badRequest = (message: string, field?: string) => new DomainError('BAD_REQUEST', message, field);

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

/**
 * The database cannot serve us right now, and a retry may succeed: unreachable, going away or not
 * accepting connections (08, 57P01–57P03, 55000 "not currently accepting connections", 3D000 when
 * the database is gone), out of connections or resources (53), refusing our credentials (28).
 * Not 57014: a statement cancelled by its own timeout is the caller's to handle.
 */
function databaseUnavailable(code: string | undefined, message: string | undefined): boolean {
  // node-postgres' own words for a connection it lost or never got (no SQLSTATE).
  if (/Connection terminated|connection timeout|Client has encountered a connection error/i.test(message ?? '')) return true;
  if (!code) return false;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) return true;
  if (code === '55000') return /not currently accepting connections/i.test(message ?? '');
  return /^(08|53|28)/.test(code) || ['57P01', '57P02', '57P03', '3D000'].includes(code);
}

/** PostgreSQL refusals that mean "the state forbids this", not "the server broke". */
export function fromDatabaseError(error: unknown): DomainError | undefined {
  const pg = error as PgError;
  const cause = (error as { cause?: PgError } | undefined)?.cause;
  const code = pg?.code ?? cause?.code;
  const constraint = pg?.constraint ?? cause?.constraint;
  switch (code) {
    case '23505':
      return conflict(`already exists (${constraint ?? 'unique constraint'})`);
    case '23514':
      return conflict(`not allowed by ${constraint ?? 'a check constraint'}`);
    case '23503':
      return conflict(`refers to something that does not exist (${constraint ?? 'foreign key'})`);
    case '22P02': // invalid text representation
    case '22003': // numeric value out of range
    case '22021': // invalid byte sequence (NUL in text)
    case '22007': // invalid datetime format
    case '22008': // datetime field overflow
      return badRequest('invalid value');
    default:
      if (/timeout exceeded when trying to connect/i.test(pg?.message ?? cause?.message ?? '')) {
        // pg-pool's words when no pooled connection came free within DATABASE_POOL_WAIT_SECONDS.
        return new DomainError('SERVICE_UNAVAILABLE', 'the server is busy: no database connection came free in time; try again');
      }
      if (databaseUnavailable(code, pg?.message ?? cause?.message)) {
        return new DomainError('SERVICE_UNAVAILABLE', 'the database is unavailable; try again');
      }
      return undefined;
  }
}

/** A refusal, ours or the database's, for anything thrown; undefined when something really broke. */
export function asDomainError(error: unknown): DomainError | undefined {
  return error instanceof DomainError ? error : fromDatabaseError(error);
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pg = error as PgError;
  const cause = (error as { cause?: PgError } | undefined)?.cause;
  const code = pg?.code ?? cause?.code;
  const name = pg?.constraint ?? cause?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
