import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';
import { Order } from '../orders/order.entity.js';
import { StaffUser } from '../staff/staff.entity.js';

/** A discrepancy a staff member marked as dealt with; the unique id keeps it resolved once. */
export const ReconciliationResolution = defineEntity({
  name: 'ReconciliationResolution',
  tableName: 'reconciliation_resolution',
  properties: {
    ...baseProperties(),
    /** `kind:subjectId`, as the reconciliation list names it. */
    discrepancyId: p.string().length(200).unique('reconciliation_resolution_discrepancy_unique'),
    kind: p.string().length(32),
    order: () => p.manyToOne(Order).nullable(),
    staff: () => p.manyToOne(StaffUser),
    reason: p.text(),
  },
});
export type IReconciliationResolution = InferEntity<typeof ReconciliationResolution>;
