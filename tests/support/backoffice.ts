import { randomUUID } from 'node:crypto';
import { createOrdersClient, type OrdersClient, type StaffRole } from '@orders/shared';
import { buyerChooses, executeUnrecorded, pendingOrder, processedIpns, startPaypalTestEnv, type PaypalTestEnv } from './paypal-server.ts';

export const ADMIN = { email: 'admin@orders.example', password: 'correct horse battery staple' };

export interface StaffSession {
  id: string;
  email: string;
  token: string;
  client: OrdersClient;
}

export interface BackofficeTestEnv extends PaypalTestEnv {
  admin: StaffSession;
  /** A new staff member with `role`, created by the admin through the API, logged in. */
  staff(role: StaffRole): Promise<StaffSession>;
  /** A client holding `token` against this server. */
  clientFor(token?: string): OrdersClient;
}

/** The PayPal test environment with a bootstrap admin, logged in. */
export async function startBackofficeEnv(env: Record<string, string> = {}): Promise<BackofficeTestEnv> {
  const base = await startPaypalTestEnv({ BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password, ...env });
  const clientFor = (token?: string) => createOrdersClient({ url: base.server.trpcUrl, ...(token ? { apiKey: token } : {}) });
  const login = async (email: string, password: string): Promise<StaffSession> => {
    const session = await clientFor().auth.login.mutate({ email, password });
    return { id: session.staff.id, email, token: session.token, client: clientFor(session.token) };
  };
  const admin = await login(ADMIN.email, ADMIN.password);
  return {
    ...base,
    admin,
    clientFor,
    async staff(role) {
      const email = `${role}-${randomUUID().slice(0, 8)}@orders.example`;
      const password = `password-${randomUUID()}`;
      await admin.client.backoffice.staff.create.mutate({ email, password, role });
      return login(email, password);
    },
  };
}

/** RFC 4180 parsing, enough to check what the export wrote. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || record.length > 0) throw new Error('CSV does not end with CRLF');
  return records;
}

/**
 * `count` orders inserted set-based (carts with them), spread over the last `count` minutes, with
 * statuses, currencies and totals cycling: data for plans, estimates and big exports.
 */
export async function seedOrders(env: PaypalTestEnv, count: number, customerPrefix = 'seed'): Promise<void> {
  await env.pool.query(
    `with spread as (
       select g, now() - make_interval(mins => g) - make_interval(secs => random()) as at from generate_series(1, $1::int) g
     ), carts as (
       insert into cart (id, created_at, updated_at, customer_type, customer_id, checked_out_at)
       select gen_random_uuid(), at, at, case when g % 3 = 0 then 'anonymous' else 'user' end, $2::text || '-' || (g % 997), at from spread
       returning id, customer_type, customer_id, created_at
     )
     insert into "order" (id, created_at, updated_at, customer_type, customer_id, cart_id, status, total, currency, refunded_amount, stock_reserved)
     select gen_random_uuid(), c.created_at, c.created_at, c.customer_type, c.customer_id, c.id,
            (array['pending', 'paid', 'failed', 'cancelled', 'refunded', 'partially_refunded'])[1 + (abs(hashtext(c.id::text)) % 6)],
            100 + abs(hashtext(c.id::text || 't')) % 100000,
            (array['USD', 'EUR', 'JPY'])[1 + (abs(hashtext(c.id::text || 'c')) % 3)], 0, false
       from carts c`,
    [count, customerPrefix],
  );
  await env.pool.query('analyze "order"');
}

/**
 * Money captured at PayPal for an order staff cancelled meanwhile: the buyer approved, PayPal executed
 * but its answer was lost, `operator` cancelled the order, and then PayPal's IPN arrived (processed).
 */
export async function paidAfterCancel(env: BackofficeTestEnv, operator: StaffSession) {
  const { customer, order } = await pendingOrder(env.client);
  const attempt = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const { redirectUrl } = env.sim.control.approve(attempt.externalId, 'approve');
  env.sim.control.setIpnMode({ paused: true });
  const sale = (await executeUnrecorded(env, redirectUrl)).sale!.id;
  await operator.client.backoffice.orders.cancel.mutate({ orderId: order.id, reason: 'the buyer asked by phone' });
  env.sim.control.setIpnMode({ paused: false });
  env.sim.control.flushIpns();
  await processedIpns(env.pool, sale);
  return { customer, order, attempt, sale };
}

/**
 * Paid twice at PayPal: the first attempt executed with its answer lost (its IPN held back), the
 * second paid through the return page; then the first one's IPN arrives. `beforeFirstIpn` runs just
 * before it is let through (e.g. to make PayPal refuse the automatic refund).
 */
export async function paidTwice(env: BackofficeTestEnv, beforeFirstIpn?: () => void) {
  const { customer, order } = await pendingOrder(env.client);
  const first = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  const { redirectUrl } = env.sim.control.approve(first.externalId, 'approve');
  env.sim.control.setIpnMode({ paused: true });
  const sale = (await executeUnrecorded(env, redirectUrl)).sale!.id;
  const second = await env.client.payments.attemptToPay.mutate({ customer, orderId: order.id });
  await buyerChooses(env, second.externalId, 'approve');
  beforeFirstIpn?.();
  env.sim.control.setIpnMode({ paused: false });
  env.sim.control.flushIpns();
  await processedIpns(env.pool, sale);
  return { customer, order, first, second, sale };
}
