/**
 * What a stored payment event (a PayPal message, or a caller's report) can say about itself: the
 * values of `payment_event.source`, `.verification`, `.processing` and `.flag_kind`. The server
 * writes them, the back office shows and filters on them.
 */

export const PAYMENT_EVENT_SOURCES = ['ipn', 'webhook', 'return', 'cancel', 'provider', 'update_attempt', 'resync'] as const;
export type PaymentEventSource = (typeof PAYMENT_EVENT_SOURCES)[number];

/** PayPal's own notifications, stored raw on arrival and processed by a job: the inbox. */
export const NOTIFICATION_SOURCES = ['ipn', 'webhook'] as const satisfies readonly PaymentEventSource[];
export type NotificationSource = (typeof NOTIFICATION_SOURCES)[number];

export const VERIFICATIONS = ['pending', 'verified', 'invalid', 'not_applicable'] as const;
export type Verification = (typeof VERIFICATIONS)[number];

/** `parked`: a refund, reversal or cancelled reversal for a sale not recorded yet; applied when the sale lands. */
export const PROCESSINGS = ['received', 'processed', 'ignored', 'flagged', 'duplicate', 'unmatched', 'parked'] as const;
export type Processing = (typeof PROCESSINGS)[number];

/** Why an event was flagged, stored beside the human-readable outcome so reconciliation can select on it. */
export const FLAG_KINDS = [
  'amount_mismatch',
  'double_payment',
  'paid_after_cancel',
  'conflicting_sale',
  'unexpected_state',
  'refund_exceeds_total',
  'receiver_mismatch',
  /** A webhook PayPal's verify-webhook-signature did not vouch for: forged, altered, or for another webhook. */
  'signature_invalid',
  /** A cancelled reversal with no reversal open on its sale to cancel. */
  'no_open_reversal',
  /** An amount that is not a number PayPal could send: malformed, or beyond PayPal's maximum. */
  'unreadable_amount',
  /** PayPal opened a case on one of our sales (IPN txn_type new_case: a dispute, a chargeback, a complaint). */
  'dispute_opened',
] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];
