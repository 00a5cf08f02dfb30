import type { FlagKind, PaymentEventSource, Processing, Verification } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import type { RawBuilder } from 'kysely';
import { firstRow, sql, type EntityManager } from '../../db/sql.js';

// The event vocabulary is part of the contract the back office reads: declared once, in @orders/shared.
export type { FlagKind, NotificationSource, PaymentEventSource, Processing, Verification } from '@orders/shared';

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
  const row = await firstRow(em, paymentEventInsert(event));
  return row!.id;
}

/** The insert recordPaymentEvent runs, for a statement that writes more in the same go (`with … ${paymentEventInsert(e)}`). */
export function paymentEventInsert(event: NewPaymentEvent): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`
      insert into payment_event (id, created_at, updated_at, source, attempt_id, order_id, external_id, txn_id,
        parent_txn_id, provider_status, amount, currency, raw_body, payload, verification, processing, outcome, flag_kind, processed_at)
      values (${newId()}, clock_timestamp(), clock_timestamp(), ${event.source}, ${event.attemptId ?? null}, ${event.orderId ?? null},
        ${event.externalId ?? null}, ${event.txnId ?? null}, ${event.parentTxnId ?? null}, ${event.providerStatus ?? null},
        ${event.amount ?? null}, ${event.currency ?? null}, ${event.rawBody ?? null},
        ${event.payload === undefined ? null : JSON.stringify(event.payload)}::jsonb,
        ${event.verification ?? 'not_applicable'}, ${event.processing ?? 'processed'}, ${event.outcome ?? null}, ${event.flagKind ?? null},
        ${(event.processing ?? 'processed') === 'received' ? null : sql`clock_timestamp()`})
      returning id`;
}
