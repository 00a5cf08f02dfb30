import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, oneOf } from '../../db/base.entity.js';
import { Cart } from '../carts/cart.entity.js';
import { ORDER_SEARCH_TRIGGERS } from '../backoffice/search-document.js';
import { ORDER_UNPAID_SALE_TRIGGERS } from '../reconciliation/unpaid-sales.js';
import { POSTING_STATUS_TRIGGER } from '../backoffice/search-values.js';

/*
 * Indexes serve the back-office filters and sorts, each ending in `id` so keyset pagination
 * (`(created_at, id) < ($1, $2) order by created_at desc, id desc limit n`) is an index scan:
 *  - order_created_idx:   default listing, date range filter
 *  - order_status_idx:    status filter (one or several) sorted by time
 *  - order_customer_idx:  customer filter and a customer's own order list (orders.list)
 *  - order_total_idx:     sort by total, amount range
 *  - order_currency_idx:  currency filter sorted by time
 *  - order_status_total_idx, order_currency_total_idx: the same filters sorted by total
 *  - order_currency_status_idx: status and currency filtered together (with or without dates): the
 *    bounded count (up to 10,001) is an index-only scan instead of a heap scan of every match of one
 *    filter (measured on 1M orders: 19 ms → 2 ms for failed+cancelled USD in the last 90 days)
 */
export const Order = defineEntity({
  name: 'Order',
  tableName: 'order',
  properties: {
    ...baseProperties(),
    /** For people (`#1001`): sequential, from order_number_seq. Ids stay unguessable UUIDs. */
    number: p.integer().defaultRaw(`nextval('order_number_seq')`).unique('order_number_unique'),
    customerType: p.string().length(16),
    customerId: p.string().length(200),
    /** The customer's email and display name as the calling service gave them (orders.create): for staff to read, never to authenticate. */
    customerEmail: p.string().length(254).nullable(),
    customerName: p.string().length(200).nullable(),
    /** The PayPal payer of the attempt that paid the order (from the executed payment, the IPN or the webhook). */
    payerEmail: p.string().length(254).nullable(),
    payerName: p.string().length(200).nullable(),
    /** The latest payment attempt's PayPal payment id and payer email, for the back-office list: kept by the attempts' trigger (latest-attempt.ts), never written here. */
    latestAttemptExternalId: p.string().length(64).nullable(),
    latestAttemptPayerEmail: p.string().length(254).nullable(),
    cart: () => p.oneToOne(Cart).owner().unique('order_cart_unique'),
    status: p.string().length(32),
    /** The payment's status as last learned (completed, pending, refunded, … or `asserted` when a service said it was paid): the SPEC's name. */
    paymentStatus: p.string().length(32).nullable(),
    /** The PayPal sale id once paid (the SPEC's name; `orders.get` returns it as paymentTransactionId). */
    paymentTransactionId: p.string().length(64).nullable().unique('order_payment_transaction_id_unique'),
    total: p.integer(),
    currency: p.string().length(3),
    refundedAmount: p.integer().default(0),
    /** Whether this order currently holds stock; released on cancel or failure, taken again on retry. */
    stockReserved: p.boolean().default(true),
    paidAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'order_created_idx', columns: [{ name: 'created_at', sort: 'desc' }, { name: 'id', sort: 'desc' }] },
    { name: 'order_status_idx', properties: ['status', 'createdAt', 'id'] },
    { name: 'order_customer_idx', properties: ['customerType', 'customerId', 'createdAt', 'id'] },
    { name: 'order_total_idx', properties: ['total', 'id'] },
    { name: 'order_currency_idx', properties: ['currency', 'createdAt', 'id'] },
    { name: 'order_status_total_idx', properties: ['status', 'total', 'id'] },
    { name: 'order_currency_total_idx', properties: ['currency', 'total', 'id'] },
    { name: 'order_currency_status_idx', properties: ['currency', 'status', 'createdAt', 'id'] },
    // The few orders a service asserted paid: reconciliation checks each has a PayPal capture.
    { name: 'order_asserted_paid_idx', properties: ['id'], where: "payment_status = 'asserted'" },
  ],
  checks: [
    { name: 'order_total_check', expression: 'total >= 0' },
    { name: 'order_refunded_amount_check', expression: 'refunded_amount >= 0 and refunded_amount <= total' },
    oneOf('order_status_check', 'status', ['pending', 'paid', 'failed', 'cancelled', 'refunded', 'partially_refunded']),
    oneOf('order_customer_type_check', 'customer_type', ['user', 'anonymous']),
  ],
  // The back-office search document (order_search) follows the order's searchable fields.
  triggers: [...ORDER_SEARCH_TRIGGERS, POSTING_STATUS_TRIGGER, ...ORDER_UNPAID_SALE_TRIGGERS],
});
export type IOrder = InferEntity<typeof Order>;

/** The frozen snapshot of what was paid for, written once when the order becomes paid. */
export const OrderLine = defineEntity({
  name: 'OrderLine',
  tableName: 'order_line',
  properties: {
    ...baseProperties(),
    order: () => p.manyToOne(Order).deleteRule('cascade'),
    sku: p.string().length(64),
    name: p.string().length(200),
    unitPrice: p.integer(),
    quantity: p.integer(),
    lineTotal: p.integer(),
    currency: p.string().length(3),
  },
  uniques: [{ name: 'order_line_order_sku_unique', properties: ['order', 'sku'] }],
  checks: [
    { name: 'order_line_amounts_check', expression: 'unit_price >= 0 and quantity > 0 and line_total = unit_price * quantity' },
  ],
});
export type IOrderLine = InferEntity<typeof OrderLine>;
