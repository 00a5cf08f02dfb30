import type { FastifyReply, FastifyRequest } from 'fastify';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

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

/** tRPC's code for an HTTP status Fastify answers before tRPC runs (body too large, unreadable, throttled). */
export function trpcCodeOfStatus(status: number): TRPC_ERROR_CODE_KEY {
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'TOO_MANY_REQUESTS';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'INTERNAL_SERVER_ERROR';
  return 'BAD_REQUEST';
}

/**
 * A refusal of a tRPC request made before tRPC reads it, in tRPC's error shape (the one trpc/init.ts's
 * errorFormatter writes): one error, or one per call of a batch. A plain `{ error: "…" }` reached typed
 * clients as "Unable to transform response from server", with no code (found from outside: a 3 MB input).
 */
export function sendTrpcError(request: FastifyRequest, reply: FastifyReply, status: number, code: TRPC_ERROR_CODE_KEY, message: string) {
  const procedures = calledProcedures(request);
  const error = (path: string | undefined) => ({
    error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status, path: path ?? null, field: null, zodError: null } },
  });
  const isBatch = new URLSearchParams(request.url.split('?')[1] ?? '').get('batch') === '1';
  return reply.status(status).send(isBatch ? (procedures.length ? procedures : [undefined]).map(error) : error(procedures[0]));
}
