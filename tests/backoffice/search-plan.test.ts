import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderSearchFilter } from '@orders/shared';
import { boundedCountQuery, pageQuery, type OrderOrdering } from '@orders/server/modules/backoffice/order-search.ts';
import { seedOrders, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';

const SEEDED = 20_000;

let env: BackofficeTestEnv;
let viewer: StaffSession;
beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  await seedOrders(env, SEEDED);
});
afterAll(() => env.close());

/** The plan PostgreSQL picks for the exact SQL the service runs. */
async function plan(statement: { compile(executor: never): { sql: string; parameters: readonly unknown[] } }): Promise<string> {
  const compiled = statement.compile(env.server.orm.em.fork().getKysely() as never);
  const { rows } = await env.pool.query(`explain ${compiled.sql}`, [...compiled.parameters]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function pagePlan(filter: OrderSearchFilter, ordering: OrderOrdering = { sort: 'created', direction: 'desc' }, withCursor = false) {
  const after = withCursor ? { key: ordering.sort === 'created' ? '2026-01-01 00:00:00+00' : 5000, id: '01a20822-0000-7000-8000-000000000000' } : undefined;
  return plan(pageQuery(filter, ordering, after, 101));
}

describe('search plans over 20,000 orders', () => {
  it.each<[string, OrderSearchFilter, OrderOrdering, boolean]>([
    ['default listing', {}, { sort: 'created', direction: 'desc' }, false],
    ['default listing, next page', {}, { sort: 'created', direction: 'desc' }, true],
    ['oldest first, next page', {}, { sort: 'created', direction: 'asc' }, true],
    ['one status', { status: ['failed'] }, { sort: 'created', direction: 'desc' }, false],
    ['one status, next page', { status: ['failed'] }, { sort: 'created', direction: 'desc' }, true],
    ['several statuses', { status: ['failed', 'cancelled', 'refunded'] }, { sort: 'created', direction: 'desc' }, true],
    ['by total', {}, { sort: 'total', direction: 'desc' }, true],
    ['status by total', { status: ['paid'] }, { sort: 'total', direction: 'asc' }, true],
    ['currency by total', { currency: 'JPY' }, { sort: 'total', direction: 'desc' }, false],
    ['currency', { currency: 'EUR' }, { sort: 'created', direction: 'desc' }, false],
    ['customer', { customerType: 'user', customerId: 'seed-7' }, { sort: 'created', direction: 'desc' }, false],
    ['amount range', { amountMin: 1000, amountMax: 1200 }, { sort: 'total', direction: 'asc' }, false],
    ['date range', { createdFrom: new Date(Date.now() - 3_600_000).toISOString() }, { sort: 'created', direction: 'desc' }, false],
    ['payer email', { q: 'someone@example.com' }, { sort: 'created', direction: 'desc' }, false],
    ['PayPal id', { q: 'PAY-1AB23456CD789012EF34GHIJ' }, { sort: 'created', direction: 'desc' }, false],
  ])('%s reads "order" through an index', async (_name, filter, ordering, withCursor) => {
    const text = await pagePlan(filter, ordering, withCursor);
    expect(text).toMatch(/Index/);
    expect(text).not.toMatch(/Seq Scan on "order"/);
    expect(text).not.toMatch(/Sort Method: external/);
  });

  it('counting stops after 10,001 rows', async () => {
    expect(await plan(boundedCountQuery({}))).toMatch(/Limit/);
  });

  it('totals: exact below 10,000 matches, the planner’s estimate above', async () => {
    const everything = await viewer.client.backoffice.orders.search.query({ limit: 10 });
    expect(everything.total.exact).toBe(false);
    expect(everything.total.value).toBeGreaterThan(SEEDED * 0.8);
    expect(everything.total.value).toBeLessThan(SEEDED * 1.2);

    const failed = await viewer.client.backoffice.orders.search.query({ status: ['failed'], limit: 10 });
    const { rows } = await env.pool.query(`select count(*)::int as n from "order" where status = 'failed'`);
    expect(failed.total).toEqual({ value: rows[0].n, exact: true });
  });

  it('walks deep into a big filter by keyset', async () => {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < 5; page++) {
      const result = await viewer.client.backoffice.orders.search.query({ status: ['paid', 'pending'], sort: 'total', limit: 500, ...(cursor ? { cursor } : {}) });
      for (const row of result.items) seen.add(row.id);
      cursor = result.nextCursor!;
    }
    expect(seen.size).toBe(2500);
  });
});
