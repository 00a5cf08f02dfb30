import { moneyText } from '../../money-text.js';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, rows, sql, type EntityManager } from '../../db/sql.js';
import type { FlagKind } from './payment-events.js';

/*
 * The money ledger (money_movement): what PayPal confirmed moved on each sale, one row per PayPal
 * transaction. Everything that asks "how much was refunded" reads it; nothing adds deltas to a total.
 */

export type MovementKind = 'capture' | 'refund' | 'reversal' | 'reversal_canceled';
/** Money that left the buyer's sale again: a refund or a reversal (chargeback). */
export type MoneyOutKind = 'refund' | 'reversal';

export interface Movement {
  /** The sale the money moved on (a refund's or reversal's parent sale). */
  saleId: string;
  kind: MovementKind;
  /** Minor units, positive. */
  amount: number;
  currency: string;
  /** PayPal's id for this transaction; absent only for movements PayPal gave no id for. */
  providerTxnId: string | null;
  /** The notification or provider answer that told us. */
  eventId?: string | null;
  reason?: string | null;
}

export interface SaleBalance {
  captured: number;
  refunded: number;
  reversed: number;
  reversalCanceled: number;
  currency: string | null;
}

/**
 * Net money returned to the buyer on a sale: refunds, and reversals less their cancellations. A
 * cancellation only ever gives back reversed money, so whatever order PayPal's messages arrive in,
 * one with no reversal (yet) to cancel takes nothing from a refund; it waits, visibly, for its reversal.
 */
export const returnedOf = (b: SaleBalance) => b.refunded + Math.max(0, b.reversed - b.reversalCanceled);
/** What is still captured on a sale and could be refunded. */
export const openOf = (b: SaleBalance) => b.captured - returnedOf(b);

/** A sale's state as its ledger tells it: captured, partly or wholly given back. */
export function saleStateOf(balance: SaleBalance): 'completed' | 'partially_refunded' | 'refunded' {
  const open = openOf(balance);
  return open <= 0 ? 'refunded' : open === balance.captured ? 'completed' : 'partially_refunded';
}

export async function saleBalance(em: EntityManager, saleId: string): Promise<SaleBalance> {
  const row = await firstRow(
    em,
    sql<SaleBalance>`
      select coalesce(sum(amount) filter (where kind = 'capture'), 0)::int as captured,
             coalesce(sum(amount) filter (where kind = 'refund'), 0)::int as refunded,
             coalesce(sum(amount) filter (where kind = 'reversal'), 0)::int as reversed,
             coalesce(sum(amount) filter (where kind = 'reversal_canceled'), 0)::int as "reversalCanceled",
             min(currency) as currency
        from money_movement where sale_id = ${saleId} and state = 'applied'`,
  );
  return row!;
}

export interface Owner {
  orderId: string;
  attemptId: string | null;
}

/** A captured sale, once: PayPal's sale id is the movement's transaction id. */
export async function recordCapture(
  em: EntityManager,
  capture: { saleId: string; amount: number; currency: string; eventId?: string | null },
  owner: Owner,
): Promise<boolean> {
  const inserted = await affected(
    em,
    sql`insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id, attempt_id, event_id)
        values (${newId()}, now(), now(), ${capture.saleId}, 'capture', ${capture.amount}, ${capture.currency}, 'applied', ${capture.saleId},
                ${owner.orderId}, ${owner.attemptId}, ${capture.eventId ?? null})
        on conflict (provider_txn_id) do nothing`,
  );
  return inserted > 0;
}

export type MovementVerdict =
  | { result: 'applied'; message: string }
  | { result: 'duplicate'; message: string }
  | { result: 'rejected'; flag: FlagKind; message: string };

/**
 * Why the sale's ledger cannot take a movement: only a currency that is not the sale's. Everything else
 * PayPal confirmed is a fact and is recorded whatever the order it arrives in (a cancellation before
 * its reversal, a refund before a cancellation that makes room for it); what the facts add up to is
 * computed from them, and an anomaly that remains is listed by reconciliation, never decided on arrival.
 */
function refusal(balance: SaleBalance, movement: Movement): { flag: FlagKind; message: string } | undefined {
  if (balance.currency && movement.currency !== balance.currency) {
    return { flag: 'amount_mismatch', message: `currency mismatch: ${movement.kind} in ${movement.currency} on a ${balance.currency} sale` };
  }
  return undefined;
}

/**
 * Applies a refund, reversal or cancelled reversal to its (known) sale, once per PayPal transaction.
 * Inside the transaction that holds the order's lock.
 */
export async function applyMovement(em: EntityManager, movement: Movement, owner: Owner): Promise<MovementVerdict> {
  if (movement.providerTxnId) {
    const seen = await firstRow(
      em,
      sql<{ state: string; source: string | null; eventId: string | null }>`
        select m.state, e.source, e.id as "eventId" from money_movement m left join payment_event e on e.id = m.event_id
         where m.provider_txn_id = ${movement.providerTxnId}`,
    );
    if (seen?.state === 'applied') {
      const by = seen.eventId ? `${seen.source} event ${seen.eventId}` : 'our own refund request';
      return { result: 'duplicate', message: `transaction ${movement.providerTxnId} was already applied by ${by}` };
    }
  }
  const refused = refusal(await saleBalance(em, movement.saleId), movement);
  if (refused) return { result: 'rejected', ...refused };
  // A parked row for the same transaction (it arrived before its sale) is applied in place.
  const inserted = await affected(
    em,
    sql`insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, order_id, attempt_id, event_id, reason)
        values (${newId()}, now(), now(), ${movement.saleId}, ${movement.kind}, ${movement.amount}, ${movement.currency}, 'applied',
                ${movement.providerTxnId}, ${owner.orderId}, ${owner.attemptId}, ${movement.eventId ?? null}, ${movement.reason ?? null})
        on conflict (provider_txn_id) do update set state = 'applied', order_id = excluded.order_id, attempt_id = excluded.attempt_id, updated_at = now()
          where money_movement.state <> 'applied'`,
  );
  if (inserted === 0) return { result: 'duplicate', message: `transaction ${movement.providerTxnId} was already applied` };
  return { result: 'applied', message: `${movement.kind.replace('_', ' ')} of ${moneyText(movement.amount, movement.currency)} recorded on sale ${movement.saleId}` };
}

/** A movement whose sale we have not recorded yet: kept until the sale lands. False when already known. */
export async function parkMovement(em: EntityManager, movement: Movement): Promise<boolean> {
  const inserted = await affected(
    em,
    sql`insert into money_movement (id, created_at, updated_at, sale_id, kind, amount, currency, state, provider_txn_id, event_id, reason)
        values (${newId()}, now(), now(), ${movement.saleId}, ${movement.kind}, ${movement.amount}, ${movement.currency}, 'parked',
                ${movement.providerTxnId}, ${movement.eventId ?? null}, ${movement.reason ?? null})
        on conflict (provider_txn_id) do nothing`,
  );
  return inserted > 0;
}

export interface ParkedOutcome {
  movement: Movement;
  verdict: MovementVerdict;
}

/**
 * Applies, oldest first, what was parked waiting for `saleId`; in the transaction that records the
 * sale. Each parked notification is updated with what became of it.
 */
export async function applyParked(em: EntityManager, saleId: string, owner: Owner): Promise<ParkedOutcome[]> {
  const parked = await rows(
    em,
    sql<Movement & { id: string }>`
      select id, sale_id as "saleId", kind, amount, currency, provider_txn_id as "providerTxnId", event_id as "eventId", reason
        from money_movement where sale_id = ${saleId} and state = 'parked' order by created_at, id for update`,
  );
  const outcomes: ParkedOutcome[] = [];
  for (const row of parked) {
    const { id, ...movement } = row;
    const refused = refusal(await saleBalance(em, saleId), movement);
    await affected(
      em,
      sql`update money_movement set state = ${refused ? 'rejected' : 'applied'}, order_id = ${owner.orderId}, attempt_id = ${owner.attemptId},
            updated_at = now() where id = ${id}`,
    );
    const verdict: MovementVerdict = refused
      ? { result: 'rejected', ...refused }
      : { result: 'applied', message: `${movement.kind.replace('_', ' ')} of ${moneyText(movement.amount, movement.currency)} applied when sale ${saleId} was recorded` };
    if (movement.eventId) {
      await affected(
        em,
        sql`update payment_event set processing = ${refused ? 'flagged' : 'processed'}, flag_kind = ${refused?.flag ?? null},
              outcome = ${verdict.message}, attempt_id = ${owner.attemptId}, order_id = ${owner.orderId}, processed_at = clock_timestamp(), updated_at = now()
            where id = ${movement.eventId} and processing = 'parked'`,
      );
    }
    outcomes.push({ movement, verdict });
  }
  return outcomes;
}
