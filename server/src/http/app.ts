import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import { asDomainError, fromDatabaseError, httpStatusOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { appRouter, type AppRouter } from '../trpc/root.js';
import { createContextInner } from '../trpc/init.js';
import { registerRateLimits, type RateLimitSettings } from './rate-limits.js';
import { calledProcedures, sendTrpcError, trpcCodeOfStatus } from './trpc-error-reply.js';
import { CSRF_HEADER, csrfSafe, sessionCookieOf } from './session-cookie.js';

export interface HttpAppOptions {
  services: Services;
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  rateLimits?: RateLimitSettings;
}

/** Calls one HTTP request may batch; the shared client splits larger batches itself. */
export const MAX_BATCH_SIZE = 50;

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S{1,512})$/i.exec(header ?? '');
  return match?.[1];
}

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request lines only at debug: the interesting events are logged by the services.
    loggerInstance: options.logger.child({ component: 'http' }, { level: options.logger.level === 'debug' ? 'debug' : 'warn' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Deep JSON must not be able to pollute prototypes.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // A tRPC batch names its procedures in the path (/trpc/a,b,c): the default 100 characters refused
    // a batch of ten with 414. MAX_BATCH_SIZE below bounds what one request may carry.
    routerOptions: { maxParamLength: 4096 },
  });

  // A refusal (ours or the database's: bad input, unreachable) answers its status as tRPC would,
  // untold (an outage is logged once by the database watch). A 5xx never shows its cause (driver
  // messages carry addresses); it is logged instead.
  // On a tRPC route (a body too large or unreadable, refused before tRPC reads it), in tRPC's own shape.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const trpc = calledProcedures(request).length > 0;
    const refusal = asDomainError(error);
    if (refusal) {
      const status = httpStatusOf(refusal.code);
      return trpc ? sendTrpcError(request, reply, status, refusal.code, refusal.message) : reply.status(status).send({ error: refusal.message });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message = status >= 500 ? 'internal error' : error.message;
    return trpc ? sendTrpcError(request, reply, status, trpcCodeOfStatus(status), message) : reply.status(status).send({ error: message });
  });

  await registerRateLimits(app, options.rateLimits ?? { loginPerMinute: 20, ipnPerMinute: 3000 });

  // /healthz, /readyz and /metrics: http/health.ts, registered by server.ts.

  // Browsers ask every origin for an icon; the pages served here (demo shop, PayPal's pages) have
  // none, and a 404 was an error in the console of each. No content, and no need to ask for a day.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: async ({ req, info }) => {
        // A browser's EventSource cannot send headers: its subscription passes the token as a connection param.
        const param = info.connectionParams?.token;
        const explicit = bearer(req.headers.authorization) ?? (param && /^\S{1,512}$/.test(param) ? param : undefined);
        // The browser build's httpOnly session cookie (session-cookie.ts); a mutation with it needs the CSRF header.
        const fromCookie = explicit ? undefined : sessionCookieOf(req.headers.cookie);
        if (fromCookie && !csrfSafe(req)) throw new TRPCError({ code: 'FORBIDDEN', message: `a cookie session must send ${CSRF_HEADER}: 1` });
        const token = explicit ?? fromCookie;
        // Authentication runs before any procedure middleware, so a database outage is mapped here.
        const principal = token
          ? await options.services.staff.authenticate(token).catch((error: unknown) => {
              const mapped = fromDatabaseError(error);
              throw mapped?.code === 'SERVICE_UNAVAILABLE' ? new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: mapped.message }) : error;
            })
          : undefined;
        return createContextInner({ services: options.services, principal, logger: options.logger });
      },
      // Every answer is one caller's data as it is now (orders, payers' emails): no cache keeps it, not
      // even the browser's, which otherwise served a page's GETs from its cache after the Back button.
      responseMeta: () => ({ headers: { 'cache-control': 'no-store' } }),
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') options.logger.error({ path, err: error.cause ?? error }, 'trpc error');
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  return app;
}
