import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, oneOf } from '../../db/base.entity.js';
import { Order } from '../orders/order.entity.js';
import { ATTEMPT_SEARCH_TRIGGERS } from '../backoffice/search-document.js';
import { LATEST_ATTEMPT_TRIGGERS } from '../backoffice/latest-attempt.js';
import { ATTEMPT_UNPAID_SALE_TRIGGERS } from '../reconciliation/unpaid-sales.js';

export const OrderPaymentAttempt = defineEntity({
  name: 'OrderPaymentAttempt',
  tableName: 'order_payment_attempt',
  properties: {
    ...baseProperties(),
    order: () => p.manyToOne(Order),
    provider: p.string().length(16).default('paypal'),
    /** The PayPal payment id (PAY-…), known once the provider accepted the create call. */
    externalId: p.string().length(64).nullable().unique('attempt_external_id_unique'),
    status: p.string().length(16),
    amount: p.integer(),
    currency: p.string().length(3),
    saleId: p.string().length(64).nullable().unique('attempt_sale_id_unique'),
    saleState: p.string().length(32).nullable(),
    approvalUrl: p.text().nullable(),
    payerId: p.string().length(64).nullable(),
    payerEmail: p.string().length(254).nullable(),
    /** First and last name, as PayPal gave them. */
    payerName: p.string().length(200).nullable(),
    returnUrl: p.text().nullable(),
    cancelUrl: p.text().nullable(),
    failureReason: p.text().nullable(),
    rawCreate: p.json<unknown>().nullable(),
    rawExecute: p.json<unknown>().nullable(),
    succeededAt: p.datetime().nullable(),
    /**
     * Set while `/paypal/return` has PayPal executing this attempt: a newer attempt for the order is
     * refused meanwhile, so a buyer cannot approve two payments and have both executed.
     */
    executeStartedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'attempt_order_idx', properties: ['order', 'createdAt'] },
    { name: 'attempt_status_idx', properties: ['status', 'updatedAt'] },
    { name: 'attempt_payer_email_idx', expression: 'create index "attempt_payer_email_idx" on "order_payment_attempt" (lower(payer_email))' },
    // Captured sales beside the order's one success: the few rows reconciliation's double-payment check starts from.
    { name: 'attempt_extra_capture_idx', properties: ['order'], where: "sale_id is not null and status <> 'succeeded'" },
    // The dashboard's attempts per day (conversion, outcome mix): an index-only scan of the date range.
    {
      name: 'attempt_created_idx',
      expression: 'create index "attempt_created_idx" on "order_payment_attempt" ("created_at") include ("status", "currency", "order_id")',
    },
  ],
  uniques: [
    // At most one attempt per order may ever succeed: the database, not the code, has the last word.
    { name: 'attempt_one_success_per_order', properties: ['order'], where: "status = 'succeeded'" },
  ],
  checks: [
    { name: 'attempt_amount_check', expression: 'amount >= 0' },
    oneOf('attempt_status_check', 'status', ['created', 'approved', 'succeeded', 'failed', 'cancelled', 'expired']),
  ],
  // The order's back-office search document follows the attempt's PayPal ids and payer, and so do the
  // order's copies of its latest attempt's (latest-attempt.ts); a success whose order stays unpaid is
  // noted for reconciliation (unpaid-sales.ts).
  triggers: [...ATTEMPT_SEARCH_TRIGGERS, ...LATEST_ATTEMPT_TRIGGERS, ...ATTEMPT_UNPAID_SALE_TRIGGERS],
});
export type IOrderPaymentAttempt = InferEntity<typeof OrderPaymentAttempt>;

/**
 * Every message from the provider (IPN, API response, staff re-sync), stored raw before it is
 * acted on. `dedupKey` makes "processed once" a unique constraint instead of a hope.
 */
export const PaymentEvent = defineEntity({
  name: 'PaymentEvent',
  tableName: 'payment_event',
  properties: {
    ...baseProperties(),
    source: p.string().length(32),
    attempt: () => p.manyToOne(OrderPaymentAttempt).nullable(),
    order: () => p.manyToOne(Order).nullable(),
    externalId: p.string().length(64).nullable(),
    txnId: p.string().length(64).nullable(),
    parentTxnId: p.string().length(64).nullable(),
    providerStatus: p.string().length(64).nullable(),
    amount: p.integer().nullable(),
    currency: p.string().length(3).nullable(),
    rawBody: p.blob().nullable(),
    payload: p.json<unknown>().nullable(),
    verification: p.string().length(16).default('not_applicable'),
    processing: p.string().length(16).default('received'),
    outcome: p.text().nullable(),
    /** Why a flagged event was flagged, machine-readable (FLAG_KINDS), so reconciliation can select on it. */
    flagKind: p.string().length(32).nullable(),
    dedupKey: p.string().length(200).nullable().unique('payment_event_dedup_unique'),
    attempts: p.integer().default(0),
    processedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'payment_event_txn_idx', properties: ['txnId'] },
    { name: 'payment_event_external_idx', properties: ['externalId'] },
    { name: 'payment_event_order_idx', properties: ['order', 'createdAt'] },
    { name: 'payment_event_processing_idx', properties: ['processing', 'createdAt'] },
    // The dashboard's IPN and webhook lag (received → processed) over a date range: index-only.
    {
      name: 'payment_event_notification_idx',
      expression: `create index "payment_event_notification_idx" on "payment_event" ("created_at") include ("source", "processed_at") where source in ('ipn', 'webhook')`,
    },
  ],
  // What an event says about itself is one of @orders/shared's words (contract.test.ts), or the insert fails.
  checks: [
    oneOf('payment_event_source_check', 'source', ['ipn', 'webhook', 'return', 'cancel', 'provider', 'update_attempt', 'resync']),
    oneOf('payment_event_verification_check', 'verification', ['pending', 'verified', 'invalid', 'not_applicable']),
    oneOf('payment_event_processing_check', 'processing', ['received', 'processed', 'ignored', 'flagged', 'duplicate', 'unmatched', 'parked']),
    oneOf('payment_event_flag_kind_check', 'flag_kind', [
      'amount_mismatch',
      'double_payment',
      'paid_after_cancel',
      'conflicting_sale',
      'unexpected_state',
      'refund_exceeds_total',
      'receiver_mismatch',
      'signature_invalid',
      'no_open_reversal',
      'unreadable_amount',
      'dispute_opened',
    ]),
  ],
});
export type IPaymentEvent = InferEntity<typeof PaymentEvent>;
