import { Transform, type TransformCallback } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ZERO_DECIMAL_CURRENCIES } from '@orders/shared';
import { sql } from '../../db/sql.js';
import { pageQuery, type OrderFilter, type OrderOrdering } from './order-search.js';

/*
 * The CSV export is written by PostgreSQL: `COPY (select …) TO STDOUT WITH (FORMAT csv, HEADER)` on a
 * connection of its own, streamed as it arrives. Node formats nothing per row; it only turns COPY's
 * record ends (LF) into CRLF (RFC 4180), leaving line breaks inside quoted cells as they are.
 */

/** Everything, in one COPY: the page query without a page. */
const NO_LIMIT = 1_000_000_000_000;

/**
 * Money as a person reads it (zero-decimal currencies respected), as toDecimalString writes it. Minor
 * units times 0.01 is a numeric of scale 2, whose text always has its two decimals ("12.00", "0.05"):
 * the same text as `(m / 100)::text || '.' || lpad((m % 100)::text, 2, '0')` for every amount of the
 * bench's 1,000,000 orders, ~0.1 s less per 1,000,000 cells.
 */
function decimal(column: string) {
  const zeroDecimal = sql.join([...ZERO_DECIMAL_CURRENCIES].map((c) => sql.lit(c)));
  return sql`case when r.currency in (${zeroDecimal}) then r.${sql.raw(column)}::text else (r.${sql.raw(column)} * 0.01)::text end`;
}

/*
 * The cells below are written by PostgreSQL for every exported row, so their expressions are chosen
 * for their cost per row. Measured on 1,000,000 orders (EXPLAIN ANALYZE, one backend, warm): the
 * select without them took 1.4 s; with the guard as `left(x, 1) in ('=', …)` and the timestamps
 * through to_char, 6.2 s (to_char ~1.0 s a column, that guard ~0.25 s a column).
 */

/** The first characters a spreadsheet reads as a formula: = + - @ tab CR, as code points. */
const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r'].map((c) => c.codePointAt(0)!);

/**
 * Text a spreadsheet would run as a formula gets a leading apostrophe: these cells come from outside.
 * The first character's code point (ascii(): 0 for '', null for null) compared with integers: ~0.1 s
 * per 1,000,000 cells against ~0.25 s for `left(x, 1) in (…)`, which builds a text and compares it
 * six times.
 */
function guarded(expression: string) {
  const e = sql.raw(expression);
  return sql`case when ascii(${e}) in (${sql.join(FORMULA_STARTS.map((c) => sql.lit(c)))}) then '''' || ${e} else ${e} end`;
}

/**
 * ISO 8601 in UTC with milliseconds, as the API's iso() writes it ("2026-12-01T03:20:48.123Z"). JSON's
 * text of a timestamp is ISO 8601 whatever DateStyle says, with the fraction's trailing zeros left
 * out; truncated to the millisecond and one microsecond added, the fraction always has six digits,
 * the first three the milliseconds. ~0.6 s per 1,000,000 cells against ~1.0 s for to_char(…,
 * 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), which wrote the same text for each of the bench's 1,000,000
 * orders' timestamps (created, updated and paid: 2,750,035 compared).
 */
function isoText(column: string) {
  const utc = sql`r.${sql.ref(column)} at time zone 'UTC'`;
  return sql`substr(to_json(date_trunc('milliseconds', ${utc}) + interval '1 microsecond')::text, 2, 23) || 'Z'`;
}

/**
 * The export's select: the same columns, header and order as the back-office list. The payer is the
 * list's: the paying attempt's once paid, before that whoever approved the latest attempt. Columns
 * added later go at the end, so a sheet reading the earlier ones by position keeps working.
 */
function exportSelect(filter: OrderFilter, ordering: OrderOrdering) {
  const key = ordering.sort === 'created' ? sql.ref('r.createdAt') : sql.ref('r.total');
  const direction = sql.raw(ordering.direction === 'desc' ? 'desc' : 'asc');
  return sql`
    select r.id as order_id, ${isoText('createdAt')} as created_at, ${isoText('updatedAt')} as updated_at, ${isoText('paidAt')} as paid_at,
           r.status, r."customerType" as customer_type, ${guarded('r."customerId"')} as customer_id, r.currency,
           ${decimal('total')} as total, r.total as total_minor, ${decimal('"refundedAmount"')} as refunded, r."refundedAmount" as refunded_minor,
           ${guarded('r."paymentStatus"')} as payment_status, ${guarded('r."paymentTransactionId"')} as paypal_sale_id,
           ${guarded('r."externalId"')} as paypal_payment_id, ${guarded('coalesce(r."orderPayerEmail", r."payerEmail")')} as payer_email,
           ${guarded('r."payerName"')} as payer_name, ${guarded('r."customerEmail"')} as customer_email, ${guarded('r."customerName"')} as customer_name
      from (${pageQuery(filter, ordering, undefined, NO_LIMIT)}) r
     order by ${key} ${direction}, r.id ${direction}`;
}

/** A parameter written into the statement: COPY takes none. Only the value types the filters use. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('a COPY parameter must be a finite number');
    return `(${String(value)})`;
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if (Array.isArray(value)) {
    const elements = value.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`));
    return pg.escapeLiteral(`{${elements.join(',')}}`);
  }
  throw new Error(`a COPY parameter cannot be a ${typeof value}`);
}

/** The COPY statement for a filter, its parameters written in as literals. */
export function orderCsvCopyStatement(orm: MikroORM, filter: OrderFilter, ordering: OrderOrdering): string {
  const compiled = exportSelect(filter, ordering).compile(orm.em.getKysely());
  const text = compiled.sql.replace(/\$(\d+)/g, (_match, n: string) => literal(compiled.parameters[Number(n) - 1]));
  return `copy (${text}) to stdout with (format csv, header)`;
}

/** COPY ends records with LF; RFC 4180 (and what the export always sent) wants CRLF. Quoted cells keep their own line breaks. */
export class CrlfRecords extends Transform {
  private quoted = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const parts: Buffer[] = [];
    let start = 0;
    let at = 0;
    let quote = chunk.indexOf(0x22);
    let lf = chunk.indexOf(0x0a);
    for (;;) {
      if (quote !== -1 && quote < at) quote = chunk.indexOf(0x22, at);
      if (lf !== -1 && lf < at) lf = chunk.indexOf(0x0a, at);
      // Inside a quoted cell only the closing quote matters ("" inside one toggles twice).
      if (this.quoted) {
        if (quote === -1) break;
        this.quoted = false;
        at = quote + 1;
      } else if (quote !== -1 && (lf === -1 || quote < lf)) {
        this.quoted = true;
        at = quote + 1;
      } else if (lf !== -1) {
        parts.push(chunk.subarray(start, lf), CRLF);
        start = at = lf + 1;
      } else break;
    }
    if (parts.length === 0) return done(null, chunk);
    parts.push(chunk.subarray(start));
    done(null, Buffer.concat(parts));
  }
}

const CRLF = Buffer.from('\r\n');

/**
 * The filter's rows as CSV bytes, header first, streamed from COPY on a connection taken from the
 * request pool for this export only. The connection goes back when the export ends; when the reader
 * stops early (the client went away), the COPY is abandoned and the connection closed, not reused.
 */
export async function* orderCsvChunks(orm: MikroORM, filter: OrderFilter, ordering: OrderOrdering): AsyncGenerator<Buffer, void, undefined> {
  const statement = orderCsvCopyStatement(orm, filter, ordering);
  const pool = (await orm.em.getConnection().getNativeClient()) as pg.Pool;
  const client = await pool.connect();
  let finished = false;
  const copy = client.query(copyTo(statement));
  const records = copy.pipe(new CrlfRecords());
  copy.on('error', (error) => records.destroy(error));
  try {
    for await (const chunk of records) yield chunk as Buffer;
    finished = true;
  } finally {
    if (finished) client.release();
    else {
      copy.destroy();
      client.release(new Error('CSV export stopped before its end'));
    }
  }
}
