import type { EntityManager } from '../../db/sql.js';
import { openOf, saleBalance } from './money-ledger.js';
import { requestRefund, requestedAmount } from './refund.transitions.js';

export const AUTOMATIC_DUPLICATE_REASON = 'automatic refund of a duplicate payment';

/**
 * Asks for the whole of a duplicate sale back: a `requested` refund row of kind `duplicate` for what is
 * still captured on it and not already being refunded. The refund is sent to PayPal after the
 * transaction commits (or by the payments sweep), with the row's id as PayPal-Request-Id.
 * Returns the row's id, or null when nothing is left to ask for.
 */
export async function requestDuplicateRefund(
  em: EntityManager,
  target: { orderId: string; attempt: { id: string }; saleId: string },
  requestedBy: { staffId: string | null; reason: string } = { staffId: null, reason: AUTOMATIC_DUPLICATE_REASON },
): Promise<string | null> {
  const balance = await saleBalance(em, target.saleId);
  const open = openOf(balance);
  const amount = open - (await requestedAmount(em, { saleId: target.saleId }));
  if (amount <= 0 || !balance.currency) return null;
  return requestRefund(em, {
    orderId: target.orderId,
    attemptId: target.attempt.id,
    saleId: target.saleId,
    kind: 'duplicate',
    amount,
    currency: balance.currency,
    staffId: requestedBy.staffId,
    reason: requestedBy.reason,
  });
}
