import type { Customer } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { firstRow, sql } from '../../db/sql.js';
import { conflict, notFound } from '../../errors.js';
import { PaymentProviderError } from '../../paypal/gateway.js';
import type { Actor } from '../audit/audit.service.js';
import { linesJson, type CartLineDto } from '../carts/carts.service.js';
import { ORDER_COLUMNS, type OrderRow } from '../orders/order.repository.js';
import { PAID_STATUSES } from '../orders/order-state.js';
import { reopenFailedOrder } from '../orders/order.transitions.js';
import { ATTEMPT_COLUMNS, type AttemptRow } from './attempt.repository.js';
import { OPEN_ATTEMPT_STATUSES, cancelOpenAttemptsStatement, transitionAttempt } from './attempt.transitions.js';
import { paymentEventInsert, recordPaymentEvent } from './payment-events.js';
import { providerErrorPayload, providerFailure } from './payment-outcome.js';
import type { PaymentsDeps } from './payments.deps.js';
import { resync } from './resync.js';

export interface AttemptToPayResult {
  attemptId: string;
  externalId: string;
  approvalUrl: string;
}

/** `url` with `params` set in its query. */
export function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target.toString();
}

/** The open attempts attemptToPay must ask PayPal about before superseding them. */
class LostExecutions extends Error {
  constructor(readonly attemptIds: string[]) {
    super('executions without an answer');
  }
}

/**
 * `payments.attemptToPay`: a new attempt (superseding the order's open ones), then a PayPal
 * payment created with the attempt id as PayPal-Request-Id, so a retried call cannot pay twice.
 */
export async function attemptToPay(
  deps: PaymentsDeps,
  customer: Customer,
  input: { orderId: string; returnUrl?: string; cancelUrl?: string },
  actor: Actor,
): Promise<AttemptToPayResult> {
  const em = deps.orm.em.fork();
  // Open attempts whose execution was started and never answered, already asked about at PayPal.
  const asked = new Set<string>();
  const prepare = () => em.transactional(async (tx) => {
    // The customer's own order, locked, in one statement.
    const full = await firstRow(
      tx,
      sql<OrderRow>`select ${ORDER_COLUMNS} from "order" o
        where o.id = ${input.orderId} and o.customer_type = ${customer.type} and o.customer_id = ${customer.id} for no key update`,
    );
    if (!full) throw notFound('order');
    if (PAID_STATUSES.includes(full.status)) throw conflict(`order is already ${full.status}`);
    if (full.status === 'cancelled') throw conflict('order is cancelled');
    // PayPal takes no payment of nothing (its VALIDATION_ERROR came back as 502 and left a failed attempt).
    if (full.total <= 0) throw conflict('order total is 0: there is nothing to pay through PayPal; settle it with payments.processOrderToPaid');
    const started = await firstRow(
      tx,
      sql<{ executing: boolean; held: boolean; lost: string[] }>`
        select coalesce(bool_or(execute_started_at > now() - make_interval(secs => ${deps.config.executeClaimMs / 1000})), false) as executing,
               coalesce(bool_or(sale_state = 'pending'), false) as held,
               coalesce(array_agg(id::text) filter (where execute_started_at <= now() - make_interval(secs => ${deps.config.executeClaimMs / 1000})
                                                       and external_id is not null), '{}') as lost
          from order_payment_attempt
         where order_id = ${full.id} and status in (${sql.join([...OPEN_ATTEMPT_STATUSES])}) and (execute_started_at is not null or sale_state = 'pending')`,
    );
    // The buyer is back from PayPal and the payment is being executed: a new one now could be paid too.
    if (started?.executing) throw conflict('a payment for this order is being confirmed with PayPal; try again in a moment');
    // PayPal holds a sale for an open attempt (pending review, an eCheck): it completes or fails by
    // itself. Superseding it let the buyer pay again, and the held sale was captured too (found from outside).
    if (started?.held) throw conflict('a payment for this order is pending at PayPal; it completes or fails by itself, and no new payment can be started until then');
    // An execution started and never answered (our call timed out, or the server died during it) may
    // have been captured all the same: superseding it would let the buyer pay again (found from
    // outside: charged twice, the first refunded later). PayPal is asked first, outside this transaction.
    const lost = (started?.lost ?? []).filter((id) => !asked.has(id));
    if (lost.length) throw new LostExecutions(lost);
    const reopened = await reopenFailedOrder(tx, full, actor);
    // One statement: the open attempts superseded, the new one inserted, the (frozen) lines read for PayPal.
    const created = await firstRow(
      tx,
      sql<AttemptRow & { lines: CartLineDto[] | string | null }>`
        with superseded as (${cancelOpenAttemptsStatement(reopened.id, 'superseded by a newer attempt')}),
        created as (
          insert into order_payment_attempt as a (id, created_at, updated_at, order_id, provider, status, amount, currency, return_url, cancel_url)
          values (${newId()}, now(), now(), ${reopened.id}, 'paypal', 'created', ${reopened.total}, ${reopened.currency},
                  ${input.returnUrl ?? null}, ${input.cancelUrl ?? null})
          returning ${ATTEMPT_COLUMNS})
        select created.*, (${linesJson(reopened.cartId)}) as lines from created`,
    );
    const { lines, ...attempt } = created!;
    return { attempt, order: reopened, lines: typeof lines === 'string' ? (JSON.parse(lines) as CartLineDto[]) : (lines ?? []) };
  });
  let prepared: Awaited<ReturnType<typeof prepare>> | undefined;
  while (!prepared) {
    try {
      prepared = await prepare();
    } catch (error) {
      if (!(error instanceof LostExecutions)) throw error;
      // Through staff re-sync's path: a capture PayPal reports pays the order and the new attempt is
      // refused; otherwise the next round supersedes that attempt as usual.
      for (const id of error.attemptIds) {
        asked.add(id);
        const answer = await resync(deps, id, actor, 'asked PayPal before a new attempt: this payment was being executed and no answer came');
        if (PAID_STATUSES.includes(answer.status)) throw conflict(`order is already ${answer.status} (PayPal had captured the earlier payment)`);
      }
    }
  }
  const { attempt, order, lines } = prepared;

  const base = deps.config.publicBaseUrl();
  try {
    const created = await deps.gateway.createPayment({
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
    // One statement: PayPal's payment stored on the attempt and the event recorded, together or not at all.
    // The order is locked before the attempt, as everywhere (lockOrderAndAttempt): the PayPal id
    // rewrites the order's search document, whose new postings read the order's status under it
    // (search-values.ts).
    await firstRow(
      em,
      sql`with locked as (select o.id from "order" o where o.id = ${order.id} for no key update),
          stored as (
            update order_payment_attempt set external_id = ${created.paymentId}, approval_url = ${created.approvalUrl},
                   raw_create = ${JSON.stringify(created.raw)}::jsonb, updated_at = now() where id = ${attempt.id} and exists (select 1 from locked))
          ${paymentEventInsert({
            source: 'provider',
            attemptId: attempt.id,
            orderId: order.id,
            externalId: created.paymentId,
            providerStatus: 'created',
            payload: created.raw,
            outcome: 'payment created',
          })}`,
    );
    return { attemptId: attempt.id, externalId: created.paymentId, approvalUrl: created.approvalUrl };
  } catch (error) {
    const reason = error instanceof PaymentProviderError ? error.message : 'PayPal call failed';
    await em.transactional(async (tx) => {
      await transitionAttempt(tx, attempt.id, 'failed', reason);
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
