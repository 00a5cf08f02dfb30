import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { schemas } from '@orders/shared';
import { asDomainError, httpStatusOf } from '../errors.js';
import type { Services } from '../services.js';

/*
 * The browser build's session: one httpOnly cookie, so every tab of the back office shares the login
 * and no page script can read the token (Electron keeps its token in the main process and sends it
 * as a bearer header, as other callers do).
 *
 * CSRF: the cookie is SameSite=Strict, so a cross-site page cannot make the browser send it at all.
 * As a second, independent guard every request authenticated by the cookie that is not a GET must
 * carry `x-orders-csrf: 1`: a cross-site form cannot set a custom header, and a cross-site fetch that
 * sets one needs a CORS preflight, which this server never grants. GETs change nothing (tRPC queries
 * and subscriptions, the CSV export).
 */

export const SESSION_COOKIE = 'orders_session';
export const CSRF_HEADER = 'x-orders-csrf';

/** The session token from the Cookie header, if it carries ours. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{1,512}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/** Whether a cookie-authenticated request may act: reads always, anything else only with the custom header. */
export function csrfSafe(request: Pick<FastifyRequest, 'method' | 'headers'>): boolean {
  return request.method === 'GET' || request.method === 'HEAD' || request.headers[CSRF_HEADER] === '1';
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

function problem(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.status(status).header('cache-control', 'no-store').send({ error: { code, message } });
}

/** A refusal (ours or the database's) in the session routes' shape; anything else goes on to the app's handler. */
function refusalOf(reply: FastifyReply, error: unknown) {
  const refusal = asDomainError(error);
  if (refusal) return problem(reply, httpStatusOf(refusal.code), refusal.code, refusal.message);
  throw error;
}

/**
 * `POST /backoffice/api/session` ({ email, password }) logs in and sets the cookie; the answer is the
 * staff member and expiry, never the token. `DELETE /backoffice/api/session` revokes the session (its
 * live streams end within a session check) and clears the cookie. `GET /backoffice/api/session` is the
 * browser build's "who am I" at start-up: `{ staff: null }` when the cookie names no live staff session,
 * an answer rather than a 401, which the browser would log in the console of every signed-out tab.
 */
export async function registerSessionRoutes(app: FastifyInstance, services: Services, options: { secure: () => boolean }): Promise<void> {
  /** The live staff session the request's cookie names, if any (an API key is no session). */
  const cookieSession = async (request: FastifyRequest) => {
    const token = sessionCookieOf(request.headers.cookie);
    const principal = token ? await services.staff.authenticate(token) : undefined;
    return principal?.kind === 'staff' ? principal : undefined;
  };

  app.get('/backoffice/api/session', async (request, reply) => {
    try {
      const session = await cookieSession(request);
      const staff = session ? { id: session.staffId, email: session.email, role: session.role } : null;
      return reply.header('cache-control', 'no-store').send({ staff });
    } catch (error) {
      return refusalOf(reply, error);
    }
  });

  app.post('/backoffice/api/session', async (request, reply) => {
    if (!csrfSafe(request)) return problem(reply, 403, 'FORBIDDEN', `send ${CSRF_HEADER}: 1`);
    const parsed = schemas.loginInput.safeParse(request.body);
    if (!parsed.success) {
      return problem(reply, 400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    try {
      const { token, expiresAt, staff } = await services.staff.login(parsed.data.email, parsed.data.password);
      const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
      return reply
        .header('set-cookie', cookie(token, maxAge, options.secure()))
        .header('cache-control', 'no-store')
        .send({ expiresAt: expiresAt.toISOString(), staff });
    } catch (error) {
      return refusalOf(reply, error);
    }
  });

  app.delete('/backoffice/api/session', async (request, reply) => {
    if (!csrfSafe(request)) return problem(reply, 403, 'FORBIDDEN', `send ${CSRF_HEADER}: 1`);
    const session = await cookieSession(request);
    if (session) await services.staff.logout(session.sessionId);
    return reply.header('set-cookie', cookie('', 0, options.secure())).header('cache-control', 'no-store').status(204).send();
  });
}
