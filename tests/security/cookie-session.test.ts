import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hashSecret } from '@orders/server/modules/staff/credentials.ts';
import { ADMIN, startBackofficeEnv, type BackofficeTestEnv } from '../support/backoffice.ts';
import { pendingOrder, SERVICE_KEY } from '../support/paypal-server.ts';
import { submitLogin, useChromiumSuite } from '../e2e/support.ts';
import { openSse } from '../support/sse.ts';

/*
 * The browser build's cookie session: over real HTTP (flags, CSRF, logout), then in Chromium through
 * the built /backoffice app (the token never reachable from page script, a second tab logged in).
 */
const suite = useChromiumSuite(() => startBackofficeEnv(), { webBuild: true });
let env: BackofficeTestEnv;
const ready = () => (env ??= suite.env);

const sessionUrl = () => `${ready().server.url}/backoffice/api/session`;

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

const me = (cookie: string) => fetch(`${ready().server.url}/trpc/auth.me`, { headers: { cookie } });

/** The browser build's "who am I": its status, cache-control and body. */
async function whoAmI(cookie?: string): Promise<{ status: number; cacheControl: string | null; body: unknown }> {
  const response = await fetch(sessionUrl(), { headers: cookie ? { cookie } : {} });
  return { status: response.status, cacheControl: response.headers.get('cache-control'), body: await response.json() };
}
const nobody = { status: 200, cacheControl: 'no-store', body: { staff: null } };

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
    expect((await fetch(`${ready().server.url}/backoffice/api/orders.csv`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a cookie-authenticated write without the CSRF header (what a cross-site form sends), and changes nothing', async () => {
    const { cookie } = await cookieLogin();
    const { customer, order } = await pendingOrder(ready().client);
    const forged = await fetch(`${ready().server.url}/trpc/backoffice.orders.cancel`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ orderId: order.id, reason: 'cross-site' }),
    });
    expect(forged.status).toBe(403);
    expect((await ready().client.orders.get.query({ customer, orderId: order.id })).status).toBe('pending');
    // A form post to log out, or to log in, is refused the same way.
    expect((await fetch(sessionUrl(), { method: 'DELETE', headers: { cookie } })).status).toBe(403);
    expect((await me(cookie)).status).toBe(200);
    // With the header (only same-origin script can set it without a CORS preflight this server never grants) it goes through.
    const sameSite = await fetch(`${ready().server.url}/trpc/backoffice.orders.cancel`, {
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
    expect((await fetch(`${ready().server.url}/backoffice/api/orders.csv`, { headers: { cookie } })).status).toBe(401);
  });

  it('a live-updates stream opened with the cookie ends when that session logs out', async () => {
    const { cookie } = await cookieLogin();
    const stream = await openSse(`${ready().server.url}/trpc/backoffice.events.onChange`, { cookie });
    expect(stream.status).toBe(200);
    await stream.next((e) => e.event === 'connected', 10_000);
    expect((await fetch(sessionUrl(), { method: 'DELETE', headers: { cookie, 'x-orders-csrf': '1' } })).status).toBe(204);
    const error = await stream.next((e) => e.event === 'serialized-error', 10_000);
    expect(JSON.parse(error.data)).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await stream.ended;
  });

  it('GET says who the cookie logs in, and answers "nobody" (200, not 401) when it logs in no staff member', async () => {
    expect(await whoAmI()).toEqual(nobody);
    const { cookie, body } = await cookieLogin();
    const staff = body.staff as { id: string };
    expect(await whoAmI(cookie)).toEqual({ ...nobody, body: { staff: { id: staff.id, email: ADMIN.email, role: 'admin' } } });
    expect((await fetch(sessionUrl(), { method: 'DELETE', headers: { cookie, 'x-orders-csrf': '1' } })).status).toBe(204);
    expect(await whoAmI(cookie)).toEqual(nobody);

    // Expired: the row is still there, its time is up.
    const expiring = await cookieLogin();
    await ready().pool.query(`update staff_session set expires_at = now() - interval '1 second' where token_hash = $1`, [hashSecret(expiring.cookie.split('=')[1]!)]);
    expect(await whoAmI(expiring.cookie)).toEqual(nobody);
    // Garbage, an unknown token, and an API key (a credential, but not a staff session).
    for (const cookie of ['orders_session=%%%;', 'orders_session=oss_nobody', `orders_session=${SERVICE_KEY}`, 'other=1']) {
      expect(await whoAmI(cookie), cookie).toEqual(nobody);
    }
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

describe('cookie session in Chromium (the built /backoffice app)', () => {
  /** What page script can see: document.cookie and both Web Storages, as one string. */
  const visibleToScript = (page: Page) =>
    page.evaluate(() => {
      // Through globalThis: the tests type-check without the DOM library.
      interface StorageLike {
        length: number;
        key(i: number): string | null;
        getItem(key: string): string | null;
      }
      const page = globalThis as unknown as { document: { cookie: string }; localStorage: StorageLike; sessionStorage: StorageLike };
      const storage = (s: StorageLike) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i)!)}`).join(';');
      return `${page.document.cookie}|${storage(page.localStorage)}|${storage(page.sessionStorage)}`;
    });

  it('a first visit with no session shows the login screen with nothing in the console (no 401 from asking who is logged in)', async () => {
    const page = await suite.newTab();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${ready().server.url}/backoffice/`);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('logs in with the token out of reach of page script; a second tab is logged in; logging out ends it for both', async () => {
    const url = `${ready().server.url}/backoffice/`;
    const first = await suite.newTab();
    first.setDefaultTimeout(15_000);
    await first.goto(url);
    await submitLogin(first, ADMIN);
    await first.getByRole('button', { name: 'Log out' }).waitFor();

    const cookies = await first.context().cookies();
    const session = cookies.find((c) => c.name === 'orders_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    const seen = await visibleToScript(first);
    expect(seen).not.toContain(session!.value);
    expect(seen).not.toContain('orders_session');
    // The same session server-side: the token in the cookie is a live staff session.
    expect((await me(`orders_session=${session!.value}`)).status).toBe(200);

    // A second tab of the same browser (same context) opens logged in: it asked "who am I".
    const second = await first.context().newPage();
    await second.goto(url);
    await second.getByRole('button', { name: 'Log out' }).waitFor();
    await expect(second.getByText(ADMIN.email).first().isVisible()).resolves.toBe(true);
    expect(await visibleToScript(second)).not.toContain(session!.value);
    await suite.shot(second, 'cookie-session-second-tab');

    // Another browser (a context of its own) has no session.
    const stranger = await suite.newTab();
    stranger.setDefaultTimeout(15_000);
    await stranger.goto(url);
    await stranger.getByRole('button', { name: 'Log in' }).waitFor();

    await first.getByRole('button', { name: 'Log out' }).click();
    await first.getByRole('button', { name: 'Log in' }).waitFor();
    expect((await first.context().cookies()).find((c) => c.name === 'orders_session')).toBeUndefined();
    expect((await me(`orders_session=${session!.value}`)).status).toBe(401);
    await second.reload();
    await second.getByRole('button', { name: 'Log in' }).waitFor();
    await first.context().close();
    await stranger.context().close();
  }, 120_000);
});
