import pg from 'pg';
import type { OrderSearchFilter } from '@orders/shared';
import { MIN_NUMBER_PREFIX, containsPattern, numberPrefixRanges } from '@orders/server/modules/backoffice/order-text-match.ts';

/**
 * The SQL that `backoffice.orders.search` implies (shared/src/backoffice.ts): filters, keyset
 * pagination on (sort key, id), the latest attempt's PayPal id and payer email per row, and a total
 * that is exact up to 10,000 matches and the planner's estimate above. Hand-written for the bench's
 * raw-pg baseline; the server's own implementation may differ.
 */
export interface SearchQuery {
  filter: OrderSearchFilter;
  sort: 'created' | 'total';
  direction: 'asc' | 'desc';
  limit: number;
  /** The last row of the previous page. */
  after?: { key: string | number; id: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function where(filter: OrderSearchFilter, values: unknown[]): string {
  const param = (value: unknown) => `$${values.push(value)}`;
  const clauses: string[] = [];
  if (filter.status?.length) clauses.push(`o.status = any(${param(filter.status)}::text[])`);
  if (filter.createdFrom) clauses.push(`o.created_at >= ${param(filter.createdFrom)}::timestamptz`);
  if (filter.createdTo) clauses.push(`o.created_at < ${param(filter.createdTo)}::timestamptz`);
  if (filter.customerType) clauses.push(`o.customer_type = ${param(filter.customerType)}`);
  if (filter.customerId) clauses.push(`o.customer_id = ${param(filter.customerId)}`);
  if (filter.amountMin !== undefined) clauses.push(`o.total >= ${param(filter.amountMin)}`);
  if (filter.amountMax !== undefined) clauses.push(`o.total <= ${param(filter.amountMax)}`);
  if (filter.currency) clauses.push(`o.currency = ${param(filter.currency)}`);
  if (filter.q) {
    // The contract's reading of q (shared/src/backoffice.ts): digits are an order number by prefix
    // (1–2 digits exactly), a whole uuid an order or attempt, anything else a fragment of the order's
    // search document (its ids, customer, payer, PayPal ids, skus, product names).
    const q = filter.q.trim();
    const digits = /^#?([1-9]\d*)$/.exec(q)?.[1];
    if (digits && Number(digits) <= 2_147_483_647) {
      if (digits.length < MIN_NUMBER_PREFIX) clauses.push(`o.number = ${param(Number(digits))}`);
      else clauses.push(`(${numberPrefixRanges(digits).map(([low, high]) => `o.number between ${param(low)} and ${param(high)}`).join(' or ')})`);
    } else if (UUID.test(q)) {
      clauses.push(`o.id in (select ${param(q.toLowerCase())}::uuid union all select order_id from order_payment_attempt where id = $${values.length}::uuid)`);
    } else if (/[\p{L}\p{N}]{3}/u.test(q)) {
      // One of the document's values (lines) holds it: their trigram index, then the orders holding them.
      clauses.push(`o.id in (select p.order_id from order_search_posting p join order_search_value v on v.id = p.value_id
                              where v.value like ${param(containsPattern(q.toLowerCase()))})`);
    } else {
      clauses.push('false');
    }
  }
  return clauses.length ? clauses.join(' and ') : 'true';
}

export function searchPageSql(query: SearchQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const column = query.sort === 'created' ? 'o.created_at' : 'o.total';
  const dir = query.direction;
  let keyset = '';
  if (query.after) {
    const key = `$${values.push(query.after.key)}${query.sort === 'created' ? '::timestamptz' : '::int'}`;
    const id = `$${values.push(query.after.id)}::uuid`;
    keyset = ` and (${column}, o.id) ${dir === 'desc' ? '<' : '>'} (${key}, ${id})`;
  }
  const filters = where(query.filter, values);
  const limit = `$${values.push(query.limit)}`;
  return {
    text: `select o.id, o.status, o.total, o.currency, o.refunded_amount as "refundedAmount", o.customer_type as "customerType",
                  o.customer_id as "customerId", o.payment_status as "paymentStatus", o.payment_transaction_id as "paymentTransactionId",
                  a.external_id as "externalId", a.payer_email as "payerEmail", o.payer_email as "orderPayerEmail", o.payer_name as "payerName",
                  o.customer_email as "customerEmail", o.customer_name as "customerName",
                  o.created_at::text as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt", ${column}${query.sort === 'created' ? '::text' : ''} as "sortKey"
             from "order" o
             left join lateral (select external_id, payer_email from order_payment_attempt a
                                 where a.order_id = o.id order by a.created_at desc limit 1) a on true
            where ${filters}${keyset}
            order by ${column} ${dir}, o.id ${dir}
            limit ${limit}`,
    values,
  };
}

export function countSql(filter: OrderSearchFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  return { text: `select count(*)::int as n from (select 1 from "order" o where ${where(filter, values)} limit 10001) t`, values };
}

export function estimateSql(filter: OrderSearchFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  return { text: `explain (format json) select 1 from "order" o where ${where(filter, values)}`, values };
}

export interface SearchRow {
  id: string;
  sortKey: string | number;
  [column: string]: unknown;
}

/** One search page the way a server would answer it: the page, then the total (exact or estimated). Returns statements run. */
export async function runSearch(pool: pg.Pool, query: SearchQuery): Promise<{ rows: SearchRow[]; total: { value: number; exact: boolean }; statements: number }> {
  const page = searchPageSql(query);
  const count = countSql(query.filter);
  const [{ rows }, counted] = await Promise.all([pool.query<SearchRow>(page.text, page.values), pool.query<{ n: number }>(count.text, count.values)]);
  const n = counted.rows[0]!.n;
  if (n <= 10_000) return { rows, total: { value: n, exact: true }, statements: 2 };
  const estimate = estimateSql(query.filter);
  const plan = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(estimate.text, estimate.values);
  return { rows, total: { value: plan.rows[0]!['QUERY PLAN'][0].Plan['Plan Rows'], exact: false }, statements: 3 };
}

const csvCell = (value: unknown) => {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * CSV export of a filter the way Orders' exportCsv reads it: keyset batches of 1,000 through the
 * page statement, formatted as CSV as they arrive. Returns rows and bytes produced.
 */
export async function exportCsv(pool: pg.Pool, query: Omit<SearchQuery, 'limit' | 'after'>): Promise<{ rows: number; bytes: number; statements: number }> {
  const header = 'id,status,total,currency,refunded_amount,customer_type,customer_id,payment_status,payment_transaction_id,external_id,payer_email,created_at,updated_at,paid_at,payer_name,customer_email,customer_name\n';
  let bytes = header.length;
  let rows = 0;
  let statements = 0;
  let after: SearchQuery['after'];
  for (;;) {
    const page = searchPageSql({ ...query, limit: 1000, ...(after ? { after } : {}) });
    const batch = await pool.query<SearchRow>(page.text, page.values);
    statements++;
    for (const r of batch.rows) {
      const line = [r.id, r.status, r.total, r.currency, r.refundedAmount, r.customerType, r.customerId, r.paymentStatus,
        r.paymentTransactionId, r.externalId, r.orderPayerEmail ?? r.payerEmail, r.createdAt, r.updatedAt, r.paidAt,
        r.payerName, r.customerEmail, r.customerName].map(csvCell).join(',');
      bytes += line.length + 1;
    }
    rows += batch.rows.length;
    if (batch.rows.length < 1000) break;
    const last = batch.rows[batch.rows.length - 1]!;
    after = { key: last.sortKey, id: last.id };
  }
  return { rows, bytes, statements };
}

/**
 * Search-as-you-type cases over the seeded orders (lib/seed.ts): fragments as staff type them, each
 * taken from a real row so it matches what it says. First page of 50, newest first.
 */
export async function partialSearchCases(pool: pg.Pool): Promise<{ name: string; query: Omit<SearchQuery, 'after'> }[]> {
  const one = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await pool.query<T>(text, values)).rows[0]!;
  const { max } = await one<{ max: number }>(`select max(number) as max from "order"`);
  // A row from the middle of the seed (by number: the same row in every run of the same seed, whatever
  // the clock), with a PayPal attempt and a last name long enough for its fragment to be one.
  const sample = await one<{ id: string; external_id: string; payer_email: string; payer_name: string }>(
    `select o.id, a.external_id, a.payer_email, a.payer_name from "order" o join order_payment_attempt a on a.order_id = o.id
      where o.number >= (select (min(number) + max(number)) / 2 from "order") and a.payer_email is not null
        and length(split_part(a.payer_name, ' ', 2)) >= 5
      order by o.number limit 1`,
  );
  const [first, last] = sample.payer_name.split(' ') as [string, string];
  const base = { limit: 50, sort: 'created', direction: 'desc' } as const;
  const cases: [string, SearchQuery['filter']][] = [
    [`q = "${String(max).slice(0, 3)}" (order number prefix)`, { q: String(max).slice(0, 3) }],
    [`q = "${sample.id.slice(0, 8)}" (order id prefix)`, { q: sample.id.slice(0, 8) }],
    [`q = "${sample.id.slice(9, 23)}" (order id infix, dashes)`, { q: sample.id.slice(9, 23) }],
    [`q = "${sample.external_id.slice(8, 18)}" (PayPal id infix, rare)`, { q: sample.external_id.slice(8, 18) }],
    [`q = "${sample.payer_email.slice(1, 12)}" (payer email fragment)`, { q: sample.payer_email.slice(1, 12) }],
    [`q = "${last.slice(1)}" (payer name fragment)`, { q: last.slice(1) }],
    [`q = "${first} ${last.slice(0, 3)}" (payer name prefix)`, { q: `${first} ${last.slice(0, 3)}` }],
    [`q = "${first} ${last.slice(0, 3)}" + status paid (rare fragment, filter)`, { q: `${first} ${last.slice(0, 3)}`, status: ['paid'] }],
    ['q = "mug-04" (sku fragment)', { q: 'mug-04' }],
    ['q = "ceramic mug" (product name)', { q: 'ceramic mug' }],
    ['q = "gmail" (common fragment)', { q: 'gmail' }],
    ['q = "mug" + status failed (common fragment, filter)', { q: 'mug', status: ['failed'] }],
    ['q = "walnut" + EUR, last 90 d (fragment, filters)', { q: 'walnut', currency: 'EUR', createdFrom: new Date(Date.now() - 90 * 86_400_000).toISOString() }],
  ];
  return cases.map(([name, filter]) => ({ name, query: { ...base, filter } }));
}

/** The email a customer's orders were paid with (the seed gives each registered customer one). */
export async function payerEmailOf(pool: pg.Pool, customerId: string): Promise<string> {
  const { rows } = await pool.query<{ payer_email: string }>(
    `select a.payer_email from "order" o join order_payment_attempt a on a.order_id = o.id
      where o.customer_type = 'user' and o.customer_id = $1 and a.payer_email is not null limit 1`,
    [customerId],
  );
  return rows[0]!.payer_email;
}
