import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { calledProcedures, sendTrpcError } from './trpc-error-reply.js';

export interface RateLimitSettings {
  /** auth.login calls per client address per minute; 0 turns the limit off. */
  loginPerMinute: number;
  /** PayPal notification posts per client address per minute, IPN and webhooks counted apart; 0 turns the limit off. */
  ipnPerMinute: number;
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
      return sendTrpcError(request, reply, 429, 'TOO_MANY_REQUESTS', `too many login attempts; try again in ${refusedFor} s`);
    }
  });
}
