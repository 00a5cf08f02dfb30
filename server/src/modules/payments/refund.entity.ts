import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { Order } from '../orders/order.entity.js';
import { StaffUser } from '../staff/staff.entity.js';
import { OrderPaymentAttempt } from './payment.entity.js';

/**
 * A refund we asked PayPal for. Its id is the PayPal-Request-Id, so a retried call refunds once;
 * `providerRefundId` is the refund's transaction id, which PayPal's refund IPN carries as `txn_id`:
 * the IPN path recognises a refund already applied here by it.
 */
export const OrderRefund = defineEntity({
  name: 'OrderRefund',
  tableName: 'order_refund',
  properties: {
    ...baseProperties(),
    order: () => p.manyToOne(Order),
    attempt: () => p.manyToOne(OrderPaymentAttempt).nullable(),
    saleId: p.string().length(64),
    /** `order`: the order's own sale; `duplicate`: a second sale captured for an already paid order, returned whole. */
    kind: p.string().length(16).default('order'),
    amount: p.integer(),
    currency: p.string().length(3),
    status: p.string().length(16),
    providerRefundId: p.string().length(64).nullable().unique('order_refund_provider_refund_id_unique'),
    staff: () => p.manyToOne(StaffUser).nullable(),
    reason: p.text(),
    failureReason: p.text().nullable(),
    rawResponse: p.json<unknown>().nullable(),
    completedAt: p.datetime().nullable(),
    /** The client's idempotency key (line refunds): one refund per key, whatever the number of calls. */
    requestKey: p.uuid().nullable().unique('order_refund_request_key_unique'),
  },
  indexes: [{ name: 'order_refund_order_idx', properties: ['order', 'createdAt'] }],
  checks: [
    { name: 'order_refund_amount_check', expression: 'amount > 0' },
    { name: 'order_refund_status_check', expression: "status in ('requested', 'completed', 'failed')" },
    { name: 'order_refund_kind_check', expression: "kind in ('order', 'duplicate')" },
  ],
});
export type IOrderRefund = InferEntity<typeof OrderRefund>;
