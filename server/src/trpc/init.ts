import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import type { ApiKeyScope, StaffRole } from '@orders/shared';
import { ZodError } from 'zod';
import { DomainError, fromDatabaseError } from '../errors.js';
import type { Logger } from '../logger.js';
import { roleAtLeast, type Principal } from '../modules/staff/staff.service.js';
import type { Services } from '../services.js';
import type { Actor } from '../modules/audit/audit.service.js';

export interface Context {
  services: Services;
  principal: Principal | undefined;
  logger: Logger;
}

/** The context without any HTTP: what tests pass to `createCaller`. */
export function createContextInner(options: Context): Context {
  return options;
}

function describeZodError(error: ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
}

const t = initTRPC.context<Context>().create({
  // Subscriptions are served as server-sent events (GET, text/event-stream).
  sse: {
    // Pings keep proxies from closing a quiet stream; a client that hears nothing for longer reconnects.
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
    // Streams are cut now and then; EventSource reconnects, and so re-authenticates: a revoked session stops listening.
    maxDurationMs: 30 * 60_000,
  },
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      message: zodError ? describeZodError(zodError) : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        field: error.cause instanceof DomainError ? (error.cause.field ?? null) : (zodError?.issues[0]?.path.join('.') ?? null),
        zodError: zodError ? zodError.flatten() : null,
      },
    };
  },
});

/** Domain and database refusals become the right tRPC code here, once; anything else stays a 500. */
function mapError(error: TRPCError, ctx: Context, path: string): TRPCError {
  const cause = error.cause;
  if (cause instanceof DomainError) return new TRPCError({ code: cause.code, message: cause.message, cause });
  const fromDb = fromDatabaseError(cause);
  if (fromDb) return new TRPCError({ code: fromDb.code, message: fromDb.message, cause: fromDb });
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    ctx.logger.error({ err: cause ?? error, path }, 'procedure failed');
    return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
  }
  return error;
}

/** Streamed results (async generators) fail while they are iterated, after the middleware returned. */
async function* mapStreamErrors<T>(stream: AsyncIterable<T>, ctx: Context, path: string): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (cause) {
    // A cut stream is no error: tRPC then ends the response without a final event, and clients reconnect.
    if ((cause as Error | undefined)?.name === 'AbortError') throw cause;
    throw mapError(getTRPCErrorFromUnknown(cause), ctx, path);
  }
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

const mapErrors = t.middleware(async ({ next, ctx, path }) => {
  const result = await next();
  if (result.ok) return isAsyncIterable(result.data) ? { ...result, data: mapStreamErrors(result.data, ctx, path) } : result;
  const mapped = mapError(result.error, ctx, path);
  if (mapped === result.error) return result;
  throw mapped;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);

/** A service acting for a customer: needs a valid API key carrying `scope`. */
export function serviceProcedure(scope: ApiKeyScope) {
  return publicProcedure.use(({ ctx, next }) => {
    const principal = ctx.principal;
    if (!principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid API key is required' });
    if (principal.kind !== 'service' || !principal.scopes.has(scope)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `the API key lacks the ${scope} scope` });
    }
    const actor: Actor = { type: 'service', id: principal.apiKeyId };
    return next({ ctx: { ...ctx, principal, actor } });
  });
}

/** Back-office staff with at least `role` (viewer < operator < admin). */
export function staffProcedure(role: StaffRole) {
  return publicProcedure.use(({ ctx, next }) => {
    const principal = ctx.principal;
    if (!principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'log in first' });
    if (principal.kind !== 'staff') throw new TRPCError({ code: 'FORBIDDEN', message: 'staff only' });
    if (!roleAtLeast(principal.role, role)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `requires the ${role} role` });
    }
    const actor: Actor = { type: 'staff', id: principal.staffId };
    return next({ ctx: { ...ctx, principal, actor } });
  });
}
