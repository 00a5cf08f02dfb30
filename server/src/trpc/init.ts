import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import type { ApiKeyScope, StaffRole } from '@orders/shared';
import { ZodError } from 'zod';
import { asDomainError, DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import { roleAtLeast, type Principal } from '../modules/staff/staff.service.js';
import type { Services } from '../services.js';
import type { Actor } from '../modules/audit/audit.service.js';
import { recordSettleCall } from './settle-audit.js';

export interface Context {
  services: Services;
  principal: Principal | undefined;
  logger: Logger;
}

/**
 * The context as AppRouter's type states it. Other services compile against AppRouter (in the
 * bundled declarations of @orders/shared), so it names nothing of the server's: no MikroORM, pg or
 * pino reaches them. Procedures see the whole `Context` (mapErrors below passes it on).
 */
export type RouterContext = object;

/** The context without any HTTP: what tests pass to `createCaller`. */
export function createContextInner(options: Context): Context {
  return options;
}

function describeZodError(error: ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
}

const t = initTRPC.context<RouterContext>().create({
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
  const refusal = asDomainError(cause);
  if (refusal) return new TRPCError({ code: refusal.code, message: refusal.message, cause: refusal });
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

/** How often a live stream checks that its session still works (logout, expiry, member disabled). */
export const SESSION_CHECK_INTERVAL_MS = 2_000;

const NEVER_ENDS = new AbortController().signal;

interface SessionWatch {
  /** Aborts once the session no longer works. */
  signal: AbortSignal;
  stop(): void;
}

function watchSession(staff: Services['staff'], sessionId: string, logger: Logger): SessionWatch {
  const ended = new AbortController();
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    staff
      .sessionActive(sessionId)
      .then((active) => {
        if (!active) ended.abort();
      })
      // A database hiccup is no logout: the next tick asks again.
      .catch((err: unknown) => logger.debug({ err }, 'session check failed'))
      .finally(() => (checking = false));
  }, SESSION_CHECK_INTERVAL_MS);
  timer.unref();
  const stop = () => clearInterval(timer);
  ended.signal.addEventListener('abort', stop, { once: true });
  return { signal: ended.signal, stop };
}

/**
 * Passes a stream through until its session ends, then fails it with UNAUTHORIZED (a client must
 * log in again, not resubscribe). The next item is raced against the session's end, so a quiet
 * stream ends too; the resolver gets the same signal as `ctx.sessionEnded` to release what it holds.
 */
async function* endWithSession<T>(stream: AsyncIterable<T>, watch: SessionWatch): AsyncGenerator<T> {
  const iterator = stream[Symbol.asyncIterator]();
  const sessionEnded = new Promise<'ended'>((resolve) => {
    if (watch.signal.aborted) resolve('ended');
    else watch.signal.addEventListener('abort', () => resolve('ended'), { once: true });
  });
  let finished = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), sessionEnded]);
      if (next !== 'ended' && next.done) finished = true;
      // The resolver may see the same signal first and end its stream: still a session end, not a completion.
      if (next === 'ended' || (next.done && watch.signal.aborted)) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'the session ended; log in again' });
      if (next.done) return;
      yield next.value;
    }
  } finally {
    watch.stop();
    // Not awaited: a generator busy waiting gives up when its signal (ctx.sessionEnded or the request's) aborts.
    if (!finished) void iterator.return?.(undefined)?.catch(() => {});
  }
}

const mapErrors = t.middleware(async ({ next, ctx: adapterContext, path }) => {
  // What the adapter made with createContextInner.
  const ctx = adapterContext as Context;
  const result = await next({ ctx });
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
    // A staff session is no API key: told as such, not as a key missing a scope.
    if (principal.kind !== 'service') throw new TRPCError({ code: 'FORBIDDEN', message: `services only: a staff login cannot call this; use an API key with the ${scope} scope` });
    if (!principal.scopes.has(scope)) throw new TRPCError({ code: 'FORBIDDEN', message: `the API key lacks the ${scope} scope` });
    const actor: Actor = { type: 'service', id: principal.apiKeyId };
    return next({ ctx: { ...ctx, principal, actor } });
  });
}

/**
 * Calls that assert money was taken (`payments:settle`). Each one that changes something is audited
 * with the key's name; a refused call or an idempotent repeat (`changed: false`) changes nothing,
 * not even the audit trail.
 */
export function settleProcedure() {
  return serviceProcedure('payments:settle').use(async ({ ctx, next, path, getRawInput }) => {
    const result = await next();
    if (!result.ok || (result.data as { changed?: unknown } | undefined)?.changed === false) return result;
    try {
      const rawInput = await getRawInput().catch(() => undefined);
      await recordSettleCall(ctx.services.orm, { apiKeyId: ctx.principal.apiKeyId, apiKeyName: ctx.principal.name, path, rawInput });
    } catch (err) {
      // The call itself already happened; its own transition audit (actor = the key id) still stands.
      ctx.logger.error({ err, path, apiKeyId: ctx.principal.apiKeyId }, 'settle call could not be audited');
    }
    return result;
  });
}

/** Back-office staff with at least `role` (viewer < operator < admin). */
export function staffProcedure(role: StaffRole) {
  return publicProcedure.use(async ({ ctx, next, type }) => {
    const principal = ctx.principal;
    if (!principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'log in first' });
    if (principal.kind !== 'staff') throw new TRPCError({ code: 'FORBIDDEN', message: 'staff only' });
    if (!roleAtLeast(principal.role, role)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `requires the ${role} role` });
    }
    const actor: Actor = { type: 'staff', id: principal.staffId };
    if (type !== 'subscription') return next({ ctx: { ...ctx, principal, actor, sessionEnded: NEVER_ENDS } });
    // A stream is authenticated once, when it opens: it is watched so it ends with its session.
    const watch = watchSession(ctx.services.staff, principal.sessionId, ctx.logger);
    const result = await next({ ctx: { ...ctx, principal, actor, sessionEnded: watch.signal } });
    if (!result.ok || !isAsyncIterable(result.data)) {
      watch.stop();
      return result;
    }
    return { ...result, data: endWithSession(result.data, watch) };
  });
}
