import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { Order, OrderLine } from '../orders/order.entity.js';
import { OrderRefund } from './refund.entity.js';

/**
 * Which paid lines a refund covered: the quantity and its amount from the paid snapshot (unit price ×
 * quantity), and whether that quantity goes back into stock. `restockedAt` is set by the one statement
 * that puts it back, so a refund completed twice (its answer, the sweep, PayPal's IPN) restocks once.
 */
export const OrderRefundLine = defineEntity({
  name: 'OrderRefundLine',
  tableName: 'order_refund_line',
  properties: {
    ...baseProperties(),
    refund: () => p.manyToOne(OrderRefund).deleteRule('cascade'),
    order: () => p.manyToOne(Order),
    orderLine: () => p.manyToOne(OrderLine),
    sku: p.string().length(64),
    quantity: p.integer(),
    amount: p.integer(),
    currency: p.string().length(3),
    restock: p.boolean().default(false),
    restockedAt: p.datetime().nullable(),
  },
  // A line's refunded quantities are summed through it (the order detail, the check before each line refund).
  indexes: [{ name: 'order_refund_line_order_line_idx', properties: ['orderLine'] }],
  uniques: [{ name: 'order_refund_line_refund_line_unique', properties: ['refund', 'orderLine'] }],
  checks: [
    { name: 'order_refund_line_quantity_check', expression: 'quantity > 0' },
    { name: 'order_refund_line_amount_check', expression: 'amount >= 0' },
  ],
});
export type IOrderRefundLine = InferEntity<typeof OrderRefundLine>;
