import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { summarize, round, fmt, type LatencySummary } from './stats.ts';
import { dropSecondaryIndexes } from './seed.ts';

/*
 * The back office's first screen (backoffice.dashboard, issue 13) over the seeded year of orders.
 * seedSearchOrders leaves orders and one attempt each; the dashboard also reads the ledger
 * (money_movement), the IPN/webhook inbox (payment_event) and retried attempts, so
 * seedDashboardActivity adds what those orders imply, set-based like the rest of the seed.
 */

/**
 * Added to the orders seedSearchOrders loaded (run it after the search and export phases: the extra
 * attempts are not in the search documents):
 *  - a failed first try (no PayPal id: the create call was refused) 1–5 minutes before the seeded
 *    attempt, for 15 % of attempted orders, so attempts ≠ distinct orders per day;
 *  - the ledger: an applied capture per sale at paid_at; an applied refund per refunded order 1–10
 *    days later (if that is in the past); 0.3 % of sales reversed 20–40 days later, a third of those
 *    reversals cancelled 10 days after; 0.1 % of captures parked (not applied) instead;
 *  - the inbox: a processed IPN per sale (20 ms–3 s later), a processed webhook for half of them,
 *    an IPN per refund, and 40 IPNs of the last minutes still 'received' (the backlog).
 * FK and search triggers are off for the load (session_replication_role = replica): the rows
 * satisfy the keys by construction and carry nothing the search document reads; the sale sums the
 * ledger's trigger would keep (sale_ledger) are inserted from the loaded movements.
 */
export async function seedDashboardActivity(url: string, log: (line: string) => void): Promise<{ seconds: number; attempts: number; movements: number; events: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  try {
    await client.query(`set session_replication_role = replica; set synchronous_commit = off; set work_mem = '128MB'; set maintenance_work_mem = '256MB'`);
    await client.query(`select setseed(0.17)`);
    const retries = await client.query(
      `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, failure_reason)
       select gen_random_uuid(), a.created_at - interval '1 second' * (60 + random() * 240), a.created_at - interval '50 seconds',
              a.order_id, 'paypal', 'failed', a.amount, a.currency, 'bench: PayPal refused the payment creation'
         from order_payment_attempt a
        where a.external_id like 'PAY-%' and random() < 0.15`,
    );
    log(`dashboard seed: ${retries.rowCount?.toLocaleString('en-US')} failed first tries ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // As in seedSearchOrders: the secondary indexes are rebuilt after the load, from their own definitions.
    const secondary = await dropSecondaryIndexes(client, ['money_movement', 'payment_event']);
    const movements = await client.query(
      `with sale as (
         select o.id, o.total, o.currency, o.refunded_amount, o.paid_at, o.payment_transaction_id as sale_id, abs(hashtext(o.id::text)) as h
           from "order" o where o.payment_transaction_id is not null and o.paid_at is not null
            -- Sales the earlier phases paid for real already have their ledger and messages (NOT IN: one
            -- hashed set; a correlated NOT EXISTS was planned as a nested loop over the growing table).
            and o.payment_transaction_id not in (select m.provider_txn_id from money_movement m where m.provider_txn_id is not null)
       )
       insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id)
       select gen_random_uuid(), paid_at, paid_at, sale_id, 'capture', total, currency, case when h % 1000 = 0 then 'parked' else 'applied' end, sale_id, id
         from sale
       union all
       select gen_random_uuid(), t, t, sale_id, 'refund', refunded_amount, currency, 'applied', 'R' || sale_id, id
         from (select *, paid_at + interval '1 day' * (1 + h % 10) + interval '1 second' * (h % 86400) as t from sale where refunded_amount > 0) r
        where t < now()
       union all
       select gen_random_uuid(), t, t, sale_id, 'reversal', total, currency, 'applied', 'V' || sale_id, id
         from (select *, paid_at + interval '1 day' * (20 + h % 21) as t from sale where h % 1000 between 1 and 3) v
        where t < now()
       union all
       select gen_random_uuid(), t, t, sale_id, 'reversal_canceled', total, currency, 'applied', 'C' || sale_id, id
         from (select *, paid_at + interval '1 day' * (30 + h % 21) as t from sale where h % 1000 = 1) c
        where t < now()`,
    );
    // Triggers are off for the load: each seeded sale's sums (sale_ledger, which a trigger keeps for the
    // server's own writes) are filled here, as the migration does for existing rows.
    await client.query(
      `insert into sale_ledger (sale_id, captured, refunded, reversed, canceled)
       select sale_id, coalesce(sum(amount) filter (where kind = 'capture'), 0), coalesce(sum(amount) filter (where kind = 'refund'), 0),
              coalesce(sum(amount) filter (where kind = 'reversal'), 0), coalesce(sum(amount) filter (where kind = 'reversal_canceled'), 0)
         from money_movement where state = 'applied' and sale_id not in (select l.sale_id from sale_ledger l) group by sale_id`,
    );
    const events = await client.query(
      `with sale as (
         select o.id, o.total, o.currency, o.paid_at, o.payment_transaction_id as txn, abs(hashtext(o.id::text)) as h
           from "order" o where o.payment_transaction_id is not null and o.paid_at is not null
            and o.payment_transaction_id not in (select e.txn_id from payment_event e where e.txn_id is not null)
       ), refund as (
         select m.order_id as id, m.amount as total, m.currency, m.created_at as paid_at, m.provider_txn_id as txn, abs(hashtext(m.id::text)) as h
           from money_movement m where m.kind = 'refund'
            and m.provider_txn_id not in (select e.txn_id from payment_event e where e.txn_id is not null)
       ), arrival as (
         select 'ipn' as source, s.*, 'Completed' as status from sale s
         union all select 'webhook', s.*, 'PAYMENT.SALE.COMPLETED' from sale s where s.h % 2 = 0
         union all select 'ipn', r.*, 'Refunded' from refund r
       )
       insert into payment_event (id, created_at, updated_at, source, order_id, txn_id, provider_status, amount, currency,
                                  verification, processing, dedup_key, processed_at)
       select gen_random_uuid(), paid_at, paid_at, source, id, txn, status, total, currency, 'verified', 'processed',
              source || ':' || txn || ':' || status, paid_at + interval '1 millisecond' * (20 + h % 3000)
         from arrival
       union all
       select gen_random_uuid(), now() - interval '1 second' * i * 7, now() - interval '1 second' * i * 7, 'ipn', null, 'BACKLOG' || i,
              'Completed', 1000, 'USD', 'verified', 'received', 'ipn:BACKLOG' || i || ':Completed', null
         from generate_series(1, 40) i`,
    );
    log(`dashboard seed: ${movements.rowCount?.toLocaleString('en-US')} ledger rows, ${events.rowCount?.toLocaleString('en-US')} notifications ${((performance.now() - started) / 1000).toFixed(1)} s; rebuilding ${secondary.length} indexes`);
    for (const index of secondary) await client.query(index.def);
    await client.query(`vacuum (analyze) order_payment_attempt`);
    await client.query(`vacuum (analyze) money_movement`);
    await client.query(`vacuum (analyze) sale_ledger`);
    await client.query(`vacuum (analyze) payment_event`);
    await client.query(`checkpoint`);
    const seconds = (performance.now() - started) / 1000;
    log(`dashboard seed done in ${seconds.toFixed(1)} s`);
    return { seconds: round(seconds, 1), attempts: retries.rowCount ?? 0, movements: movements.rowCount ?? 0, events: events.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

export interface DashboardCase {
  name: string;
  input: { from: string; to: string; currency?: string };
  /** Counted against the p95 target: the ranges the screen offers. */
  target: boolean;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The screen's presets (DashboardScreen: today is a one-day custom range; 7, 30, 90 days), a currency, and the longest custom range. */
export function dashboardCases(now = Date.now()): DashboardCase[] {
  const last = (days: number) => ({ from: utcDay(now - (days - 1) * 86_400_000), to: utcDay(now) });
  return [
    { name: 'today', input: last(1), target: true },
    { name: '7 days', input: last(7), target: true },
    { name: '30 days', input: last(30), target: true },
    { name: '90 days', input: last(90), target: true },
    { name: '90 days, USD', input: { ...last(90), currency: 'USD' }, target: true },
    { name: '366 days (custom, longest allowed)', input: last(366), target: false },
  ];
}

export interface DashboardFigures extends DashboardCase {
  latency: LatencySummary;
  ordersTotal: number;
  attempts: number;
}

/**
 * Each case's whole procedure over HTTP (tRPC GET with the staff session's bearer token): one
 * untimed call (plans cached, pages warm), then `samples` calls in turn over the cases, so load
 * from elsewhere on the machine falls on every case alike.
 */
export async function measureDashboard(trpcUrl: string, token: string, samples: number, log: (line: string) => void): Promise<DashboardFigures[]> {
  const cases = dashboardCases();
  type Answer = { ordersTotal: number; conversionTotals: { attempts: number } };
  const call = async (input: DashboardCase['input']): Promise<Answer> => {
    const response = await fetch(`${trpcUrl}/backoffice.dashboard?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { result?: { data: Answer }; error?: { message?: string } };
    if (!response.ok || !body.result) throw new Error(`backoffice.dashboard: HTTP ${response.status} ${body.error?.message ?? ''}`);
    return body.result.data;
  };
  const first: Answer[] = [];
  for (const c of cases) first.push(await call(c.input));
  const timings: number[][] = cases.map(() => []);
  for (let i = 0; i < samples; i++) {
    for (const [index, c] of cases.entries()) {
      const t0 = performance.now();
      await call(c.input);
      timings[index]!.push(performance.now() - t0);
    }
  }
  return cases.map((c, index) => {
    const latency = summarize(timings[index]!);
    log(`dashboard "${c.name}": p50 ${fmt(latency.p50)} ms, p95 ${fmt(latency.p95)} ms, max ${fmt(latency.max)} ms (${first[index]!.ordersTotal.toLocaleString('en-US')} orders)`);
    return { ...c, latency, ordersTotal: first[index]!.ordersTotal, attempts: first[index]!.conversionTotals.attempts };
  });
}

/** The report's section for the results' `dashboard` entry. */
export function dashboardReport(result: { orders: number; seed: { seconds: number }; targetMs: number; cases: DashboardFigures[] }): string[] {
  const worst = Math.max(...result.cases.filter((c) => c.target).map((c) => c.latency.p95));
  return [
    `\nBack-office dashboard over ${result.orders.toLocaleString('en-US')} orders (ledger, inbox and retries seeded in ${result.seed.seconds} s): p95 of the whole procedure over HTTP, target ≤ ${result.targetMs} ms — worst ${fmt(worst)} ms ${worst <= result.targetMs ? 'MET' : 'MISSED'}`,
    ...result.cases.map((c) => `   ${c.name.padEnd(36)} p50 ${fmt(c.latency.p50).padStart(8)}  p95 ${fmt(c.latency.p95).padStart(8)}  max ${fmt(c.latency.max).padStart(8)} ms  (${c.ordersTotal.toLocaleString('en-US')} orders, ${c.attempts.toLocaleString('en-US')} attempts)${c.target ? '' : '  [not a target]'}`),
  ];
}
