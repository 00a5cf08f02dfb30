import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderSearchFilter } from '@orders/shared';
import { boundedCountQuery, cursorFor, estimateQuery, pageQuery, positionAfter, positionOf, type OrderOrdering } from '@orders/server/modules/backoffice/order-search.ts';
import type { KeysetPosition } from '@orders/server/modules/backoffice/keyset-cursor.ts';
import { rows as rowsOf } from '@orders/server/db/sql.ts';
import { sql } from 'kysely';
import { SearchStatistics } from '@orders/server/modules/backoffice/search-statistics.ts';
import { containsPattern } from '@orders/server/modules/backoffice/order-text-match.ts';
import { cheapestWalk, fewMatchesQuery, MIN_WALK_BOUND, POSTINGS_WALK_VALUES, postingsPageQuery, searchPage, singleColumn, TRUSTED_ESTIMATE, walkBound, withinBudget } from '@orders/server/modules/backoffice/search-page.ts';
import { EXACT_COUNT_LIMIT } from '@orders/server/modules/backoffice/order-search.ts';
import { seedOrders, startBackofficeEnv, type BackofficeTestEnv, type StaffSession } from '../support/backoffice.ts';

const SEEDED = 20_000;

let env: BackofficeTestEnv;
let viewer: StaffSession;
beforeAll(async () => {
  env = await startBackofficeEnv();
  viewer = await env.staff('viewer');
  await seedOrders(env, SEEDED);
  await env.pool.query('analyze order_search');
  // What autovacuum does for these: statistics, and the visibility map the postings' index-only reads need.
  await env.pool.query('vacuum (analyze) order_search_value, order_search_posting');
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

/** Statistics that put every fragment in `holding` documents and tell nothing else (the rest by EXPLAIN). */
function statisticsHolding(holding: number): SearchStatistics {
  return {
    documentsHolding: async () => ({ holding, documents: SEEDED }),
    documentsCreated: () => undefined,
    ordersMatching: async () => undefined,
  } as unknown as SearchStatistics;
}

/**
 * An entity manager whose statements are listed as they are sent: the first 40 characters of each
 * (`statements`), and each whole as compiled (`sent`).
 */
function countingStatements() {
  const em = env.server.orm.em.fork();
  const kysely = em.getKysely();
  const statements: string[] = [];
  const sent: string[] = [];
  em.getKysely = (() =>
    kysely.withPlugin({
      transformQuery: (args) => {
        statements.push(args.node.kind === 'RawNode' ? args.node.sqlFragments.join('?').trim().slice(0, 40) : args.node.kind);
        sent.push(kysely.getExecutor().compileQuery(args.node, args.queryId).sql);
        return args.node;
      },
      transformResult: async (args) => args.result,
    })) as never;
  return { em, statements, sent };
}

/**
 * A walked search through the API, page by page to the end: the same orders as `expected`, in its
 * order, and a first page whose total is an estimate within half and twice the real number (or,
 * `counted`, exactly the real number).
 */
async function expectEstimatedWalk(input: OrderSearchFilter & { limit: number }, expected: string[], counted = false) {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const result = await viewer.client.backoffice.orders.search.query({ ...input, ...(cursor ? { cursor } : {}) });
    if (page === 0 && counted) expect(result.total).toEqual({ value: expected.length, exact: true });
    if (page === 0 && !counted) {
      expect(result.total.exact).toBe(false);
      expect(result.total.value).toBeGreaterThan(expected.length * 0.5);
      expect(result.total.value).toBeLessThan(expected.length * 2);
    }
    seen.push(...result.items.map((r) => r.id));
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  expect(seen).toEqual(expected);
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
    ['order number prefix', { q: '#100' }, { sort: 'created', direction: 'desc' }, false],
    ['id fragment', { q: '01a22b42' }, { sort: 'created', direction: 'desc' }, false],
    ['id fragment with a filter, next page', { q: '4b2-8', status: ['paid'] }, { sort: 'created', direction: 'desc' }, true],
    ['common fragment (every customer id)', { q: 'seed-' }, { sort: 'created', direction: 'desc' }, false],
    ['common fragment with a status filter', { q: 'seed-', status: ['failed'] }, { sort: 'created', direction: 'desc' }, false],
    ['common fragment by total', { q: 'seed-' }, { sort: 'total', direction: 'desc' }, true],
  ])('%s reads "order" through an index', async (_name, filter, ordering, withCursor) => {
    const text = await pagePlan(filter, ordering, withCursor);
    expect(text).toMatch(/Index/);
    expect(text).not.toMatch(/Seq Scan on "order"/);
    expect(text).not.toMatch(/Sort Method: external/);
  });

  it('text: number prefixes are ranges of order_number_unique; a rare fragment is found in the values, its orders in their postings', async () => {
    expect(await pagePlan({ q: '#123' })).toMatch(/order_number_unique/);
    const { rows } = await env.pool.query<{ id: string }>(`select id::text from "order" order by created_at limit 1`);
    const client = await env.pool.connect();
    try {
      // The plan the 1,000,000-order bench gets (at 20,000 a scan of the values may cost less).
      await client.query('begin; set local enable_seqscan = off');
      const compiled = fewMatchesQuery({ q: rows[0]!.id.slice(24) }, undefined, true, 51).compile(env.server.orm.em.fork().getKysely() as never);
      const text = (await client.query(`explain ${compiled.sql}`, [...compiled.parameters])).rows.map((r) => r['QUERY PLAN']).join('\n');
      // The values by their trigram index; the orders from the postings' primary key alone; "order"
      // by primary key for the page's rows. The documents are not read.
      expect(text).toMatch(/Bitmap Index Scan on order_search_value_trgm_idx/);
      expect(text).toMatch(/Index Only Scan using order_search_posting_pkey on order_search_posting p/);
      expect(text).toMatch(/Index Scan using order_pkey on "order" o/);
      expect(text).not.toMatch(/on order_search s|Seq Scan on "order"|order_created_idx/);
      // Its orders counted once: the total is both the candidates and the matches here (no filter on "order").
      expect(text.match(/CTE Scan on m /g)?.length).toBe(2); // the count and the page
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  it('a number prefix is counted range by range through order_number_unique, never a bitmap of every match read through the heap', async () => {
    for (const filter of [{ q: '100' }, { q: '#1234' }, { q: '100', status: ['paid' as const] }]) {
      const text = await plan(boundedCountQuery(filter));
      expect(text).toMatch(/Index (Only )?Scan using order_number_unique/);
      expect(text).not.toMatch(/Bitmap Heap Scan|Seq Scan/);
    }
    // The same count as every number starting with the digits (and the other filters), bounded as before.
    const em = env.server.orm.em.fork();
    for (const [filter, where] of [
      [{ q: '100' }, `number::text like '100%'`],
      [{ q: '12' }, `number = 12`],
      [{ q: '100', status: ['paid'] }, `number::text like '100%' and status = 'paid'`],
    ] as [OrderSearchFilter, string][]) {
      const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from "order" where ${where}`);
      expect((await rowsOf(em, boundedCountQuery(filter)))[0]!.n).toBe(rows[0]!.n);
    }
  });

  it('a list of one status walks its status’s index, whatever the newest orders are: never the date index, skipping other statuses', async () => {
    const week = new Date(Date.now() - 7 * 86_400_000).toISOString();
    for (const [filter, ordering, index] of [
      [{ status: ['paid'], createdFrom: week }, { sort: 'created', direction: 'desc' }, 'order_status_idx'],
      [{ status: ['pending'] }, { sort: 'created', direction: 'desc' }, 'order_status_idx'],
      [{ status: ['failed'], currency: 'EUR' }, { sort: 'created', direction: 'asc' }, 'order_currency_status_idx'],
      [{ status: ['paid'] }, { sort: 'total', direction: 'desc' }, 'order_status_total_idx'],
    ] as [OrderSearchFilter, OrderOrdering, string][]) {
      const text = await pagePlan(filter, ordering);
      expect(text).toMatch(new RegExp(`Index (Only )?Scan (Backward )?using ${index} on "order" o`));
      expect(text).not.toMatch(/order_created_idx|order_total_idx|Sort/);
    }
  });

  it('a piece of an id: the trigram index is asked for every third trigram of its dash-separated groups, the whole fragment only rechecked', async () => {
    const { rows } = await env.pool.query<{ id: string }>(`select id::text from "order" order by created_at desc limit 1`);
    const infix = rows[0]!.id.slice(9, 23);
    const client = await env.pool.connect();
    try {
      await client.query('begin; set local enable_seqscan = off');
      const compiled = fewMatchesQuery({ q: infix }, undefined, true, 51).compile(env.server.orm.em.fork().getKysely() as never);
      const text = (await client.query(`explain ${compiled.sql}`, [...compiled.parameters])).rows.map((r) => r['QUERY PLAN']).join('\n');
      const indexCond = text.split('\n').find((line) => line.includes('Index Cond') && line.includes('~~'))!;
      // One LIKE of the groups' first trigrams ('%g1%g2%g3%', each of four digits), the whole fragment checked by strpos outside the index.
      expect(indexCond).toContain(`'%${infix.split('-').map((group) => group.slice(0, 3)).join('%')}%'`);
      expect(indexCond).not.toContain(infix);
      expect(text).toContain(`strpos(value, '${infix}'::text) > 0`);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  it('a fragment in every document is found walking order_search newest first, never by sorting all its matches', async () => {
    for (const filter of [{ q: 'seed-' }, { q: 'seed-', status: ['failed' as const] }]) {
      const text = await pagePlan(filter);
      // The walk stays in order_search (created_at is there); "order" is read by primary key only for
      // the documents that match (and its status checked there), never walked or scanned. By id: the
      // primary key, or order_unpaid_idx (id, unpaid orders only) when the status asked for is unpaid.
      expect(text).toMatch(/Index Scan (Backward )?using order_search_created_idx on order_search s/);
      expect(text).toMatch(/Index Scan using (order_pkey|order_unpaid_idx) on "order" o\s+\([^)]*\)\s+Index Cond: \(id = s\.order_id\)/);
      expect(text).not.toMatch(/Seq Scan|order_search_value|order_search_posting|order_created_idx|order_status_idx/);
    }
  });

  it('a whole email is the payer’s exact email (a btree lookup); the trigram scan only if none has it', async () => {
    const text = await pagePlan({ q: 'Someone@Example.com' });
    expect(text).toMatch(/attempt_payer_email_idx/);
    // The fragment branch sits behind a one-time filter: skipped when the exact lookup found orders.
    expect(text).toMatch(/One-Time Filter: \(NOT \(?(InitPlan|\$)/);
  });

  it('a fragment with nothing for the trigram index to look up reads nothing', async () => {
    for (const q of ['%%', 'a_', '@.']) expect(await pagePlan({ q })).toMatch(/One-Time Filter: false/);
  });

  it('a rare fragment: its matches are read once from the trigram index, for the page and the count together', async () => {
    const explained = async (filter: OrderSearchFilter) => {
      const client = await env.pool.connect();
      try {
        await client.query('begin; set local enable_seqscan = off');
        const compiled = fewMatchesQuery(filter, undefined, true, 51).compile(env.server.orm.em.fork().getKysely() as never);
        return (await client.query(`explain ${compiled.sql}`, [...compiled.parameters])).rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await client.query('rollback');
        client.release();
      }
    };
    // Status and currency are carried by the postings: checked in their index (index-only), and
    // "order" read for the page's rows alone.
    const carried = await explained({ q: 'seed-12', status: ['paid', 'failed'], currency: 'USD' });
    expect(carried.match(/order_search_value_trgm_idx/g)).toHaveLength(1);
    expect(carried).toMatch(/Index Only Scan using order_search_posting_pkey on order_search_posting p .*\n(.*\n)*?\s+Filter: \(\(\(status\)::text = ANY .*\(currency\)::text = 'USD'/);
    expect(carried).not.toMatch(/SubPlan|Seq Scan on "order"|Hash Join|Merge Join/);
    // A filter they do not carry (an amount): its orders checked one by one by primary key, never by
    // hashing every order the filter keeps (at 1M a rare fragment with "paid" hashed 620,000 orders:
    // 250–300 ms). (At 20,000 orders the planner would join by nested loop anyway: the SubPlan is
    // what makes it so at any size.)
    const past = await explained({ q: 'seed-12', status: ['paid', 'failed'], amountMin: 1000 });
    expect(past).toMatch(/SubPlan \d+\n\s+->  Index Scan using order_pkey on "order" o_1/);
    expect(past).not.toMatch(/Seq Scan on "order"|Hash Join|Merge Join/);
    // The same answers as the filters say, counted exactly, and paged by keyset to the end.
    const { rows } = await env.pool.query<{ id: string }>(
      `select o.id from "order" o where o.customer_id like 'seed-12%' and o.status in ('paid', 'failed') order by o.created_at desc, o.id desc`,
    );
    expect(rows.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await viewer.client.backoffice.orders.search.query({ q: 'seed-12', status: ['paid', 'failed'], limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.total).toEqual({ value: rows.length, exact: true });
      seen.push(...page.items.map((r) => r.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('a first page with room to spare is every match: its length is the exact total', async () => {
    const { rows } = await env.pool.query<{ n: number }>(`select count(*)::int as n from "order" where customer_type = 'user' and customer_id = 'seed-7'`);
    const result = await viewer.client.backoffice.orders.search.query({ customerType: 'user', customerId: 'seed-7', limit: 500 });
    expect(result.items).toHaveLength(rows[0]!.n);
    expect(result.total).toEqual({ value: rows[0]!.n, exact: true });
  });

  it('counting stops after 10,001 rows', async () => {
    expect(await plan(boundedCountQuery({}))).toMatch(/Limit/);
  });

  it('totals: exact below 10,000 matches, the planner’s estimate above', async () => {
    const everything = await viewer.client.backoffice.orders.search.query({ limit: 10 });
    expect(everything.total.exact).toBe(false);
    expect(everything.total.value).toBeGreaterThan(SEEDED * 0.8);
    expect(everything.total.value).toBeLessThan(SEEDED * 1.2);

    // A fragment in every document: estimated without counting (no 10,001 rechecks); a rare one counted.
    const common = await viewer.client.backoffice.orders.search.query({ q: 'seed-', limit: 10 });
    expect(common.total.exact).toBe(false);
    expect(common.total.value).toBeGreaterThan(SEEDED * 0.8);
    expect(common.items).toHaveLength(10);
    const { rows: one } = await env.pool.query(`select customer_id from "order" where customer_id = 'seed-123'`);
    expect((await viewer.client.backoffice.orders.search.query({ q: 'seed-123', limit: 10 })).total).toEqual({ value: one.length, exact: true });

    const failed = await viewer.client.backoffice.orders.search.query({ status: ['failed'], limit: 10 });
    const { rows } = await env.pool.query(`select count(*)::int as n from "order" where status = 'failed'`);
    expect(failed.total).toEqual({ value: rows[0].n, exact: true });
  });

  it('a count gets a time budget: past it PostgreSQL cancels it, and the connection keeps its own timeout', async () => {
    const em = env.server.orm.em.fork();
    expect(await withinBudget(em, sql<{ n: number }>`select pg_sleep(0.5), 1 as n`, 30)).toBeUndefined();
    expect(await withinBudget(em, sql<{ n: number }>`select 1 as n`, 30)).toEqual([{ n: 1 }]);
    // set for the count's transaction only: the next statement on the pool runs without it.
    const { rows } = await env.server.orm.em.fork().getKysely().executeQuery(sql`show statement_timeout`.compile(env.server.orm.em.fork().getKysely()));
    expect(rows).toEqual([{ statement_timeout: '0' }]);
    // Other errors are errors, and leave no transaction open on the pool's connections.
    await expect(withinBudget(em, sql`select 1 / 0`, 30)).rejects.toThrow(/division by zero/);
    const states = await Promise.all(
      Array.from({ length: 4 }, () => env.server.orm.em.fork().getKysely().executeQuery(sql`select now() = statement_timestamp() as idle`.compile(env.server.orm.em.fork().getKysely()))),
    );
    expect(states.map((state) => state.rows)).toEqual(Array.from({ length: 4 }, () => [{ idle: true }]));
    // Never inside another transaction: its COMMIT would end that one.
    await expect(env.server.orm.em.fork().transactional((tx) => withinBudget(tx, sql`select 1 as n`, 30))).rejects.toThrow(/transaction of its own/);
  });

  it('a filter on one column is not counted when its estimate is large: the estimate is the total', async () => {
    expect(TRUSTED_ESTIMATE).toBeGreaterThanOrEqual(4 * EXACT_COUNT_LIMIT);
    for (const filter of [{}, { status: ['failed', 'paid'] }, { currency: 'EUR' }, { amountMin: 100, amountMax: 900 }, { createdFrom: '2026-01-01T00:00:00Z', createdTo: '2026-02-01T00:00:00Z' }] satisfies OrderSearchFilter[]) {
      expect(singleColumn(filter)).toBe(true);
    }
    for (const filter of [{ status: ['failed'], currency: 'EUR' }, { customerId: 'seed-7' }, { q: 'seed-' }, { createdFrom: '2026-01-01T00:00:00Z', amountMin: 100 }] satisfies OrderSearchFilter[]) {
      expect(singleColumn(filter)).toBe(false);
    }
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    const { rows } = await env.pool.query(`select count(*)::int as n from "order" where status = 'failed'`);
    const { rows: estimated } = await env.pool.query(`explain (format json) select 1 from "order" o where o.status in ('failed')`);
    const failed = { status: ['failed' as const] };
    // Here (20,000 orders) no estimate reaches TRUSTED_ESTIMATE: counted. Trusted from 1: the planner's figure, marked as such.
    expect((await searchPage(env.server.orm.em.fork(), failed, ordering, undefined, 11)).total).toEqual({ value: rows[0].n, exact: true });
    const trusted = await searchPage(env.server.orm.em.fork(), failed, ordering, undefined, 11, 10_000, undefined, 1);
    expect(trusted.total).toEqual({ value: Math.round(estimated[0]['QUERY PLAN'][0].Plan['Plan Rows']), exact: false });
    // Below the threshold it is counted all the same; two columns are always counted.
    expect((await searchPage(env.server.orm.em.fork(), failed, ordering, undefined, 11, 10_000, undefined, rows[0].n * 100)).total).toEqual({ value: rows[0].n, exact: true });
    const { rows: both } = await env.pool.query(`select count(*)::int as n from "order" where status = 'failed' and currency = 'EUR'`);
    const twoColumns = await searchPage(env.server.orm.em.fork(), { ...failed, currency: 'EUR' }, ordering, undefined, 11, 10_000, undefined, 1);
    expect(twoColumns.total).toEqual({ value: both[0].n, exact: true });
    // A page with room to spare is every match, whatever the estimate.
    const few = await searchPage(env.server.orm.em.fork(), failed, ordering, undefined, rows[0].n + 1, 10_000, undefined, 1);
    expect(few.total).toEqual({ value: rows[0].n, exact: true });
  });

  it('a whole email is counted after its page, only when the page is full; two columns past the limit fall back to the estimate', async () => {
    const email = 'count-after@example.com';
    await env.pool.query(
      `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, external_id, payer_email)
       select gen_random_uuid(), o.created_at, o.created_at, o.id, 'paypal', 'failed', o.total, o.currency, 'PAY-COUNTAFTER' || o.number, $1
         from "order" o order by o.number limit 15`,
      [email],
    );
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    const full = await searchPage(env.server.orm.em.fork(), { q: email }, ordering, undefined, 11);
    expect(full.page).toHaveLength(11);
    expect(full.total).toEqual({ value: 15, exact: true });
    const whole = await searchPage(env.server.orm.em.fork(), { q: email }, ordering, undefined, 16);
    expect(whole.total).toEqual({ value: 15, exact: true });
    // Two columns matching more than EXACT_COUNT_LIMIT (here: every order since long ago, of any status but one).
    const many = { status: ['pending', 'paid', 'failed', 'cancelled', 'refunded'] as OrderSearchFilter['status'], createdFrom: '2000-01-01T00:00:00Z' };
    const { rows } = await env.pool.query(`select count(*)::int as n from "order" where status <> 'partially_refunded'`);
    expect(rows[0].n).toBeGreaterThan(EXACT_COUNT_LIMIT);
    const estimated = await searchPage(env.server.orm.em.fork(), many, ordering, undefined, 11);
    expect(estimated.total.exact).toBe(false);
    expect(estimated.total.value).toBeGreaterThan(EXACT_COUNT_LIMIT);
  });

  it('a count over budget leaves the page as it is and says the total is the estimate', async () => {
    // Failed USD orders by total: counted exactly within its budget. Starved, its count waits behind a
    // lock on "order" past a 1 ms budget (lock waits count toward statement_timeout) and is cancelled;
    // the page (no budget) waits for the lock and is found all the same. Two columns, so that the count
    // runs beside the page: a filter on one column is counted after its page and its estimate
    // (singleColumn), once the lock is gone, and then finished within 1 ms on a fast machine.
    const filter = { status: ['failed' as const], currency: 'USD' as const };
    const ordering: OrderOrdering = { sort: 'total', direction: 'desc' };
    const counted = await searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 11, 10_000);
    const locker = await env.pool.connect();
    let starved: Awaited<ReturnType<typeof searchPage>>;
    try {
      await locker.query('begin; lock table "order" in access exclusive mode');
      const starving = searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 11, 1);
      // Held until the page and the count both wait on the lock (a fixed 300 ms was sometimes over
      // before a loaded CI machine reached the count, which then finished within its budget), then a
      // little longer for the count's 1 ms budget to run out.
      const waiting = async () =>
        (await env.pool.query<{ n: number }>(`select count(*)::int as n from pg_locks where not granted and relation = '"order"'::regclass`)).rows[0]!.n;
      const until = Date.now() + 10_000;
      while ((await waiting()) < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await locker.query('commit');
      starved = await starving;
    } finally {
      locker.release();
    }
    expect(starved.page.map((row) => row.id)).toEqual(counted.page.map((row) => row.id));
    expect(counted.total.exact).toBe(true);
    expect(starved.total.exact).toBe(false);
    expect(starved.total.value).toBeGreaterThanOrEqual(11);
  });

  it('a common fragment with filters only "order" has: "order" walked through their index, each order’s document looked up', async () => {
    for (const filter of [{ q: 'seed-', status: ['failed' as const] }, { q: 'seed-', currency: 'EUR' as const }]) {
      const text = await plan(pageQuery(filter, { sort: 'created', direction: 'desc' }, undefined, 51, 'orders'));
      // Newest first from the filter's own index; the document by primary key, one order at a time.
      expect(text).toMatch(/Index (Only )?Scan Backward using order_(status|currency)_idx on "order" o/);
      expect(text).toMatch(/Index Scan using order_search_pkey on order_search s/);
      expect(text).not.toMatch(/order_search_value|order_search_posting|Hash|Sort|Seq Scan/);
    }
    // The search takes that walk (a fragment in every document): the same pages as the documents' walk,
    // walked to the end by keyset, and the total the planner's estimate (counting would look up each).
    const filter = { q: 'seed-', status: ['failed' as const, 'cancelled' as const] };
    const { rows } = await env.pool.query<{ id: string }>(
      `select o.id from "order" o join order_search s on s.order_id = o.id
        where s.document like '%seed-%' and o.status in ('failed', 'cancelled') order by o.created_at desc, o.id desc`,
    );
    expect(rows.length).toBeGreaterThan(1_500);
    await expectEstimatedWalk({ ...filter, limit: 500 }, rows.map((r) => r.id));
  });

  it('a common fragment with statuses alone, by date: the documents of those statuses walked in place (order_search_status_idx), the same pages as walking "order"', async () => {
    const newest: OrderOrdering = { sort: 'created', direction: 'desc' };
    const oldest: OrderOrdering = { sort: 'created', direction: 'asc' };
    const after = { key: '2026-01-01 00:00:00+00', id: '01a20822-0000-7000-8000-000000000000' };
    const walks: [OrderSearchFilter, OrderOrdering, KeysetPosition | undefined][] = [
      [{ q: 'seed-', status: ['failed'] }, newest, undefined],
      [{ q: 'seed-', status: ['paid'], createdFrom: '2026-01-01T00:00:00.000Z' }, oldest, after],
    ];
    for (const [filter, ordering, cursor] of walks) {
      const text = await plan(pageQuery(filter, ordering, cursor, 51, 'status'));
      // One range of the status's index in the list's order, each document checked where it is read;
      // "order" read by key for the page's rows only, nothing looked up per document walked.
      expect(text).toMatch(/Limit[^\n]*\n\s*->  Index Scan (Backward )?using order_search_status_idx on order_search s/);
      expect(text).toMatch(/Filter: \(strpos\(s?\.?document, 'seed-'::text\) > 0\)/);
      expect(text).not.toMatch(/order_search_pkey|order_search_created_idx|order_status_idx|order_search_value|order_search_posting|Seq Scan|Hash/);
    }
    // Several statuses: one range each, merged in the list's order.
    const two = await plan(pageQuery({ q: 'seed-', status: ['failed', 'cancelled'] }, newest, undefined, 51, 'status'));
    expect(two).toMatch(/Merge Append/);
    expect(two.match(/using order_search_status_idx on order_search s/g)).toHaveLength(2);
    expect(two).not.toMatch(/order_search_pkey|order_status_idx|Seq Scan/);

    // Page by page to the end, the same orders in the same order as walking "order" by status.
    const listed: [OrderSearchFilter, OrderOrdering][] = [
      [{ q: 'seed-1', status: ['failed'] }, newest],
      [{ q: 'seed-2', status: ['paid', 'pending'], createdFrom: new Date(Date.now() - 5 * 86_400_000).toISOString() }, oldest],
    ];
    for (const [filter, ordering] of listed) {
      const pages = async (walk: 'status' | 'orders') => {
        const ids: string[] = [];
        let position: KeysetPosition | undefined;
        for (let page = 0; page < 100; page++) {
          const found = await rowsOf(env.server.orm.em.fork(), pageQuery(filter, ordering, position, 200, walk));
          ids.push(...found.map((r) => r.id));
          if (found.length < 200) return ids;
          position = positionAfter(ordering, found[found.length - 1]!);
        }
        throw new Error('more than 100 pages');
      };
      const byStatus = await pages('status');
      expect(byStatus.length).toBeGreaterThan(200);
      expect(byStatus).toEqual(await pages('orders'));
    }

    // The search takes that walk for a common fragment with statuses: its page statement reads order_search by status.
    const { em, sent } = countingStatements();
    const found = await searchPage(em, { q: 'seed-', status: ['failed'] }, newest, undefined, 51, undefined, statisticsHolding(SEEDED));
    expect(found.page).toHaveLength(51);
    expect(sent.filter((text) => /from order_search s\s+where s\.status = any\(/.test(text))).toHaveLength(1);
    expect(sent.some((text) => /exists \(select 1 from order_search s where s\.order_id/.test(text))).toBe(false);
  });

  it('a walk of the documents of a status gives up past its bound as a walk of "order" does', async () => {
    // A fragment no document holds: the bound-th document of the status comes back, marked.
    const newest: OrderOrdering = { sort: 'created', direction: 'desc' };
    const walked = await rowsOf(env.server.orm.em.fork(), pageQuery({ q: 'no-such-text', status: ['paid'] }, newest, undefined, 51, 'status', 300));
    const { rows: [boundth] } = await env.pool.query<{ id: string }>(
      `select order_id::text as id from order_search where status = 'paid' order by created_at desc, order_id desc offset 299 limit 1`,
    );
    expect(walked.map((r) => [r.id, r.pastBound])).toEqual([[boundth!.id, true]]);
    // Two statuses share the bound; within it, the matches and nothing marked.
    const two = await rowsOf(env.server.orm.em.fork(), pageQuery({ q: 'no-such-text', status: ['paid', 'failed'] }, newest, undefined, 51, 'status', 300));
    const { rows: [shared] } = await env.pool.query<{ id: string }>(
      `select order_id::text as id from order_search where status in ('paid', 'failed') order by created_at desc, order_id desc offset 299 limit 1`,
    );
    expect(two.map((r) => [r.id, r.pastBound])).toEqual([[shared!.id, true]]);
    const within = await rowsOf(env.server.orm.em.fork(), pageQuery({ q: 'seed-', status: ['failed'] }, newest, undefined, 51, 'status', 5_000));
    const { rows: expected } = await env.pool.query<{ id: string }>(
      `select s.order_id::text as id from order_search s where s.status = 'failed' and s.document like '%seed-%' order by s.created_at desc, s.order_id desc limit 51`,
    );
    expect(within.map((r) => [r.id, r.pastBound])).toEqual(expected.map((r) => [r.id, false]));
  });

  it('a fragment’s documents are estimated as the planner estimates them, from its statistics held in memory', async () => {
    const statistics = new SearchStatistics(env.server.orm);
    // Common, in a share of the documents, in one, in none; "seed-1" also in "seed-10…": every case of the histogram.
    for (const fragment of ['seed-', 'seed-1', 'seed-123', 'seed-1234', 'nothing-has-this', '%_']) {
      const { rows } = await env.pool.query(`explain (format json) select 1 from order_search s where s.document like $1`, [containsPattern(fragment)]);
      const estimated = await statistics.documentsHolding(fragment);
      expect(estimated?.holding, fragment).toBe(rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
      expect(estimated?.documents).toBeGreaterThan(SEEDED * 0.9);
    }
    // The documents in all, as EXPLAIN would put every document in range (a walk without a date range weighs its walk with it).
    const { rows: all } = await env.pool.query(`explain (format json) select 1 from order_search s where true`);
    expect((await statistics.documentsHolding('seed-'))?.documents).toBeCloseTo(all[0]['QUERY PLAN'][0].Plan['Plan Rows'], -1);
    // A search with them finds what one without them finds, totals included.
    for (const filter of [{ q: 'seed-1' }, { q: 'seed-12', status: ['paid' as const] }, { q: 'seed-', currency: 'EUR' as const }, { q: 'seed-99', createdFrom: new Date(Date.now() - 86_400_000).toISOString() }]) {
      const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
      const held = await searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 11, 10_000, statistics);
      const asked = await searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 11, 10_000);
      expect(held.page.map((row) => row.id), JSON.stringify(filter)).toEqual(asked.page.map((row) => row.id));
      expect(held.total, JSON.stringify(filter)).toEqual(asked.total);
    }
  });

  it('the documents in a date range are estimated as the planner estimates them, from created_at’s histogram held in memory', async () => {
    const statistics = new SearchStatistics(env.server.orm);
    // Read by documentsHolding (documentsCreated never waits for them).
    expect(statistics.documentsCreated(undefined, new Date().toISOString())).toBeUndefined();
    await statistics.documentsHolding('seed-');
    const { rows: [span] } = await env.pool.query<{ oldest: Date; newest: Date }>(`select min(created_at) as oldest, max(created_at) as newest from order_search`);
    const at = (share: number) => new Date(span!.oldest.getTime() + share * (span!.newest.getTime() - span!.oldest.getTime())).toISOString();
    // Open at either end, both ends, an empty range, and past the oldest and newest documents.
    const ranges: [string | undefined, string | undefined][] = [
      [at(0.5), undefined], [at(0.93), undefined], [at(0.013), undefined], [undefined, at(0.3)], [at(0.2), at(0.7)],
      [at(0.6), at(0.4)], [at(-1), undefined], [at(2), undefined], [undefined, at(-1)], [at(-1), at(2)],
    ];
    for (const [from, to] of ranges) {
      const conditions = [...(from ? ['s.created_at >= $1::timestamptz'] : []), ...(to ? [`s.created_at < $${from ? 2 : 1}::timestamptz`] : [])];
      const { rows } = await env.pool.query(`explain (format json) select 1 from order_search s where ${conditions.join(' and ')}`, [from, to].filter(Boolean));
      const planned: number = rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
      const held = statistics.documentsCreated(from, to);
      expect(Math.abs(held! - planned), `${from} – ${to}: ${held} against ${planned}`).toBeLessThanOrEqual(Math.max(2, planned * 0.01));
    }
    // A fragment with filters the postings carry, in a date range: read whole and counted in one
    // statement, with no EXPLAIN before it, when the held statistics put it in at most
    // EXACT_COUNT_LIMIT documents of the range (those of "walnut" at 1M orders: in 22,000 documents
    // of 1,000,000, 300,000 of them in the last 90 days), though more than that in all. The same page
    // and total as a search that asks PostgreSQL.
    const walnutLike = {
      documentsHolding: async () => ({ holding: 22_000, documents: 1_000_000 }),
      documentsCreated: () => 300_000,
    } as unknown as SearchStatistics;
    const filter: OrderSearchFilter = { q: 'seed-12', currency: 'EUR', createdFrom: at(0.5) };
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    const { em, statements } = countingStatements();
    const held = await searchPage(em, filter, ordering, undefined, 51, 10_000, walnutLike);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^with v as materialized/);
    const asked = await searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 51, 10_000);
    expect(held.page.map((row) => row.id)).toEqual(asked.page.map((row) => row.id));
    expect(held.total).toEqual(asked.total);
    expect(held.total.exact).toBe(true);
    expect(held.page.length).toBeGreaterThan(0);
  });

  it('the orders a filter keeps are estimated as the planner estimates them, from "order"’s statistics held in memory', async () => {
    await env.pool.query('analyze "order"');
    const statistics = new SearchStatistics(env.server.orm);
    const { rows: [span] } = await env.pool.query<{ oldest: Date; newest: Date; customer: string; total: number }>(
      `select min(created_at) as oldest, max(created_at) as newest, min(customer_id) as customer, percentile_disc(0.5) within group (order by total) as total from "order"`,
    );
    const at = (share: number) => new Date(span!.oldest.getTime() + share * (span!.newest.getTime() - span!.oldest.getTime())).toISOString();
    const filters: OrderSearchFilter[] = [
      {},
      { status: ['pending'] },
      { status: ['paid'], createdFrom: at(0.8) },
      { status: ['failed', 'cancelled'], currency: 'USD', createdFrom: at(0.4) },
      { status: ['partially_refunded'] },
      { currency: 'EUR' },
      { currency: 'JPY', amountMin: span!.total },
      { amountMin: Math.round(span!.total / 2), amountMax: span!.total * 2 },
      { amountMax: 0 },
      { customerType: 'user', customerId: span!.customer },
      { customerType: 'anonymous' },
      { customerId: 'nobody-has-this' },
      { createdFrom: at(0.2), createdTo: at(0.3) },
      { createdFrom: at(2) },
    ];
    for (const filter of filters) {
      const compiled = estimateQuery(filter).compile(env.server.orm.em.fork().getKysely() as never);
      const { rows } = await env.pool.query(compiled.sql, [...compiled.parameters]);
      const planned: number = Math.round(rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
      const held = await statistics.ordersMatching(filter);
      expect(Math.abs(held! - planned), `${JSON.stringify(filter)}: ${held} against ${planned}`).toBeLessThanOrEqual(Math.max(2, planned * 0.01));
    }
    // Free text and chosen ids are left to EXPLAIN.
    expect(await statistics.ordersMatching({ q: 'seed-1' })).toBeUndefined();
    expect(await statistics.ordersMatching({ ids: ['01a20822-0000-7000-8000-000000000000'] })).toBeUndefined();
  });

  it('a fragment the statistics put in few documents but found in more than EXACT_COUNT_LIMIT orders: its page from the one statement that read it', async () => {
    // "seed-" is in every order (20,000) and in 997 values (the customer ids); statistics that put it
    // in 1,000 documents have it read whole first (fewMatchesQuery, below ALWAYS_COUNTED). Every value
    // was read, and the newest EXACT_COUNT_LIMIT + 1 of its orders: a full page among them is the
    // page, in one statement.
    const underestimated = statisticsHolding(1_000);
    const truth = async (filter: OrderSearchFilter) =>
      (
        await env.pool.query<{ id: string }>(
          `select o.id from "order" o join order_search s on s.order_id = o.id
            where strpos(s.document, 'seed-') > 0 and ($1::text[] is null or o.status = any($1)) order by o.created_at desc, o.id desc`,
          [filter.status ?? null],
        )
      ).rows.map((r) => r.id);
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    for (const filter of [{ q: 'seed-' }, { q: 'seed-', status: ['paid', 'pending', 'failed', 'cancelled'] }] as OrderSearchFilter[]) {
      const expected = await truth(filter);
      expect(expected.length).toBeGreaterThan(EXACT_COUNT_LIMIT);
      const { em, statements } = countingStatements();
      const first = await searchPage(em, filter, ordering, undefined, 51, 10_000, underestimated);
      expect(statements, JSON.stringify(filter)).toHaveLength(1);
      expect(first.page.map((r) => r.id)).toEqual(expected.slice(0, 51));
      expect(first.total.exact).toBe(false);
      expect(first.total.value).toBeGreaterThan(EXACT_COUNT_LIMIT);
      // A later page within those orders, the same way; one past them is found walking.
      const within = await searchPage(env.server.orm.em.fork(), filter, ordering, positionAfter(ordering, first.page[49]!), 51, 10_000, underestimated);
      expect(within.page.map((r) => r.id)).toEqual(expected.slice(50, 101));
      const deep = await rowsOf(env.server.orm.em.fork(), sql<{ id: string; createdAt: string }>`
        select o.id, o.created_at as "createdAt" from "order" o where o.id = ${expected[EXACT_COUNT_LIMIT - 20]}::uuid`);
      const past = countingStatements();
      const beyond = await searchPage(past.em, filter, ordering, { key: String(deep[0]!.createdAt), id: deep[0]!.id }, 51, 10_000, underestimated);
      expect(past.statements.length).toBeGreaterThan(1);
      expect(beyond.page.map((r) => r.id)).toEqual(expected.slice(EXACT_COUNT_LIMIT - 19, EXACT_COUNT_LIMIT + 32));
    }
  });

  it('a fragment in more values than are read whole is walked, its postings unread, whatever the statistics say', async () => {
    // "seed-" is in 997 values; with room for 500 the values are only counted, to 501 (one statement, no
    // posting read), then the page is walked, and the total is an estimate of at least those counted.
    const underestimated = statisticsHolding(400);
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    const { rows: expected } = await env.pool.query<{ id: string }>(
      `select o.id from "order" o join order_search s on s.order_id = o.id where strpos(s.document, 'seed-') > 0 order by o.created_at desc, o.id desc limit 51`,
    );
    const { em, statements } = countingStatements();
    const found = await searchPage(em, { q: 'seed-' }, ordering, undefined, 51, 10_000, underestimated, undefined, 500);
    expect(found.page.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(found.total).toEqual({ value: 501, exact: false });
    expect(statements).toHaveLength(2);
    // With the statistics of created_at, the page's density over the span it walked: every order holds
    // "seed-", so 51 of the ~51 documents created in that span, spread over all SEEDED.
    const statistics = new SearchStatistics(env.server.orm);
    const { documentsCreated } = statistics;
    const spread = { documentsHolding: async () => ({ holding: 400, documents: SEEDED }), documentsCreated: documentsCreated.bind(statistics), ordersMatching: async () => undefined } as unknown as SearchStatistics;
    await statistics.documentsHolding('seed-');
    const dense = await searchPage(env.server.orm.em.fork(), { q: 'seed-' }, ordering, undefined, 51, 10_000, spread, undefined, 500);
    expect(dense.page.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(dense.total.exact).toBe(false);
    expect(dense.total.value).toBeGreaterThan(SEEDED * 0.7);
    expect(dense.total.value).toBeLessThanOrEqual(SEEDED * 1.05);
    // With a filter only "order" has (registered customers, about half): about as many as it keeps.
    const half = await searchPage(env.server.orm.em.fork(), { q: 'seed-', customerType: 'user' }, ordering, undefined, 51, 10_000, spread, undefined, 500);
    const users = Number((await env.pool.query(`select count(*) from "order" where customer_type = 'user'`)).rows[0].count);
    expect(half.total.exact).toBe(false);
    expect(half.total.value).toBeGreaterThan(users * 0.6);
    expect(half.total.value).toBeLessThan(users * 1.5);
    const compiled = fewMatchesQuery({ q: 'seed-' }, undefined, true, 51, 'created', false, 500).compile(env.server.orm.em.fork().getKysely() as never);
    const { rows } = await env.pool.query(`explain (analyze, costs off) ${compiled.sql}`, [...compiled.parameters]);
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/One-Time Filter/);
    expect(text).toMatch(/on order_search_posting p \(never executed\)/);
    expect(text).not.toMatch(/on order_search_posting p \(actual/);
    const [counts] = (await env.pool.query(compiled.sql, [...compiled.parameters])).rows;
    expect(counts).toMatchObject({ read: false, values: 501, candidates: EXACT_COUNT_LIMIT + 1 });
    // With room for them, the same statement reads them.
    const readAll = fewMatchesQuery({ q: 'seed-' }, undefined, true, 51).compile(env.server.orm.em.fork().getKysely() as never);
    expect((await env.pool.query(readAll.sql, [...readAll.parameters])).rows[0]).toMatchObject({ read: true, values: 997 });
    // Read whole (a bounded walk's fallback), whatever the room: every value's postings, counted exactly.
    const whole = fewMatchesQuery({ q: 'seed-' }, undefined, true, 51, 'created', true, 500).compile(env.server.orm.em.fork().getKysely() as never);
    expect((await env.pool.query(whole.sql, [...whole.parameters])).rows[0]).toMatchObject({ read: true, values: 997, matches: SEEDED });
  });

  it('a fragment’s estimate is held for the statistics it came from: statistics read again estimate it again', async () => {
    const fresh = await startBackofficeEnv();
    try {
      const explained = async () => {
        const { rows } = await fresh.pool.query(`explain (format json) select 1 from order_search s where s.document like $1`, [containsPattern('seed-')]);
        return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'] as number;
      };
      await seedOrders(fresh, 600);
      await fresh.pool.query('analyze order_search');
      const statistics = new SearchStatistics(fresh.server.orm, 0);
      const before = await statistics.documentsHolding('seed-');
      expect(before?.holding).toBe(await explained());
      await seedOrders(fresh, 600, 'more');
      await fresh.pool.query('analyze order_search');
      // Older than maxAgeMs (0): the next question reads them again in the background, the one after uses them.
      await statistics.documentsHolding('seed-');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await statistics.documentsHolding('seed-');
      expect(after?.holding).toBe(await explained());
      expect(after?.documents).toBeGreaterThan(before!.documents * 1.5);
    } finally {
      await fresh.close();
    }
  });

  it('without a histogram of 100 documents (a table never analyzed, or a small one) a fragment’s documents are left to EXPLAIN', async () => {
    const fresh = await startBackofficeEnv();
    try {
      await seedOrders(fresh, 50);
      expect(await new SearchStatistics(fresh.server.orm).documentsHolding('seed-')).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('a fragment by total: a common one walks "order" by its total, a rare one is read whole and sorted; both page to the end by keyset', async () => {
    const text = await plan(pageQuery({ q: 'seed-' }, { sort: 'total', direction: 'desc' }, undefined, 51, 'orders'));
    // Largest first from the total's own index (no sort of every match), each order's document by primary key.
    expect(text).toMatch(/Index (Only )?Scan Backward using order_total_idx on "order" o/);
    expect(text).toMatch(/Index Scan using order_search_pkey on order_search s/);
    expect(text).not.toMatch(/Sort|Hash|Seq Scan/);
    const cases: [OrderSearchFilter & { q: string }, number][] = [[{ q: 'seed-', status: ['failed'] }, 500], [{ q: 'seed-12' }, 40]];
    for (const [filter, limit] of cases) {
      const { rows } = await env.pool.query<{ id: string }>(
        `select o.id from "order" o join order_search s on s.order_id = o.id
          where strpos(s.document, $1) > 0 and ($2::text[] is null or o.status = any($2)) order by o.total desc, o.id desc`,
        [filter.q, filter.status ?? null],
      );
      expect(rows.length).toBeGreaterThan(limit);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await viewer.client.backoffice.orders.search.query({ ...filter, sort: 'total', direction: 'desc', limit, ...(cursor ? { cursor } : {}) });
        // A rare fragment is counted exactly; a common one's total is the planner's estimate.
        if (filter.q === 'seed-12') expect(page.total).toEqual({ value: rows.length, exact: true });
        seen.push(...page.items.map((r) => r.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(rows.map((r) => r.id));
    }
  });

  it('a common fragment by total within a date range: the range’s documents checked in place, their matches sorted', async () => {
    const { rows: [middle] } = await env.pool.query<{ at: string }>(`select created_at::text as at from order_search order by created_at desc offset 5000 limit 1`);
    const filter = { q: 'seed-1', createdFrom: new Date(middle!.at).toISOString() };
    const text = await plan(pageQuery(filter, { sort: 'total', direction: 'desc' }, undefined, 51, 'range'));
    // (How the few matches then meet "order" is the planner's choice: at 20,000 orders it hashes them.)
    expect(text).toMatch(/Subquery Scan on s[\s\S]*order_search_created_idx/);
    expect(text).not.toMatch(/order_total_idx|Seq Scan on order_search/);
    const { rows } = await env.pool.query<{ id: string }>(
      `select o.id from "order" o join order_search s on s.order_id = o.id
        where strpos(s.document, $1) > 0 and s.created_at >= $2::timestamptz order by o.total desc, o.id desc`,
      [filter.q, filter.createdFrom],
    );
    expect(rows.length).toBeGreaterThan(30);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await searchPage(env.server.orm.em.fork(), filter, { sort: 'total', direction: 'desc' }, cursor ? positionOf({ sort: 'total', direction: 'desc' }, cursor) : undefined, 21);
      seen.push(...page.page.slice(0, 20).map((r) => r.id));
      if (page.page.length <= 20) break;
      cursor = cursorFor({ sort: 'total', direction: 'desc' }, page.page[19]!);
    }
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('a fragment rarer than its filters walks its postings by date, "order" looked up only until the page is full', async () => {
    // The choice, with the sizes measured at 1,000,000 orders (a page of 51):
    // "walnut" + EUR in 90 days: ~5,500 of 250,000 documents, 20 % EUR: its postings.
    expect(cheapestWalk({ documents: 5_500, walked: 250_000, fetch: 51, share: 0.2, byDate: true })).toBe('postings');
    // By total the postings' order is no use: "order" is walked by its total.
    expect(cheapestWalk({ documents: 5_500, walked: 250_000, fetch: 51, share: 0.2, byDate: false })).toBe('orders');
    // "mug" + failed: 300,000 documents, 5 % failed: "order" walked through order_status_idx.
    expect(cheapestWalk({ documents: 300_000, walked: 1_000_000, fetch: 51, share: 0.05, byDate: true })).toBe('orders');
    // A big page of a fragment in few documents and a rare filter: read whole (and counted).
    expect(cheapestWalk({ documents: 2_000, walked: 20_000, fetch: 500, share: 0.05, byDate: true })).toBeUndefined();
    // Without the filters' share (no filter only "order" has), no postings walk.
    expect(cheapestWalk({ documents: 5_500, walked: 250_000, fetch: 51, share: undefined, byDate: true })).toBe('orders');
    // Filters the postings carry (status, currency): only the page's orders are looked up, whichever
    // way they are read. Up to EXACT_COUNT_LIMIT documents they are read whole and counted ("walnut"
    // + EUR, "amelia rob" + paid); past it walked by date; "mug" + failed still walks "order".
    expect(cheapestWalk({ documents: 5_500, walked: 250_000, fetch: 51, share: 0.2, byDate: true, carried: true })).toBeUndefined();
    expect(cheapestWalk({ documents: 2_000, walked: 1_000_000, fetch: 51, share: 0.62, byDate: true, carried: true })).toBeUndefined();
    expect(cheapestWalk({ documents: 12_000, walked: 1_000_000, fetch: 51, share: 0.2, byDate: true, carried: true })).toBe('postings');
    expect(cheapestWalk({ documents: 12_000, walked: 1_000_000, fetch: 51, share: undefined, byDate: true, carried: true })).toBe('orders');
    expect(cheapestWalk({ documents: 300_000, walked: 1_000_000, fetch: 51, share: 0.05, byDate: true, carried: true })).toBe('orders');

    // A fragment in one value held by 2,000 orders spread over the whole time (a buyer with a shared mailbox).
    await env.pool.query(`update "order" set customer_email = 'walnut.buyer@example.com' where id in (select id from "order" order by md5(id::text) limit 2000)`);
    await env.pool.query('vacuum (analyze) order_search, order_search_value, order_search_posting');
    const filter = { q: 'walnut.buyer', currency: 'EUR' as const, status: ['paid' as const, 'failed' as const, 'pending' as const] };
    const text = await plan(postingsPageQuery(filter, undefined, true, 51));
    // The fragment's values by their trigram index, their postings index-only, and "order" by primary
    // key one posting at a time: never a join of every order the filters keep.
    expect(text).toMatch(/Index Only Scan using order_search_posting_pkey on order_search_posting p/);
    expect(text).toMatch(/Index Scan using order_pkey on "order" o/);
    expect(text).not.toMatch(/Seq Scan on "order"|Hash Join|order_search_created_idx|order_currency/);

    // Every page, both directions, within a date range and without, to the end by keyset: the same
    // orders as a plain query, in the same order.
    const { rows: [middle] } = await env.pool.query<{ at: string }>(`select created_at::text as at from order_search order by created_at desc offset 8000 limit 1`);
    const truth = async (ranged: OrderSearchFilter, desc: boolean) =>
      (
        await env.pool.query<{ id: string }>(
          `select o.id from "order" o join order_search s on s.order_id = o.id
            where strpos(s.document, $1) > 0 and o.currency = 'EUR' and ($2::text[] is null or o.status = any($2)) and ($3::timestamptz is null or o.created_at >= $3)
              and ($4::bigint is null or o.total >= $4)
            order by o.created_at ${desc ? 'desc' : 'asc'}, o.id ${desc ? 'desc' : 'asc'}`,
          [ranged.q, ranged.status ?? null, ranged.createdFrom ?? null, ranged.amountMin ?? null],
        )
      ).rows.map((r) => r.id);
    for (const dated of [{}, { createdFrom: new Date(middle!.at).toISOString() }]) {
      for (const desc of [true, false]) {
        const ranged = { ...filter, ...dated };
        const expected = await truth(ranged, desc);
        expect(expected.length).toBeGreaterThan(100);
        const seen: string[] = [];
        let after: KeysetPosition | undefined;
        for (;;) {
          const found = await rowsOf(env.server.orm.em.fork(), postingsPageQuery(ranged, after, desc, 41));
          expect(found[0]!.values).toBe(1);
          const page = found.filter((row) => row.id !== null);
          seen.push(...page.slice(0, 40).map((r) => r.id));
          if (page.length <= 40) break;
          after = positionAfter({ sort: 'created', direction: desc ? 'desc' : 'asc' }, page[39]!);
        }
        expect(seen, `${JSON.stringify(dated)} ${desc}`).toEqual(expected);
      }
    }
    // A fragment in more values than the walk reads ("seed-1": seed-1, seed-10…19, seed-100…199) is not
    // walked: one row says so, with no page.
    const capped = await rowsOf(env.server.orm.em.fork(), postingsPageQuery({ q: 'seed-1', currency: 'EUR' }, undefined, true, 41));
    expect(capped).toHaveLength(1);
    expect(capped[0]).toMatchObject({ values: POSTINGS_WALK_VALUES + 1, id: null });

    // With a filter the postings do not carry (an amount), the search takes the walk (statistics read
    // after the update), to the end; the total is estimated as the fragment's documents times the
    // share of orders the filters keep. With the currency alone, which they carry, its postings are
    // read whole: the same orders, counted exactly.
    const statistics = new SearchStatistics(env.server.orm);
    const ordering: OrderOrdering = { sort: 'created', direction: 'desc' };
    for (const walked of [{ q: 'walnut.buyer', currency: 'EUR' as const, amountMin: 1 }, { q: 'walnut.buyer', currency: 'EUR' as const }]) {
      const expected = await truth(walked, true);
      const seen: string[] = [];
      let after: KeysetPosition | undefined;
      for (let page = 0; ; page++) {
        const found = await searchPage(env.server.orm.em.fork(), walked, ordering, after, 101, 10_000, statistics);
        if (page === 0 && 'amountMin' in walked) {
          expect(found.total.exact).toBe(false);
          expect(found.total.value).toBeGreaterThan(expected.length * 0.5);
          expect(found.total.value).toBeLessThan(expected.length * 2);
        } else if (page === 0) {
          expect(found.total).toEqual({ value: expected.length, exact: true });
        }
        seen.push(...found.page.slice(0, 100).map((r) => r.id));
        if (found.page.length <= 100) break;
        after = positionAfter(ordering, found.page[99]!);
      }
      expect(seen, JSON.stringify(walked)).toEqual(expected);
    }
    // The capped fragment through the API: its postings read whole instead (2,743 documents, the
    // currency checked in their index) and counted; with an amount too, "order" walked. The same
    // pages as a plain query either way.
    await expectEstimatedWalk({ q: 'seed-1', currency: 'EUR', limit: 100 }, await truth({ q: 'seed-1' }, true), true);
    await expectEstimatedWalk({ q: 'seed-1', currency: 'EUR', amountMin: 1, limit: 100 }, await truth({ q: 'seed-1', amountMin: 1 }, true));
  });

  it('a walk of "order" gives up past its bound for reading the fragment whole: a fragment and filters that exclude each other', async () => {
    // The sizes measured at 1M orders. "user-10" with the anonymous orders: bounded at 8 × the expected walk.
    expect(walkBound({ kept: 220_000, documents: 38_000, expected: 1_592 })).toBe(8 * 1_592);
    // "user-1" (313,000 documents): walking every anonymous order costs less than reading it whole.
    expect(walkBound({ kept: 220_000, documents: 313_000, expected: 163 })).toBeUndefined();
    // Never more than reading whole costs, never fewer than MIN_WALK_BOUND.
    expect(walkBound({ kept: 200_000, documents: 4_628, expected: 3_284 })).toBe(2 * 4_628);
    expect(walkBound({ kept: 300_000, documents: 100_000, expected: 10 })).toBe(MIN_WALK_BOUND);
    // A bound above an eighth of the walk's worst case is none: "gmail" by total in 30 days.
    expect(walkBound({ kept: 101_000, documents: 15_000, expected: 3_455 })).toBeUndefined();

    // A name held by 2,000 anonymous orders, and by one order of a signed-in customer, the oldest: with
    // the signed-in customers' filter "order" is walked (the planner takes the two as independent: two
    // thirds of 2,000) and the one match is at the end of every signed-in customer's order.
    await env.pool.query(`update "order" set customer_name = 'Ulla Userton' where id in
                            (select id from "order" where customer_type = 'anonymous' order by md5(id::text) limit 2000)`);
    await env.pool.query(`update "order" set customer_name = 'Ulla Userton' where id = (select id from "order" where customer_type = 'user' order by created_at, id limit 1)`);
    await env.pool.query('vacuum (analyze) "order", order_search, order_search_value, order_search_posting');
    const { rows: [counted] } = await env.pool.query<{ users: number }>(`select count(*)::int as users from "order" where customer_type = 'user'`);
    const users = counted!.users;
    const filter: OrderSearchFilter = { q: 'userton', customerType: 'user' };
    const newest: OrderOrdering = { sort: 'created', direction: 'desc' };

    // The bounded walk: the bound-th order comes back whatever its document holds, marked, when the
    // page is not full by then; "order" is walked through its index and nothing is sorted above it.
    const walked = await rowsOf(env.server.orm.em.fork(), pageQuery(filter, newest, undefined, 51, 'orders', 500));
    expect(walked).toHaveLength(1);
    expect(walked[0]!.pastBound).toBe(true);
    expect(walked[0]!.customerName).toBeNull();
    const text = await plan(pageQuery(filter, newest, undefined, 51, 'orders', 500));
    expect(text).toMatch(/Limit [^\n]*\n\s*->  Subquery Scan on w[^\n]*\n[^\n]*\n\s*->  WindowAgg[^\n]*\n[^\n]*\n\s*->  Limit [^\n]*\n\s*->  Index Scan using order_created_idx on "order"/);
    expect(text).not.toMatch(/Sort|Seq Scan on "order"/);
    // Several statuses share one bound: their walks merged in the walk's order (Merge Append) and
    // numbered once, so the walk stops at the bound-th order of them all, not at the bound-th of each.
    const two: OrderSearchFilter = { ...filter, status: ['paid', 'pending'] };
    const merged = await rowsOf(env.server.orm.em.fork(), pageQuery(two, newest, undefined, 51, 'orders', 500));
    const { rows: [boundth] } = await env.pool.query<{ id: string }>(
      `select id::text from "order" where customer_type = 'user' and status in ('paid', 'pending') order by created_at desc, id desc offset 499 limit 1`,
    );
    expect(merged.map((r) => [r.id, r.pastBound])).toEqual([[boundth!.id, true]]);
    const mergedPlan = await plan(pageQuery(two, newest, undefined, 51, 'orders', 500));
    expect(mergedPlan.match(/WindowAgg/g)).toHaveLength(1);
    expect(mergedPlan).toMatch(/WindowAgg[^\n]*\n[^\n]*\n\s*->  Limit [^\n]*\n\s*->  Merge Append/);
    // Within the bound nothing is marked: every signed-in customer's order walked, the one match found.
    const whole = await rowsOf(env.server.orm.em.fork(), pageQuery(filter, newest, undefined, 51, 'orders', users + 1));
    expect(whole.map((r) => [r.customerName, r.pastBound])).toEqual([['Ulla Userton', false]]);

    // The search walks within its bound (for a page of 10: ~110 orders expected, bounded at
    // MIN_WALK_BOUND of the ~13,333 signed-in customers' orders) and then reads the fragment whole: the
    // one match, counted exactly, both sorts and directions.
    const statistics = new SearchStatistics(env.server.orm);
    for (const ordering of [newest, { sort: 'created', direction: 'asc' }, { sort: 'total', direction: 'desc' }, { sort: 'total', direction: 'asc' }] as OrderOrdering[]) {
      const found = await searchPage(env.server.orm.em.fork(), filter, ordering, undefined, 11, 10_000, statistics);
      expect(found.page.map((r) => r.customerName), JSON.stringify(ordering)).toEqual(['Ulla Userton']);
      expect(found.total).toEqual({ value: 1, exact: true });
      expect(Object.keys(found.page[0]!)).not.toContain('pastBound');
    }
    // Through the API, with the status filter too (several statuses: one bounded walk of them merged).
    const truth = async (statuses: string[] | null, ordering: OrderOrdering = newest) =>
      (
        await env.pool.query<{ id: string }>(
          `select o.id from "order" o join order_search s on s.order_id = o.id
            where strpos(s.document, 'userton') > 0 and o.customer_type = 'user' and ($1::text[] is null or o.status = any($1))
            order by o.${ordering.sort === 'created' ? 'created_at' : 'total'} ${ordering.direction}, o.id ${ordering.direction}`,
          [statuses],
        )
      ).rows.map((r) => r.id);
    const { rows: [oldest] } = await env.pool.query<{ status: string }>(`select status from "order" where customer_type = 'user' and customer_name = 'Ulla Userton'`);
    for (const status of [null, [oldest!.status, 'cancelled'], ['failed', 'pending', 'paid', 'cancelled', 'refunded', 'partially_refunded'].filter((s) => s !== oldest!.status)]) {
      const result = await viewer.client.backoffice.orders.search.query({ ...filter, ...(status ? { status: status as never } : {}), limit: 10 });
      expect(result.items.map((r) => r.id)).toEqual(await truth(status));
      expect(result.total.exact).toBe(true);
    }

    // Pages to the end: 15 matches among the newest signed-in customers' orders and 10 far older.
    // The first page is found within the bound; the next needs the older ones, past it, and reads
    // the fragment whole from the cursor on. Both sorts, both directions, against a plain query.
    await env.pool.query(`update "order" set customer_name = 'Ulla Userton' where id in
                            (select id from "order" where customer_type = 'user' order by created_at desc, id desc limit 15)`);
    await env.pool.query(`update "order" set customer_name = 'Ulla Userton' where id in
                            (select id from "order" where customer_type = 'user' order by created_at, id offset 100 limit 10)`);
    for (const ordering of [newest, { sort: 'created', direction: 'asc' }, { sort: 'total', direction: 'desc' }, { sort: 'total', direction: 'asc' }] as OrderOrdering[]) {
      const expected = await truth(null, ordering);
      expect(expected).toHaveLength(26);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await viewer.client.backoffice.orders.search.query({ ...filter, ...ordering, limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...result.items.map((r) => r.id));
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
      }
      expect(seen, JSON.stringify(ordering)).toEqual(expected);
    }
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
