import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersClient, type OrderChangeEvent, type OrdersClient } from '@orders/shared';
import { loadConfig } from '@orders/server/config.ts';
import { startServer, type RunningServer } from '@orders/server/server.ts';
import { OrderChangeFeed } from '@orders/server/modules/backoffice/order-changes.ts';
import { createLogger } from '@orders/server/logger.ts';
import { startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';
import { SERVICE_KEY, pendingOrder, waitFor } from '../support/paypal-server.ts';
import { openSse, type SseEvent, type SseStream } from '../support/sse.ts';

let env: BackofficeTestEnv;
let viewer: StaffSession;
/** A second instance on the same database, as in a scaled-out deployment. */
let second: RunningServer;
let secondClient: OrdersClient;
const open: SseStream[] = [];

beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  second = await startServer(loadConfig({ DATABASE_URL: env.db.url, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' }));
  secondClient = createOrdersClient({ url: second.trpcUrl, apiKey: SERVICE_KEY });
});
afterAll(async () => {
  for (const stream of open) stream.close();
  await second?.close();
  await env.close();
});

async function subscribe(server: { trpcUrl: string }, auth: { header?: string; param?: string } = { header: viewer.token }): Promise<SseStream> {
  const query = auth.param ? `?connectionParams=${encodeURIComponent(JSON.stringify({ token: auth.param }))}` : '';
  const stream = await openSse(`${server.trpcUrl}/backoffice.events.onChange${query}`, auth.header ? { authorization: `Bearer ${auth.header}` } : {});
  open.push(stream);
  return stream;
}

const change = (orderId: string, kind?: OrderChangeEvent['kind'], status?: string) => (event: SseEvent) => {
  if (event.event !== 'message') return false;
  const data = JSON.parse(event.data) as OrderChangeEvent;
  return data.orderId === orderId && (!kind || data.kind === kind) && (!status || data.status === status);
};

async function connected(stream: SseStream) {
  expect(stream.status).toBe(200);
  await stream.next((e) => e.event === 'connected');
}

describe('backoffice.events.onChange', () => {
  it('streams new orders and status changes over SSE within a second', async () => {
    const stream = await subscribe(env.server);
    await connected(stream);
    const { order, customer } = await pendingOrder(env.client);
    const created = Date.now();
    const event = await stream.next(change(order.id, 'created'), 1_000);
    expect(Date.now() - created).toBeLessThan(1_000);
    expect(JSON.parse(event.data)).toEqual({ orderId: order.id, status: 'pending', kind: 'created', at: expect.stringMatching(/Z$/) });

    await env.client.payments.processOrderToPaid.mutate({ orderId: order.id });
    const paidAt = Date.now();
    await stream.next(change(order.id, 'updated', 'paid'), 1_000);
    expect(Date.now() - paidAt).toBeLessThan(1_000);
    // Changes that do not touch status, payment status or refunds are not announced.
    await env.client.orders.get.query({ customer, orderId: order.id });
    expect(stream.events.filter(change(order.id))).toHaveLength(2);
  });

  it('a change made through another instance reaches every instance’s subscribers', async () => {
    const here = await subscribe(env.server);
    const there = await subscribe(second);
    await Promise.all([connected(here), connected(there)]);
    const viaSecond = await pendingOrder(secondClient);
    const viaFirst = await pendingOrder(env.client);
    const started = Date.now();
    await Promise.all([
      here.next(change(viaSecond.order.id, 'created'), 1_000),
      there.next(change(viaSecond.order.id, 'created'), 1_000),
      here.next(change(viaFirst.order.id, 'created'), 1_000),
      there.next(change(viaFirst.order.id, 'created'), 1_000),
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a browser’s EventSource passes the token as a connection param', async () => {
    const stream = await subscribe(env.server, { param: viewer.token });
    await connected(stream);
    const { order } = await pendingOrder(env.client);
    await stream.next(change(order.id, 'created'));
  });

  it('without a staff session the stream carries the error and ends', async () => {
    for (const [auth, code] of [
      [{}, 'UNAUTHORIZED'],
      [{ header: SERVICE_KEY }, 'FORBIDDEN'],
      [{ param: 'not-a-token' }, 'UNAUTHORIZED'],
    ] as const) {
      const stream = await subscribe(env.server, auth);
      const error = await stream.next((e) => e.event === 'serialized-error');
      expect(JSON.parse(error.data)).toMatchObject({ data: { code } });
      await stream.ended;
    }
  });

  it('its LISTEN connection killed: streams end with SERVICE_UNAVAILABLE (changes may be lost), refused until it is back, then live again', async () => {
    const stream = await subscribe(env.server);
    await connected(stream);
    const feed = env.server.services.orderChanges;
    const { rows } = await env.pool.query(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = 'orders-order-changes' and datname = current_database()`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    // Not kept on as if nothing happened: what was notified meanwhile is gone, and the client must refetch.
    const lost = await stream.next((e) => e.event === 'serialized-error', 5_000);
    expect(JSON.parse(lost.data)).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' }, message: expect.stringContaining('missed') });
    await stream.ended;
    await waitFor(async () => feed.listening && second.services.orderChanges.listening, 10_000, 'the feeds to reconnect');
    const again = await subscribe(env.server);
    await connected(again);
    const { order } = await pendingOrder(env.client);
    await again.next(change(order.id, 'created'), 2_000);
  });

  it('a subscription while the feed is not listening is refused, not left silent', async () => {
    // A feed whose connection is down (here: never opened, so no reconnect can win a race with the check).
    const down = new OrderChangeFeed(env.db.url, createLogger('silent'));
    expect(down.listening).toBe(false);
    await expect(down.changes().next()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('reconnecting') });
    await down.start();
    const iterator = down.changes();
    const first = iterator.next();
    const { order } = await pendingOrder(env.client);
    await expect(first).resolves.toMatchObject({ value: { orderId: order.id, kind: 'created' } });
    await iterator.return(undefined);
    await down.close();
  });

  it('an instance shutting down ends its streams at once, so the client reconnects elsewhere', async () => {
    const extra = await startServer(loadConfig({ DATABASE_URL: env.db.url, PORT: '0', BOOTSTRAP_SERVICE_API_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' }), {
      workers: false,
    });
    const stream = await subscribe(extra);
    await connected(stream);
    const started = Date.now();
    await extra.close();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(5_000);
    // Cut, not completed: no `return` event, so EventSource reconnects.
    expect(stream.events.map((e) => e.event)).not.toContain('return');
  });
});
