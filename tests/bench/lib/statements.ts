import pg from 'pg';
import { readStatements, resetStatements, type StatementStat } from './postgres.ts';

export interface CountedStatement {
  /** Calls per operation (calls ÷ operations in the window). */
  perOp: number;
  calls: number;
  /** Normalised text (pg_stat_statements), whitespace collapsed and shortened. */
  sql: string;
  explanation: string;
  /** Queue bookkeeping (pg-boss's statements and the payments sweep it runs for Orders, the job table's for the baseline), listed apart from the operation's own. */
  queue: boolean;
}

export interface StatementCount {
  operation: string;
  operations: number;
  /** Application statements per operation, BEGIN/COMMIT included. */
  perOp: number;
  /** pg-boss statements per operation in the same window (includes its idle polling, see notes). */
  queuePerOp: number;
  statements: CountedStatement[];
}

const EXPLANATIONS: [RegExp, string][] = [
  [/^begin$/i, 'transaction start'],
  [/^commit$/i, 'transaction end'],
  [/^rollback$/i, 'transaction rolled back'],
  [/from api_key k where k\.key_hash/, 'authenticate the bearer (service key ∪ staff session), once per HTTP request'],
  [/^update api_key set last_used_at = now\(\)/, 'authenticate: the key\'s "last used", at most once a minute per key'],
  // The one-statement intake (data-modifying CTEs, Orders' text mirrored by the baseline).
  [/^with cart_now as materialized \( select c\.id, c\.customer_type/, 'carts.setItem, one statement: lock the cart, check every rule, upsert/delete the line, touch the cart, answer the lines (again when the cart row moved)'],
  [/^with cart_now as materialized \( select c\.id, c\.checked_out_at/, 'orders.create (cart), one statement: lock cart + products, check, quote, reserve stock, check out, insert order + audit (again when the cart row moved)'],
  [/^with wanted as \( select i\.sku, i\.quantity/, 'orders.create (items), one statement: lock products, check, make the checked-out cart + lines, reserve stock, insert order + audit'],
  [/^select id from order_payment_attempt where order_id = \$1 and status in \(\$2[^)]*\) and execute_started_at/, 'attemptToPay: a payment being executed right now? (execute claim, after the order lock)'],
  [/^with superseded as \(update order_payment_attempt/, 'attemptToPay, one statement: supersede open attempts, insert the attempt, read the lines for PayPal'],
  [/^with stored as \( update order_payment_attempt set external_id/, 'attemptToPay, one statement: store PayPal\'s payment on the attempt + record the event'],
  [/^insert into cart \(id, created_at, updated_at, customer_type, customer_id\) values \(\$1, now\(\), now\(\), \$2, \$3\)$/, 'one-call orders.create: the cart row (not returned)'],
  [/^insert into cart_line \(id, created_at, updated_at, cart_id, sku, quantity\) select .* from unnest/, 'one-call orders.create: the cart lines from the items (unknown skus dropped, then refused)'],
  [/^insert into cart \(/, 'carts.create: the cart row'],
  [/from cart where id = \$1 and customer_type = \$2 and customer_id = \$3\s+for update/, 'lock the customer\'s own cart (ownership check + row lock)'],
  [/^select p\.currency, p\.stock, p\.unit_price/, 'setItem: product price/stock + one-currency check'],
  [/^insert into cart_line/, 'setItem: upsert the cart line'],
  [/^delete from cart_line/, 'setItem: remove the line (quantity 0)'],
  [/^update cart set updated_at = now\(\) where id = \$1 returning/, 'setItem: touch the cart'],
  [/^select l\.sku, coalesce\(l\.quoted_name/, 'load the cart lines for the response (loadLines)'],
  [/^update cart_line l set quoted_unit_price/, 'orders.create: quote catalog prices onto the lines'],
  [/^select p\.sku, l\.quantity, p\.stock from cart_line/, 'reserve stock: lock the products in sku order'],
  [/^update product p set stock = p\.stock - l\.quantity/, 'reserve stock: decrement'],
  [/^update cart set checked_out_at/, 'orders.create: mark the cart checked out'],
  [/^insert into "order"/, 'orders.create: the order row'],
  [/^insert into audit_entry/, 'audit trail entry (same transaction)'],
  [/^select o\.id, (?:o\.number, )?o\.customer_type .* from "order" o\s+where o\.id = \$1 and o\.customer_type = \$2 and o\.customer_id = \$3 for no key update/, 'attemptToPay: lock the customer\'s own order (one statement)'],
  [/^select\s+\(select id from order_payment_attempt where sale_id = \$\d+ and id <> \$\d+\)/, 'sale id already another attempt\'s, or another succeeded attempt? (one query)'],
  [/^select id from payment_event where source = \$\d+ and processing = \$\d+ and created_at/, 'payments sweep (every minute): stranded IPNs to re-queue'],
  [/^update order_payment_attempt set status = \$1, failure_reason = \$2, updated_at = now\(\) where status in/, 'payments sweep (every minute): expire stale attempts'],
  [/^select o\.id, (?:o\.number, )?o\.customer_type .* from "order" o\s+where o\.id = \(select order_id from order_payment_attempt where id = \$1\) for no key update/, 'lockOrderAndAttempt: lock the attempt\'s order (one statement)'],
  [/^select o\.id, (?:o\.number, )?o\.customer_type .* from "order" o where o\.id = \$1 for (no key )?update/, 'lock the order (findOrder … for no key update)'],
  [/^select o\.id, (?:o\.number, )?o\.customer_type .* from "order" o where o\.id = \$1$/, 'read the whole order again (findOrder) — already locked just before'],
  [/^update order_payment_attempt set status = \$1, failure_reason = \$2, updated_at = now\(\)\s+where order_id/, 'attemptToPay: supersede the order\'s open attempts'],
  [/^insert into order_payment_attempt/, 'attemptToPay: the attempt row'],
  [/^update order_payment_attempt set external_id/, 'attemptToPay: store PayPal\'s payment id, approval URL, raw response'],
  [/^insert into payment_event/, 'payment_event: store what the provider said (IPN inbox row for the listener)'],
  [/^select raw_body as "rawBody"/, 'IPN worker: load the stored message'],
  [/^select processing from payment_event where id = \$1 for update/, 'IPN worker: lock the event (two jobs for one event must not both act)'],
  [/^select id from payment_event where dedup_key/, 'IPN worker: duplicate check (txn_id, status)'],
  [/from order_payment_attempt a where a\.sale_id = \$1/, 'IPN worker: find the attempt by sale id'],
  [/from order_payment_attempt a where a\.id = \$1 for (no key )?update/, 'lock the attempt (lockOrderAndAttempt)'],
  [/from order_payment_attempt a where a\.id = \$1$/, 'find the attempt by id (invoice)'],
  [/^update order_payment_attempt a set\s+status = coalesce/, 'attempt → succeeded, sale id, payer'],
  [/^update "order" o set status = \$\d+, paid_at = now\(\)/, 'order → paid (conditional update decides the race)'],
  [/^insert into order_line/, 'freeze the paid lines (snapshot)'],
  [/^select \$1$/, 'connection check (pool / ORM ping, not per operation)'],
  [/^select "a"\."id", "a"\."order_id" as "orderId"/, 'find the attempt (findAttempt, typed Kysely)'],
  [/^select pg_advisory_xact_lock\(hashtextextended/, 'lock the sale (advisory, lockSale)'],
  [/^with changed as \( update order_payment_attempt a set status = coalesce/, 'attempt → succeeded, sale id, payer (payer onto the order), one statement'],
  [/^insert into money_movement/, 'money ledger: record the sale\'s capture'],
  [/^select id, sale_id as "saleId", kind, amount/, 'money ledger: movements waiting for the sale (parked refunds/reversals)'],
  [/^update payment_event set verification/, 'IPN worker: record verification result and outcome'],
  [/^select page\.\*, latest\.external_id/i, 'search: the page (keyset order; latest attempt per row through a lateral join)'],
  [/^select count\(\*\)::int as n from \(\s*select \$?\d* ?from "order" o/i, 'search: bounded count (stops at 10,001)'],
  [/^select count\(\*\)::int as n from \(select/i, 'search: bounded count (stops at 10,001)'],
  [/^with v as materialized \( select v\.id from order_search_value v/i, 'search: a rare fragment, page and exact count in one statement'],
  [/^explain \(format json\) select 1 from order_search s/i, 'search: planner estimate of a fragment\'s documents'],
  [/^explain \(format json\)/i, 'search: planner estimate, when more than 10,000 match'],
  [/^insert into bench_ipn_job/, 'baseline queue: enqueue'],
  [/^update bench_ipn_job/, 'baseline queue: claim one job (skip locked)'],
  [/^delete from bench_ipn_job/, 'baseline queue: job done'],
  [/^insert into pgboss\.job/i, 'pg-boss send: insert the job (singleton key)'],
  [/from only "pgboss"\."queue" x .* for key share/i, 'pg-boss send: foreign-key check job → queue (RI trigger)'],
  [/^with next as \( select j\.id from pgboss\.job/i, 'pg-boss fetch: claim the next job(s) (includes empty polls)'],
  [/^with results as \( update pgboss\.job_common set completed_on/i, 'pg-boss complete: mark the job done'],
  [/pgboss/i, 'pg-boss maintenance / cron / queue cache (background, not per job)'],
];

export function explain(sql: string): string {
  return EXPLANATIONS.find(([pattern]) => pattern.test(sql))?.[1] ?? '(unclassified)';
}

const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** pg_stat_statements around `run`, for one database; `operations` is how many operations `run` performed. */
export async function countStatements(options: {
  statsPool: pg.Pool;
  database: string;
  operation: string;
  operations: number;
  run: () => Promise<void>;
}): Promise<StatementCount> {
  await resetStatements(options.statsPool);
  await options.run();
  // pg_stat_statements records a statement when it finishes; the last ones are already in.
  const stats: StatementStat[] = await readStatements(options.statsPool, options.database);
  const statements = stats
    .map((s) => {
      const sql = normalise(s.query);
      const explanation = explain(sql);
      // Queue bookkeeping and the minute sweep it runs are listed apart from the operation's own statements.
      const queue = /"?pgboss"?\.|bench_ipn_job/i.test(sql) || explanation.startsWith('payments sweep');
      return { perOp: s.calls / options.operations, calls: s.calls, sql: sql.length > 160 ? `${sql.slice(0, 157)}…` : sql, explanation, queue };
    })
    .filter((s) => !/pg_stat_statements_reset/.test(s.sql));
  const sum = (list: CountedStatement[]) => Math.round(list.reduce((n, s) => n + s.calls, 0) / options.operations * 100) / 100;
  return {
    operation: options.operation,
    operations: options.operations,
    perOp: sum(statements.filter((s) => !s.queue)),
    queuePerOp: sum(statements.filter((s) => s.queue)),
    statements: statements.map((s) => ({ ...s, perOp: Math.round(s.perOp * 100) / 100 })),
  };
}
