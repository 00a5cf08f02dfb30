import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { Order } from '../orders/order.entity.js';
import { OrderPaymentAttempt, PaymentEvent } from './payment.entity.js';
import { SALE_LEDGER_TRIGGERS } from './sale-ledger.js';

/**
 * The money ledger: every capture, refund, reversal and cancelled reversal PayPal confirmed, one row
 * per PayPal transaction (`providerTxnId` unique, so the same movement announced by an IPN, a webhook
 * and a REST answer counts once). An order's refunded amount is recomputed from these rows, never
 * drifted by deltas.
 *
 * A refund, reversal or cancelled reversal whose sale we have not recorded yet is `parked` under
 * `saleId` and applied in the transaction that records the sale; `rejected` rows are movements the
 * sale's ledger could not take (more refunded than captured, a cancelled reversal with no reversal open).
 */
export const MoneyMovement = defineEntity({
  name: 'MoneyMovement',
  tableName: 'money_movement',
  properties: {
    ...baseProperties(),
    /** The PayPal sale the money moved on (a refund's parent sale). */
    saleId: p.string().length(64),
    kind: p.string().length(24),
    /** Minor units, always positive: the kind says which way it moved. */
    amount: p.integer(),
    currency: p.string().length(3),
    state: p.string().length(16),
    /** PayPal's id of this transaction: the sale id for a capture, the refund's or reversal's own txn id otherwise. */
    providerTxnId: p.string().length(64).nullable().unique('money_movement_provider_txn_unique'),
    order: () => p.manyToOne(Order).nullable(),
    attempt: () => p.manyToOne(OrderPaymentAttempt).nullable(),
    /** The notification or provider answer that told us. */
    event: () => p.manyToOne(PaymentEvent).nullable(),
    reason: p.text().nullable(),
  },
  indexes: [
    { name: 'money_movement_sale_idx', properties: ['saleId', 'state'] },
    { name: 'money_movement_order_idx', properties: ['order'] },
    { name: 'money_movement_parked_idx', properties: ['createdAt'], where: "state = 'parked'" },
    // Refunds, reversals and cancellations (few beside the captures): reconciliation sums them per sale.
    { name: 'money_movement_out_idx', properties: ['saleId'], where: "kind <> 'capture' and state = 'applied'" },
    // The dashboard's revenue and refunds per day: an index-only scan of the date range.
    {
      name: 'money_movement_created_idx',
      expression: `create index "money_movement_created_idx" on "money_movement" ("created_at") include ("kind", "amount", "currency") where state = 'applied'`,
    },
  ],
  checks: [
    { name: 'money_movement_amount_check', expression: 'amount > 0' },
    { name: 'money_movement_kind_check', expression: "kind in ('capture', 'refund', 'reversal', 'reversal_canceled')" },
    { name: 'money_movement_state_check', expression: "state in ('parked', 'applied', 'rejected')" },
  ],
  // Each sale's sums (sale_ledger), for reconciliation's "adds up wrong" checks.
  triggers: SALE_LEDGER_TRIGGERS,
});
export type IMoneyMovement = InferEntity<typeof MoneyMovement>;
