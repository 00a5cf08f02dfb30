import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface RateLimitSettings {
  /** auth.login attempts per client address per minute; 0 turns the limit off. */
  loginPerMinute: number;
  /** IPN posts per client address per minute; 0 turns the limit off. */
  ipnPerMinute: number;
}

function isLogin(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.url.startsWith('/trpc/') && request.url.split('?')[0]!.split(',').some((p) => p.endsWith('auth.login'));
}

function isIpn(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.url.split('?')[0] === '/paypal/ipn';
}

/**
 * Password guessing and IPN floods are limited per client address, before the body is read.
 * A refused login answers in tRPC's error shape, so typed clients see TOO_MANY_REQUESTS.
 */
export async function registerRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(rateLimit, { global: false });
  const limits = [
    { applies: isLogin, perMinute: settings.loginPerMinute, name: 'login' },
    { applies: isIpn, perMinute: settings.ipnPerMinute, name: 'ipn' },
  ]
    .filter((limit) => limit.perMinute > 0)
    .map((limit) => ({ ...limit, check: app.createRateLimit({ max: limit.perMinute, timeWindow: 60_000, keyGenerator: (req) => `${limit.name}:${req.ip}` }) }));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = limits.find((l) => l.applies(request));
    if (!limit) return;
    const verdict = await limit.check(request);
    // `isAllowed` means "on the allow list"; the count is in `isExceeded`.
    if (verdict.isAllowed || !verdict.isExceeded) return;
    reply.header('retry-after', String(verdict.ttlInSeconds));
    if (limit.name === 'ipn') return reply.status(429).send();
    return reply.status(429).send({
      error: {
        message: `too many login attempts; try again in ${verdict.ttlInSeconds} s`,
        code: -32029,
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'auth.login' },
      },
    });
  });
}
