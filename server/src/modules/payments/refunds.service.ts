import type { MikroORM } from '@mikro-orm/postgresql';
import type { Currency, RefundLinesResult, RefundResult } from '@orders/shared';
import { firstRow, rows, sql, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { PaymentProviderError, type PaymentGateway, type ProviderRefund } from '../../paypal/gateway.js';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit.service.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { findOrder, type OrderRow } from '../orders/order.repository.js';
import { settleRefunds } from '../orders/order.transitions.js';
import { requestDuplicateRefund } from './duplicate-refund.js';
import { completeRefundLines, priceChosenLines, recordRefundLines, type ChosenLine } from './line-refunds.js';
import { applyMovement, openOf, saleBalance, saleStateOf } from './money-ledger.js';
import { recordPaymentEvent } from './payment-events.js';
import { completeRefund, failRefund, requestRefund, requestedAmount } from './refund.transitions.js';
import { findAttempt, lockOrderAndAttempt } from './attempt.repository.js';
import { changeAttempt } from './attempt.transitions.js';
import { providerFailure } from './payment-outcome.js';

/** A refund row in `requested`: its amount is held against other refunds until PayPal answers. */
interface RequestedRefund {
  id: string;
  /** `order`: the order's own sale; `duplicate`: a second sale for an already paid order, which leaves the order as it is. */
  kind: 'order' | 'duplicate';
  orderId: string;
  saleId: string;
  amount: number;
  currency: Currency;
  attemptId: string | null;
  attemptExternalId: string | null;
  reason: string;
  /** The order as it was when the refund was asked for, for the audit trail. */
  before: { status: string; refundedAmount: number };
}

export interface ResumeResult {
  completed: number;
  failed: number;
  /** PayPal still unreachable: tried again on a later sweep. */
  retrying: number;
}

/**
 * Staff refunds of an order's PayPal sale, in three steps: a refund row (its id is the
 * PayPal-Request-Id, and its amount is held against concurrent refunds), PayPal's refund, then the
 * money applied to the order under its lock — unless PayPal's refund IPN was processed first.
 *
 * A process that dies between the first and last step leaves the row in `requested`. The payments
 * sweep resumes it: the same request id sent again makes PayPal answer with the refund it already
 * made, or make it now, never a second one.
 */
export class RefundsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly gateway: PaymentGateway,
    private readonly logger: Logger,
  ) {}

  async refund(input: { orderId: string; amount?: number; reason: string }, actor: Actor): Promise<RefundResult> {
    const requested = await this.orm.em.fork().transactional(async (tx) => {
      const { order, remaining } = await this.lockRefundableOrder(tx, input.orderId);
      const amount = input.amount ?? remaining;
      if (amount > remaining) throw badRequest(`amount: at most ${remaining} can still be refunded`, 'amount');
      return this.requestOrderRefund(tx, order, amount, input.reason, actor);
    });
    return this.send(requested, actor);
  }

  /**
   * Staff refund of chosen paid lines: the amount is the paid snapshot's unit price × quantity; a line
   * cannot be refunded beyond its paid quantity, nor the order beyond what is left of its money. The
   * covered lines are stored with the refund row; their stock goes back when the row completes.
   */
  async refundLines(
    input: { orderId: string; lines: ChosenLine[]; restock: boolean; reason: string; requestKey?: string | undefined },
    actor: Actor,
  ): Promise<RefundLinesResult> {
    const requested = await this.orm.em.fork().transactional(async (tx): Promise<{ refund: RequestedRefund } | { earlier: string }> => {
      if (input.requestKey) {
        const earlier = await this.earlierRefundWithKey(tx, input.orderId, input.requestKey);
        if (earlier) return { earlier };
      }
      const { order, remaining } = await this.lockRefundableOrder(tx, input.orderId);
      const priced = await priceChosenLines(tx, order.id, input.lines);
      const amount = priced.reduce((sum, line) => sum + line.amount, 0);
      if (amount <= 0) throw badRequest('lines: the chosen lines were paid nothing; there is no money to refund', 'lines');
      if (amount > remaining) throw badRequest(`lines: the chosen lines come to ${amount}, but at most ${remaining} can still be refunded`, 'lines');
      const refund = await this.requestOrderRefund(tx, order, amount, input.reason, actor, input.requestKey ?? null);
      await recordRefundLines(tx, { id: refund.id, orderId: order.id, restock: input.restock }, priced);
      return { refund };
    });
    if ('earlier' in requested) return this.completedLineRefund(requested.earlier);
    const result = await this.send(requested.refund, actor);
    return { ...result, ...(await this.coveredLines(this.orm.em.fork(), requested.refund.id)) };
  }

  /**
   * A line refund already made with this client key (a double click, a retry after a lost answer): its id
   * when completed, so the caller gets that refund's result and nothing is refunded twice. Under the
   * order's lock, so a second call waits for the first one's row.
   */
  private async earlierRefundWithKey(tx: EntityManager, orderId: string, requestKey: string): Promise<string | undefined> {
    if (!(await findOrder(tx, orderId, { lock: true }))) throw notFound('order');
    const earlier = await firstRow(
      tx,
      sql<{ id: string; orderId: string; status: string; failureReason: string | null }>`
        select id, order_id as "orderId", status, failure_reason as "failureReason" from order_refund where request_key = ${requestKey}`,
    );
    if (!earlier) return undefined;
    if (earlier.orderId !== orderId) throw badRequest('requestKey: already used for a refund of another order', 'requestKey');
    if (earlier.status === 'requested') throw conflict('this refund (same requestKey) is already under way with PayPal');
    if (earlier.status === 'failed') throw conflict(`this refund (same requestKey) failed: ${earlier.failureReason ?? 'PayPal refused it'}`);
    return earlier.id;
  }

  private async completedLineRefund(refundId: string): Promise<RefundLinesResult> {
    const em = this.orm.em.fork();
    const refund = await firstRow(
      em,
      sql<{ orderId: string; providerRefundId: string; amount: number; currency: Currency }>`
        select order_id as "orderId", provider_refund_id as "providerRefundId", amount, currency from order_refund where id = ${refundId}`,
    );
    const order = (await findOrder(em, refund!.orderId))!;
    return {
      orderId: order.id,
      status: order.status,
      refundedAmount: order.refundedAmount,
      refundId,
      providerRefundId: refund!.providerRefundId,
      amount: refund!.amount,
      currency: refund!.currency,
      ...(await this.coveredLines(em, refundId)),
    };
  }

  /** What a line refund covered, and whether its units are back in stock (when it asked for that). */
  private async coveredLines(em: EntityManager, refundId: string): Promise<Pick<RefundLinesResult, 'lines' | 'restocked'>> {
    const covered = await rows(
      em,
      sql<{ sku: string; quantity: number; amount: number; restock: boolean; restocked: boolean }>`
        select sku, quantity, amount, restock, restocked_at is not null as restocked from order_refund_line where refund_id = ${refundId} order by sku`,
    );
    return {
      lines: covered.map(({ sku, quantity, amount }) => ({ sku, quantity, amount })),
      restocked: covered.some((line) => line.restock) && covered.every((line) => !line.restock || line.restocked),
    };
  }

  /** The order locked, paid through PayPal, with money left that no refund holds. */
  private async lockRefundableOrder(tx: EntityManager, orderId: string): Promise<{ order: OrderRow; remaining: number }> {
    const order = await findOrder(tx, orderId, { lock: true });
    if (!order) throw notFound('order');
    if (!PAID_STATUSES.includes(order.status)) throw conflict(`order is ${order.status}; nothing was paid to refund`);
    if (!order.paymentTransactionId) throw conflict('the order has no PayPal sale to refund');
    const remaining = order.total - order.refundedAmount - (await requestedAmount(tx, { orderId: order.id, kind: 'order' }));
    if (remaining <= 0) throw conflict(`nothing is left to refund on this ${order.status} order`);
    return { order, remaining };
  }

  private async requestOrderRefund(
    tx: EntityManager,
    order: OrderRow,
    amount: number,
    reason: string,
    actor: Actor,
    requestKey: string | null = null,
  ): Promise<RequestedRefund> {
    const saleId = order.paymentTransactionId!;
    const attempt = await findAttempt(tx, { saleId });
    const id = await requestRefund(tx, {
      orderId: order.id,
      attemptId: attempt?.id ?? null,
      saleId,
      kind: 'order',
      amount,
      currency: order.currency,
      staffId: actor.type === 'staff' ? actor.id : null,
      reason,
      requestKey,
    });
    return {
      id,
      kind: 'order',
      orderId: order.id,
      saleId,
      amount,
      currency: order.currency,
      attemptId: attempt?.id ?? null,
      attemptExternalId: attempt?.externalId ?? null,
      reason,
      before: { status: order.status, refundedAmount: order.refundedAmount },
    };
  }

  /** The order's refund row, just committed, sent to PayPal; the answer applied. */
  private async send(requested: RequestedRefund, actor: Actor): Promise<RefundResult> {
    let refund: ProviderRefund;
    try {
      refund = await this.gateway.refundSale({ requestId: requested.id, saleId: requested.saleId, amount: requested.amount, currency: requested.currency });
    } catch (error) {
      // If PayPal did refund (a timeout), its refund IPN still applies the money: nothing stays held.
      await this.fail(requested, error, actor);
      throw providerFailure(error, 'PayPal did not refund');
    }
    return this.complete(requested, refund, actor, requested.reason);
  }

  /**
   * Staff "Refund duplicate": gives back exactly one attempt's sale that did not pay the order (a second
   * capture, or money that arrived after the order was cancelled), whole. The order is left as it is.
   */
  async refundDuplicate(input: { attemptId: string; reason: string }, actor: Actor): Promise<RefundResult> {
    const refundId = await this.orm.em.fork().transactional(async (tx) => {
      const { order, attempt } = await lockOrderAndAttempt(tx, input.attemptId);
      if (!attempt.saleId || attempt.saleId.startsWith('manual-')) throw conflict('this attempt has no PayPal sale to refund');
      if (attempt.saleId === order.paymentTransactionId && PAID_STATUSES.includes(order.status)) {
        throw conflict('this sale is what paid the order: refund the order instead');
      }
      if (openOf(await saleBalance(tx, attempt.saleId)) <= 0) throw conflict(`sale ${attempt.saleId} has nothing left to refund`);
      const id = await requestDuplicateRefund(tx, { orderId: order.id, attempt, saleId: attempt.saleId }, { staffId: actor.type === 'staff' ? actor.id : null, reason: input.reason });
      if (!id) throw conflict(`a refund of sale ${attempt.saleId} is already under way`);
      return id;
    });
    return this.sendRequested(refundId, actor);
  }

  /** Sends a refund row still `requested` (a duplicate's, just committed) to PayPal and applies the answer. */
  async sendRequested(refundId: string, actor: Actor = SYSTEM_ACTOR): Promise<RefundResult> {
    const requested = await this.loadRequested(refundId);
    if (!requested) throw conflict('this refund is no longer waiting to be sent');
    let refund: ProviderRefund;
    try {
      refund = await this.gateway.refundSale({ requestId: requested.id, saleId: requested.saleId, amount: requested.amount, currency: requested.currency });
    } catch (error) {
      const retryable = !(error instanceof PaymentProviderError) || error.retryable;
      // An automatic refund PayPal could not take now stays requested: the sweep sends it again.
      if (!retryable || requested.kind === 'order') await this.fail(requested, error, actor);
      throw providerFailure(error, 'PayPal did not refund');
    }
    return this.complete(requested, refund, actor, requested.reason);
  }

  private async loadRequested(refundId: string): Promise<RequestedRefund | undefined> {
    const em = this.orm.em.fork();
    const row = await firstRow(
      em,
      sql<Omit<RequestedRefund, 'before'>>`
        select r.id, r.kind, r.order_id as "orderId", r.sale_id as "saleId", r.amount, r.currency, r.attempt_id as "attemptId",
               a.external_id as "attemptExternalId", r.reason
          from order_refund r left join order_payment_attempt a on a.id = r.attempt_id
         where r.id = ${refundId} and r.status = 'requested'`,
    );
    if (!row) return undefined;
    const order = (await findOrder(em, row.orderId))!;
    return { ...row, before: { status: order.status, refundedAmount: order.refundedAmount } };
  }

  /**
   * The sweep: refunds left in `requested` for longer than `olderThanMs` (longer than any live
   * request can take, so none is still in flight) are sent to PayPal again with their own request id.
   * PayPal still unreachable → tried on a later sweep; after `giveUpAfterMs` it is marked failed, and
   * PayPal's refund IPN applies whatever PayPal did.
   */
  async resumeInterrupted(options: { olderThanMs: number; giveUpAfterMs?: number; limit?: number }): Promise<ResumeResult> {
    const em = this.orm.em.fork();
    const giveUpAfterMs = options.giveUpAfterMs ?? 24 * 3600_000;
    const result: ResumeResult = { completed: 0, failed: 0, retrying: 0 };
    // Claimed by moving updated_at: another instance's sweep running at once skips what this one took.
    const claimed = await rows(
      em,
      sql<Omit<RequestedRefund, 'before'> & { staffId: string | null; ageMs: number }>`
        update order_refund r set updated_at = now()
          from order_refund c left join order_payment_attempt a on a.id = c.attempt_id
         where r.id = c.id and r.id in (
                 select id from order_refund
                  where status = 'requested' and updated_at < now() - make_interval(secs => ${options.olderThanMs / 1000})
                  order by created_at limit ${options.limit ?? 10} for update skip locked)
        returning r.id, r.kind, r.order_id as "orderId", r.sale_id as "saleId", r.amount, r.currency, r.attempt_id as "attemptId",
                  a.external_id as "attemptExternalId", r.reason, r.staff_id as "staffId",
                  (extract(epoch from now() - r.created_at) * 1000)::float8 as "ageMs"`,
    );
    for (const row of claimed) {
      const actor: Actor = row.staffId ? { type: 'staff', id: row.staffId } : SYSTEM_ACTOR;
      const order = await findOrder(em, row.orderId);
      const requested: RequestedRefund = { ...row, before: { status: order!.status, refundedAmount: order!.refundedAmount } };
      try {
        const refund = await this.gateway.refundSale({ requestId: row.id, saleId: row.saleId, amount: row.amount, currency: row.currency });
        await this.complete(requested, refund, actor, `${row.reason} (completed by the payments sweep after an interrupted request)`);
        result.completed += 1;
      } catch (error) {
        const retryable = !(error instanceof PaymentProviderError) || error.retryable;
        if (retryable && row.ageMs < giveUpAfterMs) {
          this.logger.warn({ refundId: row.id, error: (error as Error).message }, 'interrupted refund: PayPal still unreachable, will retry');
          result.retrying += 1;
          continue;
        }
        try {
          await this.fail(requested, error, actor);
          result.failed += 1;
        } catch (failError) {
          this.logger.error({ refundId: row.id, err: failError }, 'interrupted refund could not be marked failed');
        }
      }
    }
    return result;
  }

  private async fail(requested: RequestedRefund, error: unknown, actor: Actor): Promise<void> {
    const reason = error instanceof PaymentProviderError ? error.message : 'PayPal call failed';
    await this.orm.em.fork().transactional(async (tx) => {
      // Someone else settled it meanwhile (a resumed request that got PayPal's answer): theirs stands.
      if (!(await failRefund(tx, requested.id, reason))) return;
      await recordPaymentEvent(tx, {
        source: 'provider',
        attemptId: requested.attemptId,
        orderId: requested.orderId,
        parentTxnId: requested.saleId,
        providerStatus: error instanceof PaymentProviderError ? error.providerErrorName : 'error',
        amount: requested.amount,
        currency: requested.currency,
        payload: error instanceof PaymentProviderError ? { name: error.providerErrorName, httpStatus: error.httpStatus, debugId: error.debugId } : null,
        processing: 'flagged',
        outcome: `refund failed: ${reason}`,
      });
      await recordAudit(tx, {
        actor,
        action: 'order.refund_failed',
        orderId: requested.orderId,
        before: requested.before,
        after: { refundId: requested.id, amount: requested.amount, error: reason },
        reason: requested.reason,
      });
    });
  }

  /** PayPal refunded: the row completed and the money applied, once, under the order's lock. */
  private async complete(requested: RequestedRefund, refund: ProviderRefund, actor: Actor, auditReason: string): Promise<RefundResult> {
    return this.orm.em.fork().transactional(async (tx) => {
      const current = (await findOrder(tx, requested.orderId, { lock: true }))!;
      const result = (order: { status: RefundResult['status']; refundedAmount: number }): RefundResult => ({
        orderId: requested.orderId,
        status: order.status,
        refundedAmount: order.refundedAmount,
        refundId: requested.id,
        providerRefundId: refund.refundId,
        amount: refund.amount,
        currency: refund.currency,
      });
      // Not when another path (the sweep, or the request it resumed) completed it first.
      if (!(await completeRefund(tx, requested.id, refund))) return result(current);
      // Line refunds: the covered units go back in stock with the completion, once, whichever path completes it.
      const coveredLines = await completeRefundLines(tx, requested.id);
      if (coveredLines) {
        await recordAudit(tx, {
          actor,
          action: 'order.lines_refunded',
          orderId: requested.orderId,
          before: requested.before,
          after: {
            refundId: requested.id,
            providerRefundId: refund.refundId,
            amount: refund.amount,
            lines: coveredLines.lines,
            restock: coveredLines.restock,
            restocked: coveredLines.restockedNow,
          },
          reason: auditReason,
        });
      }
      const verdict = await applyMovement(
        tx,
        { saleId: requested.saleId, kind: 'refund', amount: refund.amount, currency: refund.currency, providerTxnId: refund.refundId, reason: auditReason },
        { orderId: requested.orderId, attemptId: requested.attemptId ?? (await findAttempt(tx, { saleId: requested.saleId }))?.id ?? null },
      );
      const appliedByNotification = verdict.result === 'duplicate';
      const updated =
        requested.kind === 'order' && verdict.result === 'applied'
          ? await settleRefunds(tx, current, { actor, reason: auditReason, paymentStatus: 'refunded' })
          : current;
      if (appliedByNotification || requested.kind === 'duplicate') {
        // The money moved with the IPN or webhook (audited as PayPal's), or on a sale that is not the order's:
        // who asked for it, and why, is recorded here.
        await recordAudit(tx, {
          actor,
          action: requested.kind === 'duplicate' ? 'payment.duplicate_refunded' : 'order.refund_confirmed',
          orderId: requested.orderId,
          before: requested.before,
          after: { status: updated.status, refundedAmount: updated.refundedAmount, refundId: requested.id, providerRefundId: refund.refundId, saleId: requested.saleId, amount: refund.amount },
          reason: auditReason,
        });
      }
      if (requested.attemptId) {
        const saleState = requested.kind === 'order' ? updated.status : saleStateOf(await saleBalance(tx, requested.saleId));
        await changeAttempt(tx, requested.attemptId, { saleState });
      }
      await recordPaymentEvent(tx, {
        source: 'provider',
        attemptId: requested.attemptId,
        orderId: requested.orderId,
        externalId: requested.attemptExternalId,
        txnId: refund.refundId,
        parentTxnId: requested.saleId,
        providerStatus: `refund ${refund.state}`,
        amount: refund.amount,
        currency: refund.currency,
        payload: refund.raw,
        processing: verdict.result === 'rejected' ? 'flagged' : 'processed',
        flagKind: verdict.result === 'rejected' ? verdict.flag : null,
        outcome:
          verdict.result === 'rejected'
            ? `PayPal refunded, but ${verdict.message}`
            : appliedByNotification
              ? `refund ${refund.refundId} was already applied by its notification`
              : requested.kind === 'duplicate'
                ? `duplicate sale ${requested.saleId} refunded (${refund.amount} ${refund.currency}); the order stays ${updated.status}`
                : `order is ${updated.status} (${updated.refundedAmount} of ${updated.total} refunded)`,
      });
      return result(updated);
    });
  }
}
