import type { MikroORM } from '@mikro-orm/postgresql';
import { type AttemptStatus, type Currency, type Customer, type OrderStatus, type ResyncResult } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, sql, type EntityManager } from '../../db/sql.js';
import { DomainError, conflict, notFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { PaymentProviderError, type PaymentGateway, type ProviderPayment } from '../../paypal/gateway.js';
import { parseIpn, verifyIpn, type IpnFields } from '../../paypal/ipn/ipn-message.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { loadLines } from '../carts/carts.service.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { ORDER_COLUMNS, findOrder, reopenFailedOrder, type OrderRow } from '../orders/orders.service.js';
import { OPEN_ATTEMPT_STATUSES, attemptCanBecome } from './attempt-state.js';
import {
  PAYPAL_ACTOR,
  amountMismatch,
  applyVerifiedNotification,
  sendDuplicateRefund,
  unreadableAmount,
  type DuplicatePolicy,
  finishNotification,
  inboxColumn,
  pendingNotification,
  storeNotification,
  strandedNotifications,
  unsignedMinor,
  type NotificationOutcome,
} from './notification-inbox.js';
import { recordPaymentEvent, type FlagKind, type Processing } from './payment-events.js';
import {
  ATTEMPT_COLUMNS,
  applyPaymentOutcome,
  findAttempt,
  lockOrderAndAttempt,
  providerFailure,
  type AppliedOutcome,
  type AttemptRow,
  type PaymentOutcome,
} from './payment-outcome.js';

export interface PaymentsConfig {
  /** Where PayPal and the buyer's browser reach this server (return, cancel and IPN URLs); known once listening. */
  publicBaseUrl: () => string;
  receiverEmail: string;
  ipnVerifyUrl: string;
  /**
   * How long an execution started at /paypal/return holds the order's door shut to a newer attempt:
   * longer than PayPal's execute call can take (PAYPAL_TIMEOUT_MS), so a crashed one frees it.
   */
  executeClaimMs: number;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface IpnQueue {
  enqueueIpn(eventId: string, round?: string): Promise<void>;
}

export interface AttemptToPayResult {
  attemptId: string;
  externalId: string;
  approvalUrl: string;
}

export interface ReturnResult {
  attemptId: string;
  orderId: string;
  orderStatus: string;
  attemptStatus: AttemptStatus;
  /** The caller's URL to send the browser to, when it gave one. */
  redirectTo: string | null;
  message: string;
  /**
   * Set when the return was refused at the door and nothing was executed: the order is already paid
   * (by another payment), this link was replaced by a newer attempt, or it expired / failed / was cancelled.
   */
  refused?: 'already_paid' | 'replaced' | 'order_cancelled';
}

function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target.toString();
}

/** The provider's view of a payment turned into our outcome vocabulary. */
export function outcomeFromProvider(payment: ProviderPayment): PaymentOutcome | undefined {
  const sale = payment.sale;
  if (!sale) return payment.state === 'failed' ? { kind: 'failed', reason: 'payment failed at PayPal' } : undefined;
  switch (sale.state) {
    case 'completed':
    case 'refunded':
    case 'partially_refunded':
      return {
        kind: 'completed',
        saleId: sale.id,
        amount: sale.amount,
        currency: sale.currency,
        payerId: payment.payerId ?? null,
        payerEmail: payment.payerEmail ?? null,
      };
    case 'pending':
      return { kind: 'pending', saleId: sale.id, reason: sale.reasonCode ?? null };
    case 'denied':
    case 'failed':
    case 'voided':
    case 'expired':
      return { kind: 'failed', reason: `sale ${sale.state}`, saleId: sale.id };
    default:
      return undefined;
  }
}

/** IPN statuses that move money back out of (or into) a sale already captured: their sale is parent_txn_id. */
const IPN_MOVEMENTS = new Set(['Refunded', 'Reversed', 'Canceled_Reversal']);

/**
 * Maps an IPN's payment_status to an outcome. The status decides first: a failure needs no amount,
 * and only a capture, a pending sale or a money movement has its amount read (and checked).
 */
function outcomeFromIpn(fields: IpnFields, attempt: AttemptRow | undefined): NotificationOutcome {
  const status = fields.payment_status ?? '';
  switch (status) {
    case 'Failed':
    case 'Denied':
    case 'Expired':
    case 'Voided':
      return attempt ? { kind: 'failed', reason: `PayPal IPN: ${status}`, saleId: fields.txn_id ?? null } : undefined;
    case 'Completed':
    case 'Pending':
    case 'Refunded':
    case 'Reversed':
    case 'Canceled_Reversal':
      break;
    default:
      return undefined;
  }
  const money = unsignedMinor(fields.mc_gross, fields.mc_currency);
  if (!money) return unreadableAmount(fields.mc_gross, fields.mc_currency);
  const { amount, currency } = money;
  const says = `IPN says ${fields.mc_gross} ${currency}`;
  if (status === 'Completed' || status === 'Pending') {
    if (!attempt) return undefined;
    return (
      amountMismatch(attempt, money, says) ??
      (status === 'Completed'
        ? { kind: 'completed', saleId: fields.txn_id ?? '', amount, currency, payerId: fields.payer_id ?? null, payerEmail: fields.payer_email ?? null }
        : { kind: 'pending', saleId: fields.txn_id ?? null, reason: fields.pending_reason ?? null })
    );
  }
  const saleId = fields.parent_txn_id || attempt?.saleId;
  if (!saleId) return undefined;
  // The refund's, reversal's or cancelled reversal's own transaction: the webhook for it names the same one.
  const txnId = fields.txn_id || null;
  if (status === 'Canceled_Reversal') return { kind: 'reversal_canceled', saleId, amount, currency, txnId };
  return {
    kind: 'refunded',
    movement: status === 'Refunded' ? 'refund' : 'reversal',
    saleId,
    amount,
    currency,
    reason: status === 'Refunded' ? 'refunded' : `reversed (${fields.reason_code ?? 'no reason given'})`,
    refundTxnId: txnId,
  };
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

type DoorVerdict = 'execute' | 'settled' | NonNullable<ReturnResult['refused']>;

const REFUSAL_TEXT: Record<NonNullable<ReturnResult['refused']>, string> = {
  already_paid: 'nothing was charged through this link: the order was paid with another payment',
  replaced: 'nothing was charged through this link: a newer payment link replaced it, or it expired',
  order_cancelled: 'nothing was charged: the order was cancelled',
};

/** Whether `/paypal/return` may execute this attempt: only the open attempt of an order not yet paid. */
function returnDoor(orderStatus: string, attempt: AttemptRow): DoorVerdict {
  // This link's own payment went through (a reload, the back button): show where it stands.
  if (attempt.status === 'succeeded' || (attempt.saleId && attempt.saleState !== 'failed')) return 'settled';
  if (PAID_STATUSES.includes(orderStatus as OrderStatus)) return 'already_paid';
  if (orderStatus === 'cancelled') return 'order_cancelled';
  if (!OPEN_ATTEMPT_STATUSES.includes(attempt.status)) return 'replaced';
  return 'execute';
}

/** A provider error as stored on a payment event. */
const providerErrorPayload = (error: PaymentProviderError) => ({ name: error.providerErrorName, httpStatus: error.httpStatus, debugId: error.debugId, details: error.details });

export class PaymentsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly gateway: PaymentGateway,
    private readonly config: PaymentsConfig,
    private readonly queue: IpnQueue,
    private readonly logger: Logger,
    private readonly duplicates: DuplicatePolicy,
  ) {}

  /**
   * Seed `attempt_to_pay_for_order`: a new attempt (superseding the order's open ones), then a PayPal
   * payment created with the attempt id as PayPal-Request-Id, so a retried call cannot pay twice.
   */
  async attemptToPay(
    customer: Customer,
    input: { orderId: string; returnUrl?: string; cancelUrl?: string },
    actor: Actor,
  ): Promise<AttemptToPayResult> {
    const em = this.orm.em.fork();
    const { attempt, order, lines } = await em.transactional(async (tx) => {
      // The customer's own order, locked, in one statement.
      const full = await firstRow(
        tx,
        sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o
          where o.id = ${input.orderId} and o.customer_type = ${customer.type} and o.customer_id = ${customer.id} for no key update`,
      );
      if (!full) throw notFound('order');
      if (PAID_STATUSES.includes(full.status)) throw conflict(`order is already ${full.status}`);
      if (full.status === 'cancelled') throw conflict('order is cancelled');
      const executing = await firstRow(
        tx,
        sql<{ id: string }>`select id from order_payment_attempt where order_id = ${full.id} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})
                             and execute_started_at > now() - make_interval(secs => ${this.config.executeClaimMs / 1000})`,
      );
      // The buyer is back from PayPal and the payment is being executed: a new one now could be paid too.
      if (executing) throw conflict('a payment for this order is being confirmed with PayPal; try again in a moment');
      const reopened = await reopenFailedOrder(tx, full, actor);
      await affected(
        tx,
        sql`update order_payment_attempt set status = 'cancelled', failure_reason = 'superseded by a newer attempt', updated_at = now()
             where order_id = ${reopened.id} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})`,
      );
      const attempt = await firstRow(
        tx,
        sql<AttemptRow>`
          insert into order_payment_attempt as a (id, created_at, updated_at, order_id, provider, status, amount, currency, return_url, cancel_url)
          values (${newId()}, now(), now(), ${reopened.id}, 'paypal', 'created', ${reopened.total}, ${reopened.currency},
                  ${input.returnUrl ?? null}, ${input.cancelUrl ?? null})
          returning ${ATTEMPT_COLUMNS}`,
      );
      return { attempt: attempt!, order: reopened, lines: await loadLines(tx, reopened.cartId) };
    });

    const base = this.config.publicBaseUrl();
    try {
      const created = await this.gateway.createPayment({
        requestId: attempt.id,
        amount: attempt.amount,
        currency: attempt.currency,
        items: lines.map((l) => ({ sku: l.sku, name: l.name, unitPrice: l.unitPrice, quantity: l.quantity })),
        description: `Order ${order.id}`,
        invoiceNumber: attempt.id,
        custom: order.id,
        notifyUrl: `${base}/paypal/ipn`,
        returnUrl: withQuery(`${base}/paypal/return`, { attemptId: attempt.id }),
        cancelUrl: withQuery(`${base}/paypal/cancel`, { attemptId: attempt.id }),
      });
      await em.transactional(async (tx) => {
        await affected(
          tx,
          sql`update order_payment_attempt set external_id = ${created.paymentId}, approval_url = ${created.approvalUrl},
                raw_create = ${JSON.stringify(created.raw)}::jsonb, updated_at = now() where id = ${attempt.id}`,
        );
        await recordPaymentEvent(tx, {
          source: 'provider',
          attemptId: attempt.id,
          orderId: order.id,
          externalId: created.paymentId,
          providerStatus: 'created',
          payload: created.raw,
          outcome: 'payment created',
        });
      });
      return { attemptId: attempt.id, externalId: created.paymentId, approvalUrl: created.approvalUrl };
    } catch (error) {
      const reason = error instanceof PaymentProviderError ? error.message : 'PayPal call failed';
      await em.transactional(async (tx) => {
        await affected(
          tx,
          sql`update order_payment_attempt set status = 'failed', failure_reason = ${reason}, updated_at = now()
               where id = ${attempt.id} and status = 'created'`,
        );
        await recordPaymentEvent(tx, {
          source: 'provider',
          attemptId: attempt.id,
          orderId: order.id,
          providerStatus: error instanceof PaymentProviderError ? error.providerErrorName : 'error',
          payload: error instanceof PaymentProviderError ? providerErrorPayload(error) : null,
          processing: 'flagged',
          outcome: `create failed: ${reason}`,
        });
      });
      throw providerFailure(error, 'PayPal could not create the payment');
    }
  }

  /**
   * The buyer is back from PayPal. Only the order's current open attempt of an unpaid order is
   * executed: an old link (superseded, expired, cancelled), or any link of an order already paid, is
   * refused before PayPal is asked, so a buyer who approved two payments is charged once. The
   * execution is claimed under the order's lock (a newer attempt is refused meanwhile), and the
   * attempt changes only with PayPal's answer. Safe to call again (a reload, the back button, a racing
   * IPN): PayPal-Request-Id and the row locks make repeats harmless.
   */
  async handleReturn(query: { paymentId?: string; payerId?: string; token?: string }): Promise<ReturnResult> {
    const em = this.orm.em.fork();
    if (!query.paymentId || !query.payerId) throw new DomainError('BAD_REQUEST', 'paymentId and PayerID are required');
    const found = await findAttempt(em, { externalId: query.paymentId });
    if (!found) throw notFound('payment');
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
        payload: { paymentId, payerId: query.payerId, token: query.token ?? null },
        outcome: 'buyer returned from PayPal',
      });
      const verdict = returnDoor(order.status, attempt);
      // Claimed (or claimed again by a reload: PayPal-Request-Id makes a repeated execute return the first one's result).
      if (verdict === 'execute') await affected(tx, sql`update order_payment_attempt set execute_started_at = now() where id = ${attempt.id}`);
      return verdict;
    });
    if (door === 'settled') return this.returnResult(em, found.id, 'already settled');
    if (door !== 'execute') {
      await recordPaymentEvent(em, {
        source: 'return',
        attemptId: found.id,
        orderId: found.orderId,
        externalId: paymentId,
        processing: 'ignored',
        outcome: `not executed: ${REFUSAL_TEXT[door]}`,
      });
      return { ...(await this.returnResult(em, found.id, REFUSAL_TEXT[door])), refused: door };
    }
    const release = () => affected(em, sql`update order_payment_attempt set execute_started_at = null where id = ${found.id}`);
    let payment: ProviderPayment;
    try {
      payment = await this.gateway.executePayment({ requestId: `execute-${found.id}`, paymentId, payerId: query.payerId });
    } catch (error) {
      if (error instanceof PaymentProviderError && error.providerErrorName === 'PAYMENT_ALREADY_DONE') {
        payment = await this.gateway.getPayment(paymentId).catch(async (getError: unknown) => {
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
        const applied = await this.applyAndRecord('provider', found.id, { kind: 'failed', reason: `${error.providerErrorName}: ${error.message}` }, PAYPAL_ACTOR, {
          externalId: paymentId,
          payload: providerErrorPayload(error),
        });
        return this.returnResult(em, found.id, applied.message);
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
      ? await this.applyAndRecord('provider', found.id, outcome, PAYPAL_ACTOR, { externalId: paymentId, payload: payment.raw, txnId: payment.sale?.id ?? null })
      : (await release(), undefined);
    return this.returnResult(em, found.id, applied?.message ?? `PayPal says ${payment.state}`);
  }

  async handleCancel(query: { attemptId?: string; token?: string }): Promise<ReturnResult> {
    const em = this.orm.em.fork();
    if (!query.attemptId || !UUID_PATTERN.test(query.attemptId)) throw notFound('payment');
    const attempt = await findAttempt(em, { id: query.attemptId });
    // The EC token PayPal puts on the cancel URL must match the one in our approval URL.
    // Compared whole: a substring test let any prefix of the token (even `E`) cancel someone's payment.
    if (!attempt || !query.token || approvalToken(attempt.approvalUrl) !== query.token) throw notFound('payment');
    await em.transactional(async (tx) => {
      await recordPaymentEvent(tx, {
        source: 'cancel',
        attemptId: attempt.id,
        orderId: attempt.orderId,
        externalId: attempt.externalId,
        payload: { token: query.token },
        outcome: 'buyer cancelled at PayPal',
      });
      await affected(
        tx,
        sql`update order_payment_attempt set status = 'cancelled', failure_reason = 'buyer cancelled', updated_at = now()
             where id = ${attempt.id} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])})`,
      );
    });
    return this.returnResult(em, attempt.id, 'payment cancelled', attempt.cancelUrl);
  }

  /** Seed `update_attempt_to_pay`: a caller reports an outcome; amount and currency must match. */
  async updateAttempt(
    input: { externalId: string; status: AttemptStatus; amount: number; currency: Currency },
    actor: Actor,
  ): Promise<{ attemptId: string; status: AttemptStatus; orderId: string; orderStatus: string; changed: boolean }> {
    const em = this.orm.em.fork();
    const attempt = await findAttempt(em, { externalId: input.externalId });
    if (!attempt) throw notFound('payment attempt');
    // What the caller reported is kept as a payment event either way, for reconciliation.
    const reported = (processing: Processing, outcome: string, flagKind?: FlagKind) => ({
      source: 'update_attempt' as const,
      attemptId: attempt.id,
      orderId: attempt.orderId,
      externalId: input.externalId,
      providerStatus: input.status,
      amount: input.amount,
      currency: input.currency,
      payload: input,
      processing,
      outcome,
      flagKind: flagKind ?? null,
    });
    if (input.amount !== attempt.amount || input.currency !== attempt.currency) {
      await recordPaymentEvent(
        em,
        reported('flagged', `amount mismatch: reported ${input.amount} ${input.currency}, expected ${attempt.amount} ${attempt.currency}`, 'amount_mismatch'),
      );
      throw new DomainError('PRECONDITION_FAILED', `amount or currency does not match the attempt (expected ${attempt.amount} ${attempt.currency})`, 'amount');
    }
    if (input.status === attempt.status) {
      const order = await findOrder(em, attempt.orderId);
      return { attemptId: attempt.id, status: attempt.status, orderId: attempt.orderId, orderStatus: order!.status, changed: false };
    }
    if (!attemptCanBecome(attempt.status, input.status)) throw conflict(`attempt is ${attempt.status}; it cannot become ${input.status}`);
    const applied = await em.transactional(async (tx) => {
      let result: AppliedOutcome | undefined;
      switch (input.status) {
        case 'succeeded':
          result = await applyPaymentOutcome(tx, attempt.id, {
            kind: 'completed',
            saleId: attempt.saleId ?? `manual-${attempt.id}`,
            amount: input.amount,
            currency: input.currency,
            evidence: 'caller',
          }, actor);
          break;
        case 'failed':
          result = await applyPaymentOutcome(tx, attempt.id, { kind: 'failed', reason: 'reported failed by caller' }, actor);
          break;
        default:
          await affected(tx, sql`update order_payment_attempt set status = ${input.status}, updated_at = now() where id = ${attempt.id}`);
      }
      await recordPaymentEvent(tx, reported(result?.result === 'flagged' ? 'flagged' : 'processed', result?.message ?? `attempt ${input.status}`, result?.flag));
      return result;
    });
    const order = await findOrder(em, attempt.orderId);
    const now = await findAttempt(em, { id: attempt.id });
    return { attemptId: attempt.id, status: now!.status, orderId: attempt.orderId, orderStatus: order!.status, changed: applied?.result !== 'already_applied' };
  }

  /** The IPN listener's whole synchronous job: store the exact bytes, queue the work. */
  async receiveIpn(raw: Buffer): Promise<string> {
    const fields = parseIpn(raw);
    return storeNotification(
      this.orm.em.fork(),
      {
        source: 'ipn',
        txnId: inboxColumn(fields.txn_id, 64),
        parentTxnId: inboxColumn(fields.parent_txn_id, 64),
        providerStatus: inboxColumn(fields.payment_status, 64),
        currency: inboxColumn(fields.mc_currency, 3),
        rawBody: raw,
      },
      (eventId) => this.queue.enqueueIpn(eventId),
      this.logger,
    );
  }

  /**
   * The IPN job: verify by postback, run PayPal's checklist, apply through the exactly-once path.
   * Throws only for temporary trouble (verification unreachable), so the queue retries with backoff.
   */
  async processIpn(eventId: string): Promise<Processing> {
    const em = this.orm.em.fork();
    const event = await pendingNotification(em, eventId, 'ipn');
    if (typeof event === 'string') return event;
    const verdict = await verifyIpn(this.config.ipnVerifyUrl, event.rawBody);
    if (verdict === 'INVALID') {
      await finishNotification(em, eventId, 'invalid', 'ignored', 'PayPal answered INVALID: not from PayPal or altered');
      return 'ignored';
    }
    const fields = parseIpn(event.rawBody);
    const receiver = (fields.receiver_email ?? fields.business ?? '').toLowerCase();
    if (receiver !== this.config.receiverEmail) {
      await finishNotification(em, eventId, 'verified', 'flagged', `receiver ${receiver || '(none)'} is not ours`, { flagKind: 'receiver_mismatch' });
      return 'flagged';
    }
    const txnId = fields.txn_id ?? '';
    const status = fields.payment_status ?? '';
    // Refunds and reversals carry a new txn_id; the original sale is parent_txn_id.
    const saleId = fields.parent_txn_id || txnId;
    return applyVerifiedNotification(
      em,
      {
        eventId,
        dedupKey: `ipn:${txnId}:${status}`,
        subject: `txn ${txnId || '(none)'}`,
        gross: unsignedMinor(fields.mc_gross, fields.mc_currency)?.amount ?? null,
        noAction: `payment_status ${status || '(none)'} needs no action`,
        movementSaleId: IPN_MOVEMENTS.has(status) ? fields.parent_txn_id || null : null,
        findAttempt: async (tx) =>
          (saleId ? await findAttempt(tx, { saleId }) : undefined) ??
          (fields.invoice && UUID_PATTERN.test(fields.invoice) ? await findAttempt(tx, { id: fields.invoice }) : undefined),
        outcome: (attempt) => outcomeFromIpn(fields, attempt),
      },
      PAYPAL_ACTOR,
      this.duplicates,
      this.logger,
    );
  }

  /** IPNs stored but never processed (a crash between the 200 and the queue): queue them again. */
  async requeueStrandedIpns(olderThanSeconds = 30, round?: string): Promise<number> {
    const stranded = await strandedNotifications(this.orm.em.fork(), 'ipn', olderThanSeconds);
    for (const id of stranded) await this.queue.enqueueIpn(id, round);
    return stranded.length;
  }

  /** Attempts nobody finished (buyer never came back) stop counting as open after `olderThanMinutes`. */
  async expireStaleAttempts(olderThanMinutes = 180): Promise<number> {
    const em = this.orm.em.fork();
    return affected(
      em,
      sql`update order_payment_attempt set status = 'expired', failure_reason = 'no answer from the buyer in time', updated_at = now()
           where status in (${sql.join([...OPEN_ATTEMPT_STATUSES])}) and coalesce(sale_state, '') <> 'pending'
             and updated_at < now() - make_interval(mins => ${olderThanMinutes})`,
    );
  }

  /**
   * Staff re-sync: ask PayPal and apply its answer through the same path as IPNs. The audit entry
   * (who, the attempt and order before and after, why) commits together with what the answer changed.
   */
  async resync(attemptId: string, actor: Actor, reason?: string | null): Promise<ResyncResult> {
    const em = this.orm.em.fork();
    const attempt = await findAttempt(em, { id: attemptId });
    if (!attempt) throw notFound('payment attempt');
    if (!attempt.externalId) throw conflict('this attempt never reached PayPal');
    const externalId = attempt.externalId;
    let payment: ProviderPayment;
    try {
      payment = await this.gateway.getPayment(externalId);
    } catch (error) {
      throw providerFailure(error, 'PayPal could not be asked');
    }
    const outcome = outcomeFromProvider(payment);
    let duplicateRefundId: string | undefined;
    const result = await em.transactional(async (tx) => {
      const before = await lockOrderAndAttempt(tx, attemptId);
      let applied: { result: string; message: string; order: OrderRow; attempt: AttemptRow };
      if (outcome) {
        const recorded = await this.recordApplied(tx, 'resync', attemptId, outcome, actor, { externalId, payload: payment.raw, txnId: payment.sale?.id ?? null });
        duplicateRefundId = recorded.duplicateRefundId;
        applied = recorded;
      } else {
        const message = `PayPal says ${payment.state}`;
        await recordPaymentEvent(tx, { source: 'resync', attemptId, orderId: attempt.orderId, externalId, payload: payment.raw, outcome: message });
        applied = { result: 'no_change', message, order: before.order, attempt: before.attempt };
      }
      await recordAudit(tx, {
        actor,
        action: 'payment.resynced',
        orderId: before.order.id,
        before: { attemptId, attemptStatus: before.attempt.status, orderStatus: before.order.status },
        after: { attemptStatus: applied.attempt.status, orderStatus: applied.order.status, paypalState: payment.state, result: applied.result },
        reason: reason ?? null,
      });
      return {
        orderId: applied.order.id,
        status: applied.order.status,
        refundedAmount: applied.order.refundedAmount,
        attemptId,
        attemptStatus: applied.attempt.status,
        result: applied.result,
        message: applied.message,
      };
    });
    if (duplicateRefundId) await sendDuplicateRefund(this.duplicates, duplicateRefundId, this.logger);
    return result;
  }

  async attemptStatus(attemptId: string): Promise<ReturnResult> {
    return this.returnResult(this.orm.em.fork(), attemptId, '');
  }

  private async applyAndRecord(
    source: 'provider' | 'resync',
    attemptId: string,
    outcome: PaymentOutcome,
    actor: Actor,
    event: { externalId: string | null; payload: unknown; txnId?: string | null },
  ): Promise<AppliedOutcome> {
    const applied = await this.orm.em.fork().transactional((tx) => this.recordApplied(tx, source, attemptId, outcome, actor, event));
    await this.afterCommit(applied);
    return applied;
  }

  /** A duplicate capture's refund, requested in the transaction just committed, goes to PayPal now. */
  private async afterCommit(applied: AppliedOutcome): Promise<void> {
    if (applied.duplicateRefundId) await sendDuplicateRefund(this.duplicates, applied.duplicateRefundId, this.logger);
  }

  /** Applies an outcome and stores it as a payment event, inside the caller's transaction. */
  private async recordApplied(
    tx: EntityManager,
    source: 'provider' | 'resync',
    attemptId: string,
    outcome: PaymentOutcome,
    actor: Actor,
    event: { externalId: string | null; payload: unknown; txnId?: string | null },
  ): Promise<AppliedOutcome> {
    const applied = await applyPaymentOutcome(tx, attemptId, outcome, actor, { refundDuplicates: this.duplicates.refundDuplicates });
    await recordPaymentEvent(tx, {
      source,
      attemptId,
      orderId: applied.order.id,
      externalId: event.externalId,
      txnId: event.txnId ?? null,
      providerStatus: outcome.kind,
      amount: 'amount' in outcome && typeof outcome.amount === 'number' ? outcome.amount : null,
      currency: 'currency' in outcome && typeof outcome.currency === 'string' ? outcome.currency : null,
      payload: event.payload,
      processing: applied.result === 'flagged' ? 'flagged' : applied.result === 'parked' ? 'parked' : 'processed',
      outcome: applied.message,
      flagKind: applied.flag ?? null,
    });
    return applied;
  }

  private async returnResult(em: EntityManager, attemptId: string, message: string, redirectBase?: string | null): Promise<ReturnResult> {
    const row = await firstRow(
      em,
      sql<{ attemptStatus: AttemptStatus; orderId: string; orderStatus: string; returnUrl: string | null }>`
        select a.status as "attemptStatus", a.order_id as "orderId", o.status as "orderStatus", a.return_url as "returnUrl"
          from order_payment_attempt a join "order" o on o.id = a.order_id where a.id = ${attemptId}`,
    );
    if (!row) throw notFound('payment attempt');
    const base = redirectBase === undefined ? row.returnUrl : redirectBase;
    return {
      attemptId,
      orderId: row.orderId,
      orderStatus: row.orderStatus,
      attemptStatus: row.attemptStatus,
      redirectTo: base ? withQuery(base, { orderId: row.orderId, status: row.orderStatus }) : null,
      message,
    };
  }
}

