import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { Order } from '../orders/order.entity.js';

export const AuditEntry = defineEntity({
  name: 'AuditEntry',
  tableName: 'audit_entry',
  properties: {
    ...baseProperties(),
    actorType: p.string().length(16),
    actorId: p.string().length(200).nullable(),
    action: p.string().length(64),
    order: () => p.manyToOne(Order).nullable(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
    reason: p.text().nullable(),
  },
  indexes: [{ name: 'audit_entry_order_idx', properties: ['order', 'createdAt'] }],
});
export type IAuditEntry = InferEntity<typeof AuditEntry>;
