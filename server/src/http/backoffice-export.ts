import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { backoffice } from '@orders/shared';
import { asDomainError, httpStatusOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { bearer } from './app.js';
import { sessionCookieOf } from './session-cookie.js';

type Query = Record<string, string | string[] | undefined>;

/**
 * A query string carries every value as text (a repeated key as an array): shaped here for the
 * shared schema, which then validates it exactly as `backoffice.orders.exportCsv` does. Empty values
 * count as absent, as an HTML form would send them.
 */
function exportInputFrom(query: Query): unknown {
  const shaped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    if (key === 'status' || key === 'ids') shaped[key] = [value].flat().flatMap((s) => s.split(',')).filter(Boolean);
    else if ((key === 'amountMin' || key === 'amountMax') && typeof value === 'string' && /^\d{1,15}$/.test(value)) shaped[key] = Number(value);
    else shaped[key] = value;
  }
  return shaped;
}

function problem(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.status(status).header('cache-control', 'no-store').send({ error: { code, message } });
}

/**
 * `GET /backoffice/api/orders.csv?<filter>` (with `ids=a,b,…` for the list's selection, at most
 * MAX_SELECTED_ORDERS): the same COPY stream as `backoffice.orders.exportCsv` (bytes, undecoded), as a
 * plain download: the browser build's link to it carries the session cookie, and the browser writes
 * the file as it streams (`Authorization: Bearer <staff token>` works too).
 */
export async function registerBackofficeExport(app: FastifyInstance, services: Services, logger: Logger): Promise<void> {
  app.get('/backoffice/api/orders.csv', async (request, reply) => {
    // GET: the cookie needs no CSRF header (an export changes nothing).
    const token = bearer(request.headers.authorization) ?? sessionCookieOf(request.headers.cookie);
    const principal = token ? await services.staff.authenticate(token) : undefined;
    if (!principal) {
      reply.header('www-authenticate', 'Bearer');
      return problem(reply, 401, 'UNAUTHORIZED', 'log in first: send Authorization: Bearer <staff session token>');
    }
    if (principal.kind !== 'staff') return problem(reply, 403, 'FORBIDDEN', 'staff only');
    const parsed = backoffice.orderExportInput.safeParse(exportInputFrom(request.query as Query));
    if (!parsed.success) {
      return problem(reply, 400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
    }
    const chunks = services.backoffice.exportCsvBytes(parsed.data);
    // The first chunk (header and first batch) comes before the status line: a query that fails, fails as an answer.
    let first: IteratorResult<Buffer, void>;
    try {
      first = await chunks.next();
    } catch (error) {
      const refusal = asDomainError(error);
      if (refusal) return problem(reply, httpStatusOf(refusal.code), refusal.code, refusal.message);
      logger.error({ err: error }, 'CSV export failed');
      return problem(reply, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
    }
    const body = Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* chunks;
      })(),
    );
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="orders-${stamp}.csv"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
}
