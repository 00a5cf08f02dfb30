import type { BackofficeOrderRow, Currency, OrderStatus } from '@orders/shared';

let counter = 0;

/** An order row as `backoffice.orders.search` returns it. */
export function orderRow(overrides: Partial<BackofficeOrderRow> = {}): BackofficeOrderRow {
  counter += 1;
  const n = String(counter).padStart(12, '0');
  return {
    id: `0193a5c2-7b1e-7000-8000-${n}`,
    number: 1000 + counter,
    status: 'paid' as OrderStatus,
    total: 2500,
    currency: 'USD' as Currency,
    refundedAmount: 0,
    customer: { type: 'user', id: `buyer-${counter}` },
    customerEmail: null,
    customerName: null,
    paymentStatus: 'Completed',
    paymentTransactionId: `SALE-${counter}`,
    externalId: `PAY-${counter}`,
    payerEmail: `buyer${counter}@example.com`,
    payerName: `Buyer ${counter}`,
    createdAt: new Date(Date.now() - counter * 60_000).toISOString(),
    updatedAt: new Date().toISOString(),
    paidAt: null,
    ...overrides,
  };
}

export function orderRows(count: number): BackofficeOrderRow[] {
  return Array.from({ length: count }, () => orderRow());
}
