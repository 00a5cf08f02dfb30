import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface RateLimitSettings {
  /** auth.login calls per client address per minute; 0 turns the limit off. */
  loginPerMinute: number;
  /** PayPal notification posts per client address per minute, IPN and webhooks counted apart; 0 turns the limit off. */
  ipnPerMinute: number;
}

/** The route the tRPC adapter registers (`${prefix}/:path`); its handler passes `params.path` to tRPC as is. */
const TRPC_ROUTE = '/trpc/:path';

/**
 * The procedure names a request calls, read the way tRPC reads them. Fastify's router matches the
 * route and percent-decodes the `:path` parameter once; tRPC's resolveResponse then decodes it once
 * more (`decodeURIComponent`, pathSeparator '.'), so `auth%2Elogin` and `auth%252Elogin` both run
 * auth.login. A batch names one procedure per comma. Every comma-separated name counts, batch or
 * not: counting a name tRPC will not run is harmless, missing one it runs is not.
 */
export function calledProcedures(request: FastifyRequest): string[] {
  if (request.routeOptions.url !== TRPC_ROUTE) return [];
  const param = (request.params as { path?: unknown }).path;
  if (typeof param !== 'string') return [];
  let path: string;
  try {
    path = decodeURIComponent(param);
  } catch {
    // tRPC refuses a malformed escape with BAD_REQUEST before resolving anything.
    return [];
  }
  return path.split(',');
}

const postTo = (route: string) => (request: FastifyRequest) => (request.method === 'POST' && request.routeOptions.url === route ? 1 : 0);

/**
 * Password guessing and notification floods are limited per client address, before the body is read.
 * Each limit is keyed on the route Fastify matched (after decoding), never on the raw URL, and a login
 * counts once per `auth.login` call, so a batch of fifty counts fifty. A refused login answers in
 * tRPC's error shape (one error per call for a batch), so typed clients see TOO_MANY_REQUESTS.
 * The per-account lock (failed logins for one email, from any address) is in StaffService.login.
 */
export async function registerRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(rateLimit, { global: false });
  const limits = [
    {
      // The browser build's cookie login (session-cookie.ts) shares the budget.
      calls: (req: FastifyRequest) => calledProcedures(req).filter((p) => p === 'auth.login').length + postTo('/backoffice/api/session')(req),
      perMinute: settings.loginPerMinute,
      name: 'login',
    },
    { calls: postTo('/paypal/ipn'), perMinute: settings.ipnPerMinute, name: 'ipn' },
    { calls: postTo('/paypal/webhook'), perMinute: settings.ipnPerMinute, name: 'webhook' },
  ]
    .filter((limit) => limit.perMinute > 0)
    .map((limit) => ({ ...limit, check: app.createRateLimit({ max: limit.perMinute, timeWindow: 60_000, keyGenerator: (req) => `${limit.name}:${req.ip}` }) }));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    for (const limit of limits) {
      const calls = limit.calls(request);
      let refusedFor: number | undefined;
      for (let i = 0; i < calls; i++) {
        const verdict = await limit.check(request);
        // `isAllowed` means "on the allow list"; the count is in `isExceeded`.
        if (!verdict.isAllowed && verdict.isExceeded) refusedFor = verdict.ttlInSeconds;
      }
      if (refusedFor === undefined) continue;
      reply.header('retry-after', String(refusedFor));
      if (limit.name !== 'login') return reply.status(429).send();
      const error = {
        error: {
          message: `too many login attempts; try again in ${refusedFor} s`,
          code: -32029,
          data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'auth.login' },
        },
      };
      const isBatch = new URLSearchParams(request.url.split('?')[1] ?? '').get('batch') === '1';
      return reply.status(429).send(isBatch ? calledProcedures(request).map(() => error) : error);
    }
  });
}
