import { toDecimalString } from '@orders/shared';
import type { SearchRow } from './order-search.js';
import { iso } from '../../db/sql.js';

type Cell = string | number | null;

/**
 * RFC 4180 quoting. Text a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
 * apostrophe: customer ids and payer emails come from outside.
 */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text.trim() !== text ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const ORDER_CSV_HEADER = csvLine([
  'order_id', 'created_at', 'updated_at', 'paid_at', 'status', 'customer_type', 'customer_id', 'currency',
  'total', 'total_minor', 'refunded', 'refunded_minor', 'payment_status', 'paypal_sale_id', 'paypal_payment_id', 'payer_email',
]);

/** Money twice: as the decimal a person reads (zero-decimal currencies respected) and in minor units. */
export function orderCsvLine(row: SearchRow): string {
  return csvLine([
    row.id,
    iso(row.createdAt),
    iso(row.updatedAt),
    iso(row.paidAt),
    row.status,
    row.customerType,
    row.customerId,
    row.currency,
    toDecimalString(row.total, row.currency),
    row.total,
    toDecimalString(row.refundedAmount, row.currency),
    row.refundedAmount,
    row.paymentStatus,
    row.paymentTransactionId,
    row.externalId,
    row.payerEmail,
  ]);
}
