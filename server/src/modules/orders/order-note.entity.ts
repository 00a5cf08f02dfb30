import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { StaffUser } from '../staff/staff.entity.js';
import { Order } from './order.entity.js';

/** An internal note staff wrote on an order; never shown to the customer. Each one is also in the audit trail. */
export const OrderNote = defineEntity({
  name: 'OrderNote',
  tableName: 'order_note',
  properties: {
    ...baseProperties(),
    order: () => p.manyToOne(Order),
    staff: () => p.manyToOne(StaffUser),
    body: p.text(),
  },
  indexes: [{ name: 'order_note_order_idx', properties: ['order', 'createdAt'] }],
  checks: [{ name: 'order_note_body_check', expression: 'length(body) between 1 and 4000' }],
});
export type IOrderNote = InferEntity<typeof OrderNote>;
