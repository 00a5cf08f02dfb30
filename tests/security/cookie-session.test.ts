import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { pendingOrder } from '../support/paypal-server.ts';

/*
 * The browser build's cookie session over real HTTP. Not yet here: the Chromium half (document.cookie
 * and Web Storage without the token, a second tab logged in through the built /backoffice app).
 */
let env: BackofficeTestEnv;
beforeAll(async () => {
  env = await startBackofficeEnv();
});
afterAll(() => env.close());

const sessionUrl = () => `${env.server.url}/backoffice/api/session`;

async function cookieLogin(): Promise<{ cookie: string; setCookie: string; body: Record<string, unknown> }> {
  const response = await fetch(sessionUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-orders-csrf': '1' },
    body: JSON.stringify(ADMIN),
  });
  expect(response.status).toBe(200);
  const setCookie = response.headers.get('set-cookie')!;
  return { setCookie, cookie: setCookie.split(';')[0]!, body: (await response.json()) as Record<string, unknown> };
}

const me = (cookie: string) => fetch(`${env.server.url}/trpc/auth.me`, { headers: { cookie } });

describe('cookie session', () => {
  it('is httpOnly, SameSite=Strict, Path=/, not Secure over http, and the answer carries no token', async () => {
    const { setCookie, cookie, body } = await cookieLogin();
    expect(setCookie).toMatch(/^orders_session=[A-Za-z0-9_-]+;/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; Max-Age=\d+/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(JSON.stringify(body)).not.toContain(cookie.split('=')[1]!);
    expect(body).toMatchObject({ staff: { email: ADMIN.email, role: 'admin' } });
  });

  it('is one session for every tab: another request with the same cookie is logged in (queries, CSV export)', async () => {
    const { cookie } = await cookieLogin();
    const answer = await me(cookie);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(await answer.json())).toContain(ADMIN.email);
    expect((await fetch(`${env.server.url}/backoffice/api/orders.csv`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a cookie-authenticated write without the CSRF header (what a cross-site form sends), and changes nothing', async () => {
    const { cookie } = await cookieLogin();
    const { customer, order } = await pendingOrder(env.client);
    const forged = await fetch(`${env.server.url}/trpc/backoffice.orders.cancel`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ orderId: order.id, reason: 'cross-site' }),
    });
    expect(forged.status).toBe(403);
    expect((await env.client.orders.get.query({ customer, orderId: order.id })).status).toBe('pending');
    // A form post to log out, or to log in, is refused the same way.
    expect((await fetch(sessionUrl(), { method: 'DELETE', headers: { cookie } })).status).toBe(403);
    expect((await me(cookie)).status).toBe(200);
    // With the header (only same-origin script can set it without a CORS preflight this server never grants) it goes through.
    const sameSite = await fetch(`${env.server.url}/trpc/backoffice.orders.cancel`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-orders-csrf': '1' },
      body: JSON.stringify({ orderId: order.id, reason: 'same-site' }),
    });
    expect(sameSite.status).toBe(200);
  });

  it('logout revokes the session server-side and clears the cookie', async () => {
    const { cookie } = await cookieLogin();
    const out = await fetch(sessionUrl(), { method: 'DELETE', headers: { cookie, 'x-orders-csrf': '1' } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^orders_session=; .*Max-Age=0/);
    // The old cookie value no longer works anywhere, even if a tab kept it.
    expect((await me(cookie)).status).toBe(401);
    expect((await fetch(`${env.server.url}/backoffice/api/orders.csv`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses bad credentials and bad input without setting a cookie', async () => {
    const wrong = await fetch(sessionUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-orders-csrf': '1' },
      body: JSON.stringify({ email: ADMIN.email, password: 'wrong password' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const bad = await fetch(sessionUrl(), { method: 'POST', headers: { 'content-type': 'application/json', 'x-orders-csrf': '1' }, body: JSON.stringify({ email: 'x' }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('set-cookie')).toBeNull();
  });
});
