import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface RateLimitSettings {
  /** auth.login attempts per client address per minute; 0 turns the limit off. */
  loginPerMinute: number;
  /** PayPal notification posts per client address per minute, IPN and webhooks counted apart; 0 turns the limit off. */
  ipnPerMinute: number;
}

function isLogin(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.url.startsWith('/trpc/') && request.url.split('?')[0]!.split(',').some((p) => p.endsWith('auth.login'));
}

const isPost = (path: string) => (request: FastifyRequest) => request.method === 'POST' && request.url.split('?')[0] === path;

/**
 * Password guessing and notification floods are limited per client address, before the body is read.
 * A refused login answers in tRPC's error shape, so typed clients see TOO_MANY_REQUESTS.
 */
export async function registerRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(rateLimit, { global: false });
  const limits = [
    { applies: isLogin, perMinute: settings.loginPerMinute, name: 'login' },
    { applies: isPost('/paypal/ipn'), perMinute: settings.ipnPerMinute, name: 'ipn' },
    { applies: isPost('/paypal/webhook'), perMinute: settings.ipnPerMinute, name: 'webhook' },
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
    if (limit.name !== 'login') return reply.status(429).send();
    return reply.status(429).send({
      error: {
        message: `too many login attempts; try again in ${verdict.ttlInSeconds} s`,
        code: -32029,
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'auth.login' },
      },
    });
  });
}
