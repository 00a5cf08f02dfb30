import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { round } from './stats.ts';

/**
 * The raw baseline of the export phase: every order as CSV straight from PostgreSQL with
 * `COPY (…) TO STDOUT (FORMAT csv, HEADER)` — the same sixteen columns as Orders' export
 * (server/src/modules/backoffice/csv.ts: the money as a decimal and in minor units, the latest
 * attempt's PayPal payment id and payer email), in the same order (newest first, id as the tie
 * break). Nothing in Node touches a row: it is the floor for any server-side CSV export.
 */
const decimal = (column: string) =>
  `case when o.currency in ('JPY', 'HUF', 'TWD') then ${column}::text else to_char(${column} / 100.0, 'FM9999999999999990.00') end`;

export const COPY_ALL_ORDERS = `copy (
  select o.id, o.created_at, o.updated_at, o.paid_at, o.status, o.customer_type, o.customer_id, o.currency,
         ${decimal('o.total')} as total, o.total as total_minor,
         ${decimal('o.refunded_amount')} as refunded, o.refunded_amount as refunded_minor,
         o.payment_status, o.payment_transaction_id, latest.external_id as paypal_payment_id, latest.payer_email
    from "order" o
    left join lateral (select a.external_id, a.payer_email from order_payment_attempt a
                        where a.order_id = o.id order by a.created_at desc, a.id desc limit 1) latest on true
   order by o.created_at desc, o.id desc
) to stdout (format csv, header)`;

/** Runs COPY_ALL_ORDERS on one connection and counts rows (lines after the header) and bytes as they stream in. */
export async function copyExportAll(url: string): Promise<{ rows: number; bytes: number; seconds: number; rowsPerSecond: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    const stream = client.query(copyTo(COPY_ALL_ORDERS));
    let lines = 0;
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 10) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    return { rows: lines - 1, bytes, seconds: round(seconds), rowsPerSecond: round((lines - 1) / seconds) };
  } finally {
    await client.end();
  }
}
