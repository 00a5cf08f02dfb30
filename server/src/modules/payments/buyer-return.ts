import { formatMoney, isSupportedCurrency, type AttemptStatus, type OrderStatus } from '@orders/shared';
import { affected, firstRow, sql, type EntityManager } from '../../db/sql.js';
import { DomainError, notFound } from '../../errors.js';
import { isUuid } from '../../ids.js';
import { PaymentProviderError, type ProviderPayment } from '../../paypal/gateway.js';
import { outcomeFromProvider } from '../../paypal/outcomes.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { findAttempt, lockOrderAndAttempt, type AttemptRow } from './attempt.repository.js';
import { OPEN_ATTEMPT_STATUSES, cancelAttempt } from './attempt.transitions.js';
import { withQuery } from './checkout.js';
import { PAYPAL_ACTOR } from './notification-inbox.js';
import { recordPaymentEvent } from './payment-events.js';
import { providerErrorPayload, providerFailure } from './payment-outcome.js';
import type { PaymentsDeps } from './payments.deps.js';
import { applyAndRecord } from './provider-answers.js';

/*
 * The buyer's way back from PayPal: /paypal/return (execute, at most once per order), /paypal/cancel,
 * and the status page both lead to.
 */

export interface ReturnResult {
  attemptId: string;
  orderId: string;
  /** The order's number (#1002): what the buyer is shown; the id stays for machines (the shop's redirect). */
  orderNumber: number;
  orderStatus: string;
  attemptStatus: AttemptStatus;
  /** The caller's URL to send the browser to, when it gave one. */
  redirectTo: string | null;
  message: string;
  /** The order's total and what has gone back of it (refunds, chargebacks), in its currency's minor units. */
  total: number;
  refundedAmount: number;
  currency: string;
  /** This link's own payment: its amount, and its sale's state at PayPal (null before a sale). */
  amount: number;
  saleState: string | null;
  /** This link's sale is not the one that paid the order (a duplicate capture, or one made after cancelling). */
  otherSale: boolean;
  /**
   * Set when the return was refused at the door and nothing was executed: the order is already paid
   * (by another payment) or cancelled, or this link's payment ended: replaced by a newer attempt, cancelled
   * by the buyer at PayPal, expired, or declined.
   */
  refused?: 'already_paid' | 'order_cancelled' | EndedLink;
}
/** The EC token in an approval URL we got from PayPal. */
function approvalToken(approvalUrl: string | null): string | null {
  if (!approvalUrl) return null;
  try {
    return new URL(approvalUrl).searchParams.get('token');
  } catch {
    return null;
  }
}

/**
 * PayPal refusing to execute *this request* (a PayerID that is not the buyer's, a payment the buyer has
 * not approved yet): a statement about the request, not the payment, which the real buyer can still
 * approve and execute. Anyone who knows a payment id can send such a request.
 */
const EXECUTE_REQUEST_REFUSALS = new Set(['INVALID_PAYER_ID', 'PAYMENT_NOT_APPROVED_FOR_EXECUTION', 'INVALID_REQUEST']);

/** How a link's payment ended before its return, each said as it happened (a buyer who cancelled was told "replaced"). */
type EndedLink = 'replaced' | 'cancelled_by_buyer' | 'expired' | 'declined';

type DoorVerdict = 'execute' | 'settled' | NonNullable<ReturnResult['refused']>;

const REFUSAL_TEXT: Record<NonNullable<ReturnResult['refused']>, string> = {
  already_paid: 'nothing was charged through this link: the order was paid with another payment',
  order_cancelled: 'nothing was charged: the order was cancelled',
  replaced: 'nothing was charged through this link: a newer payment link replaced it',
  cancelled_by_buyer: 'nothing was charged through this link: you cancelled it at PayPal',
  expired: 'nothing was charged through this link: it expired',
  declined: 'nothing was charged through this link: PayPal declined it',
};

/** cancelAttempt's reason: the buyer cancelled at PayPal (anything else cancelled is a newer attempt's doing). */
export const BUYER_CANCELLED = 'buyer cancelled';

/** Whether `/paypal/return` may execute this attempt: only the open attempt of an order not yet paid. */
function returnDoor(orderStatus: string, attempt: AttemptRow): DoorVerdict {
  // This link's own payment went through (a reload, the back button): show where it stands.
  if (attempt.status === 'succeeded' || (attempt.saleId && attempt.saleState !== 'failed')) return 'settled';
  if (PAID_STATUSES.includes(orderStatus as OrderStatus)) return 'already_paid';
  if (orderStatus === 'cancelled') return 'order_cancelled';
  if (OPEN_ATTEMPT_STATUSES.includes(attempt.status)) return 'execute';
  if (attempt.status === 'expired') return 'expired';
  if (attempt.status === 'failed') return 'declined';
  return attempt.status === 'cancelled' && attempt.failureReason === BUYER_CANCELLED ? 'cancelled_by_buyer' : 'replaced';
}

/**
 * The buyer is back from PayPal. Only the order's current open attempt of an unpaid order is
 * executed: an old link (superseded, expired, cancelled), or any link of an order already paid, is
 * refused before PayPal is asked, so a buyer who approved two payments is charged once. The
 * execution is claimed under the order's lock (a newer attempt is refused meanwhile), and the
 * attempt changes only with PayPal's answer. Safe to call again (a reload, the back button, a racing
 * IPN): PayPal-Request-Id and the row locks make repeats harmless.
 */
export async function handleReturn(deps: PaymentsDeps, query: { paymentId?: string; payerId?: string; token?: string }): Promise<ReturnResult> {
  const em = deps.orm.em.fork();
  if (!query.paymentId || !query.payerId) throw new DomainError('BAD_REQUEST', 'paymentId and PayerID are required');
  const found = await findAttempt(em, { externalId: query.paymentId });
  // PayPal sends the buyer back with the EC token of the approval URL it gave us for this payment
  // (paypal-protocol.md). A return without it names no payment of ours: a PayPal payment id alone
  // (staff see it in the back office, our logs and PayPal's answers carry it) must not lead anyone to
  // the buyer's order, record an event on it, or have PayPal asked to execute it. Compared whole, as
  // the cancel's.
  if (!found || !query.token || approvalToken(found.approvalUrl) !== query.token) throw notFound('payment');
  const paymentId = query.paymentId;
  const door = await em.transactional(async (tx) => {
    // Locks first, then the event: the event's foreign keys take KEY SHARE on the order and the attempt,
    // which a concurrent return holding their locks needs to upgrade (it writes their unique sale ids): a
    // reload that took KEY SHARE before queueing for the locks deadlocked with the return it reloaded.
    const { order, attempt } = await lockOrderAndAttempt(tx, found.id);
    await recordPaymentEvent(tx, {
      source: 'return',
      attemptId: found.id,
      orderId: found.orderId,
      externalId: paymentId,
      payload: { paymentId, payerId: query.payerId, token: query.token },
      outcome: 'buyer returned from PayPal',
    });
    const verdict = returnDoor(order.status, attempt);
    // Claimed (or claimed again by a reload: PayPal-Request-Id makes a repeated execute return the first one's result).
    if (verdict === 'execute') await affected(tx, sql`update order_payment_attempt set execute_started_at = now() where id = ${attempt.id}`);
    return verdict;
  });
  if (door === 'settled') return returnResult(em, found.id, 'already settled');
  if (door !== 'execute') {
    await recordPaymentEvent(em, {
      source: 'return',
      attemptId: found.id,
      orderId: found.orderId,
      externalId: paymentId,
      processing: 'ignored',
      outcome: `not executed: ${REFUSAL_TEXT[door]}`,
    });
    return { ...(await returnResult(em, found.id, REFUSAL_TEXT[door])), refused: door };
  }
  const release = () => affected(em, sql`update order_payment_attempt set execute_started_at = null where id = ${found.id}`);
  let payment: ProviderPayment;
  try {
    payment = await deps.gateway.executePayment({ requestId: `execute-${found.id}`, paymentId, payerId: query.payerId });
  } catch (error) {
    if (error instanceof PaymentProviderError && error.providerErrorName === 'PAYMENT_ALREADY_DONE') {
      payment = await deps.gateway.getPayment(paymentId).catch(async (getError: unknown) => {
        await release();
        throw providerFailure(getError, 'PayPal did not confirm the payment yet; reload to retry');
      });
    } else if (error instanceof PaymentProviderError && EXECUTE_REQUEST_REFUSALS.has(error.providerErrorName)) {
      await release();
      await recordPaymentEvent(em, {
        source: 'provider',
        attemptId: found.id,
        orderId: found.orderId,
        externalId: paymentId,
        providerStatus: error.providerErrorName,
        payload: providerErrorPayload(error),
        processing: 'ignored',
        outcome: `execute refused, attempt left as it was: ${error.message}`,
      });
      throw new DomainError('BAD_REQUEST', 'PayPal refused to execute the payment with these details');
    } else if (error instanceof PaymentProviderError && !error.retryable) {
      const applied = await applyAndRecord(deps, found.id, { kind: 'failed', reason: `${error.providerErrorName}: ${error.message}` }, PAYPAL_ACTOR, {
      source: 'provider',
        externalId: paymentId,
        payload: providerErrorPayload(error),
      });
      return returnResult(em, found.id, applied.message);
    } else {
      // PayPal may have executed it: the claim stays until it lapses, so no newer attempt is paid meanwhile.
      await recordPaymentEvent(em, {
        source: 'provider',
        attemptId: found.id,
        orderId: found.orderId,
        externalId: paymentId,
        processing: 'flagged',
        outcome: `execute did not answer: ${(error as Error).message}`,
      });
      throw providerFailure(error, 'PayPal did not confirm the payment yet; reload to retry');
    }
  }
  await affected(em, sql`update order_payment_attempt set raw_execute = ${JSON.stringify(payment.raw)}::jsonb where id = ${found.id}`);
  const outcome = outcomeFromProvider(payment);
  const applied = outcome
    ? await applyAndRecord(deps, found.id, outcome, PAYPAL_ACTOR, { source: 'provider', externalId: paymentId, payload: payment.raw, txnId: payment.sale?.id ?? null })
    : (await release(), undefined);
  return returnResult(em, found.id, applied?.message ?? `PayPal says ${payment.state}`);
}

export async function handleCancel(deps: PaymentsDeps, query: { attemptId?: string; token?: string }): Promise<ReturnResult> {
  const em = deps.orm.em.fork();
  if (!query.attemptId || !isUuid(query.attemptId)) throw notFound('payment');
  const attempt = await findAttempt(em, { id: query.attemptId });
  // The EC token PayPal puts on the cancel URL must match the one in our approval URL.
  // Compared whole: a substring test let any prefix of the token (even `E`) cancel someone's payment.
  if (!attempt || !query.token || approvalToken(attempt.approvalUrl) !== query.token) throw notFound('payment');
  const cancelled = await em.transactional(async (tx) => {
    const ended = await cancelAttempt(tx, attempt.id, BUYER_CANCELLED);
    await recordPaymentEvent(tx, {
      source: 'cancel',
      attemptId: attempt.id,
      orderId: attempt.orderId,
      externalId: attempt.externalId,
      payload: { token: query.token },
      outcome: ended ? 'buyer cancelled at PayPal' : 'buyer cancelled at PayPal; not applied: the payment was already being executed, or PayPal holds its sale',
    });
    return ended;
  });
  // Not cancelled (being executed, or a sale PayPal holds): the buyer sees the payment's own status page, never "nothing was charged".
  if (!cancelled) return returnResult(em, attempt.id, 'payment not cancelled: it is being confirmed with PayPal');
  return returnResult(em, attempt.id, 'payment cancelled', attempt.cancelUrl);
}

export async function attemptStatus(deps: PaymentsDeps, attemptId: string): Promise<ReturnResult> {
  return returnResult(deps.orm.em.fork(), attemptId, '');
}

async function returnResult(em: EntityManager, attemptId: string, message: string, redirectBase?: string | null): Promise<ReturnResult> {
  const row = await firstRow(
    em,
    sql<
      Pick<ReturnResult, 'attemptStatus' | 'orderId' | 'orderNumber' | 'orderStatus' | 'total' | 'refundedAmount' | 'currency' | 'amount' | 'saleState' | 'otherSale'> & {
        returnUrl: string | null;
      }
    >`
      select a.status as "attemptStatus", a.order_id as "orderId", o.number::int as "orderNumber", o.status as "orderStatus", a.return_url as "returnUrl",
             o.total, o.refunded_amount as "refundedAmount", o.currency, a.amount, a.sale_state as "saleState",
             (a.sale_id is not null and a.sale_state in ('completed', 'partially_refunded', 'refunded')
              and o.payment_transaction_id is distinct from a.sale_id) as "otherSale"
        from order_payment_attempt a join "order" o on o.id = a.order_id where a.id = ${attemptId}`,
  );
  if (!row) throw notFound('payment attempt');
  const base = redirectBase === undefined ? row.returnUrl : redirectBase;
  return {
    attemptId,
    orderId: row.orderId,
    orderNumber: row.orderNumber,
    orderStatus: row.orderStatus,
    attemptStatus: row.attemptStatus,
    redirectTo: base ? withQuery(base, { orderId: row.orderId, status: row.orderStatus }) : null,
    message,
    total: row.total,
    refundedAmount: row.refundedAmount,
    currency: row.currency,
    amount: row.amount,
    saleState: row.saleState,
    otherSale: row.otherSale,
  };
}

/**
 * The buyer's page title for where this link's payment stands now. A link kept in the browser's history is
 * opened again long after: once its money went back — staff refunded the order, or it was a second capture
 * refunded automatically — "Payment received" is no longer the truth.
 */
export function buyerPageTitle(result: Pick<ReturnResult, 'orderStatus' | 'attemptStatus' | 'saleState' | 'otherSale'>): string {
  // A sale that did not pay the order (a duplicate, given back on its own while the order stays paid): its own state.
  if (result.otherSale) {
    if (result.saleState === 'refunded') return 'This payment was refunded';
    if (result.saleState === 'partially_refunded') return 'This payment was partially refunded';
    return 'Payment received';
  }
  // A link the buyer cancelled (or one replaced by a newer attempt) never paid: if the order is paid, another payment did it.
  if (result.attemptStatus === 'cancelled') return PAID_STATUSES.includes(result.orderStatus as OrderStatus) ? 'This order is already paid' : 'Payment cancelled';
  if (result.orderStatus === 'refunded') return 'This payment was refunded';
  if (result.orderStatus === 'partially_refunded') return 'This payment was partially refunded';
  if (result.orderStatus === 'paid') return 'Payment received';
  if (result.orderStatus === 'failed') return 'Payment failed';
  if (isHeldSale(result)) return 'PayPal is reviewing your payment';
  return 'Confirming your payment…';
}

/** The buyer paid and PayPal holds the sale for review (pending: eCheck, payment review…), which can take days. */
export const isHeldSale = (result: Pick<ReturnResult, 'orderStatus' | 'saleState' | 'otherSale'>) =>
  !result.otherSale && result.orderStatus === 'pending' && result.saleState === 'pending';

type DetailOf = Pick<ReturnResult, 'orderNumber' | 'orderStatus' | 'total' | 'refundedAmount' | 'currency' | 'amount' | 'saleState' | 'otherSale'>;

/**
 * "Order #1002 is partially refunded. $10.00 of $25.00 was refunded.": the status, and once money went back, how much.
 * For a link whose sale did not pay the order (a second capture), what became of that payment comes first.
 */
export function buyerPageDetail(result: DetailOf): string {
  const status = `Order #${result.orderNumber} is ${result.orderStatus.replace('_', ' ')}.`;
  const currency = result.currency;
  if (!isSupportedCurrency(currency)) return status;
  const money = (minor: number) => formatMoney(minor, currency);
  if (result.otherSale && (result.saleState === 'refunded' || result.saleState === 'partially_refunded')) {
    const own = result.saleState === 'refunded' ? `This payment of ${money(result.amount)} was refunded in full` : `Part of this payment of ${money(result.amount)} was refunded`;
    return result.orderStatus === 'paid' ? `${own}: order #${result.orderNumber} was paid with another payment.` : `${own}. ${status}`;
  }
  if (isHeldSale(result)) return `${status} PayPal holds your payment for review, which can take a few days: you do not need to pay again.`;
  if (result.refundedAmount <= 0) return status;
  return result.refundedAmount >= result.total
    ? `${status} ${money(result.refundedAmount)} was refunded.`
    : `${status} ${money(result.refundedAmount)} of ${money(result.total)} was refunded.`;
}
