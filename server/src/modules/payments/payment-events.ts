import { newId } from '../../db/base.entity.js';
import { firstRow, sql, type EntityManager } from '../../db/sql.js';

export type PaymentEventSource = 'ipn' | 'webhook' | 'return' | 'cancel' | 'provider' | 'update_attempt' | 'resync';
/** PayPal's own notifications, stored raw on arrival and processed by a job: the inbox. */
export type NotificationSource = Extract<PaymentEventSource, 'ipn' | 'webhook'>;
export type Verification = 'pending' | 'verified' | 'invalid' | 'not_applicable';
/** `parked`: a refund, reversal or cancelled reversal for a sale not recorded yet; applied when the sale lands. */
export type Processing = 'received' | 'processed' | 'ignored' | 'flagged' | 'duplicate' | 'unmatched' | 'parked';
/** Why an event was flagged, stored beside the human-readable outcome so reconciliation can select on it. */
export type FlagKind =
  | 'amount_mismatch'
  | 'double_payment'
  | 'paid_after_cancel'
  | 'conflicting_sale'
  | 'unexpected_state'
  | 'refund_exceeds_total'
  | 'receiver_mismatch'
  /** A webhook PayPal's verify-webhook-signature did not vouch for: forged, altered, or for another webhook. */
  | 'signature_invalid'
  /** A cancelled reversal with no reversal open on its sale to cancel. */
  | 'no_open_reversal'
  /** An amount that is not a number PayPal could send: malformed, or beyond PayPal's maximum. */
  | 'unreadable_amount';

export interface NewPaymentEvent {
  source: PaymentEventSource;
  attemptId?: string | null;
  orderId?: string | null;
  externalId?: string | null;
  txnId?: string | null;
  parentTxnId?: string | null;
  providerStatus?: string | null;
  amount?: number | null;
  currency?: string | null;
  rawBody?: Buffer | null;
  payload?: unknown;
  verification?: Verification;
  processing?: Processing;
  outcome?: string | null;
  flagKind?: FlagKind | null;
}

/** Stores what the provider (or a caller) said, before anything acts on it. */
export async function recordPaymentEvent(em: EntityManager, event: NewPaymentEvent): Promise<string> {
  const row = await firstRow(
    em,
    sql<{ id: string }>`
      insert into payment_event (id, created_at, updated_at, source, attempt_id, order_id, external_id, txn_id,
        parent_txn_id, provider_status, amount, currency, raw_body, payload, verification, processing, outcome, flag_kind, processed_at)
      values (${newId()}, clock_timestamp(), clock_timestamp(), ${event.source}, ${event.attemptId ?? null}, ${event.orderId ?? null},
        ${event.externalId ?? null}, ${event.txnId ?? null}, ${event.parentTxnId ?? null}, ${event.providerStatus ?? null},
        ${event.amount ?? null}, ${event.currency ?? null}, ${event.rawBody ?? null},
        ${event.payload === undefined ? null : JSON.stringify(event.payload)}::jsonb,
        ${event.verification ?? 'not_applicable'}, ${event.processing ?? 'processed'}, ${event.outcome ?? null}, ${event.flagKind ?? null},
        ${(event.processing ?? 'processed') === 'received' ? null : sql`clock_timestamp()`})
      returning id`,
  );
  return row!.id;
}
