import type { MikroORM } from '@mikro-orm/postgresql';
import type { RefundLinesResult, RefundResult } from '@orders/shared';
import { rows, sql, firstRow, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { moneyText } from '../../money-text.js';
import type { Logger } from '../../logger.js';
import { PaymentProviderError, type PaymentGateway, type ProviderRefund } from '../../paypal/gateway.js';
import { SYSTEM_ACTOR, type Actor } from '../audit/audit.service.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { findOrder, type OrderRow } from '../orders/order.repository.js';
import { requestDuplicateRefund } from './duplicate-refund.js';
import { coveredLines, earlierLineRefund, lineRefundResult, priceChosenLines, recordRefundLines, type ChosenLine } from './line-refunds.js';
import { openOf, saleBalance } from './money-ledger.js';
import { requestRefund, requestedAmount } from './refund.transitions.js';
import { completeRefundRequest, failRefundRequest, type RequestedRefund } from './refund-outcome.js';
import { findAttempt, lockOrderAndAttempt } from './attempt.repository.js';
import { providerFailure } from './payment-outcome.js';

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
      if (amount > remaining) throw badRequest(`amount: at most ${moneyText(remaining, order.currency)} can still be refunded`, 'amount');
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
        const earlier = await earlierLineRefund(tx, input.orderId, input.requestKey);
        if (earlier) return { earlier };
      }
      const { order, remaining } = await this.lockRefundableOrder(tx, input.orderId);
      const priced = await priceChosenLines(tx, order.id, input.lines);
      const amount = priced.reduce((sum, line) => sum + line.amount, 0);
      if (amount <= 0) throw badRequest('lines: the chosen lines were paid nothing; there is no money to refund', 'lines');
      if (amount > remaining) throw badRequest(`lines: the chosen lines come to ${moneyText(amount, order.currency)}, but at most ${moneyText(remaining, order.currency)} can still be refunded`, 'lines');
      const refund = await this.requestOrderRefund(tx, order, amount, input.reason, actor, input.requestKey ?? null);
      await recordRefundLines(tx, { id: refund.id, orderId: order.id, restock: input.restock }, priced);
      return { refund };
    });
    if ('earlier' in requested) return lineRefundResult(this.orm.em.fork(), requested.earlier);
    const result = await this.send(requested.refund, actor);
    return { ...result, ...(await coveredLines(this.orm.em.fork(), requested.refund.id)) };
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
      await failRefundRequest(this.orm, requested, error, actor);
      throw providerFailure(error, 'PayPal did not refund');
    }
    return completeRefundRequest(this.orm, requested, refund, actor, requested.reason);
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
      if (!retryable || requested.kind === 'order') await failRefundRequest(this.orm, requested, error, actor);
      throw providerFailure(error, 'PayPal did not refund');
    }
    return completeRefundRequest(this.orm, requested, refund, actor, requested.reason);
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
        await completeRefundRequest(this.orm, requested, refund, actor, `${row.reason} (completed by the payments sweep after an interrupted request)`);
        result.completed += 1;
      } catch (error) {
        const retryable = !(error instanceof PaymentProviderError) || error.retryable;
        if (retryable && row.ageMs < giveUpAfterMs) {
          this.logger.warn({ refundId: row.id, error: (error as Error).message }, 'interrupted refund: PayPal still unreachable, will retry');
          result.retrying += 1;
          continue;
        }
        try {
          await failRefundRequest(this.orm, requested, error, actor);
          result.failed += 1;
        } catch (failError) {
          this.logger.error({ refundId: row.id, err: failError }, 'interrupted refund could not be marked failed');
        }
      }
    }
    return result;
  }
}
