import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from '@orders/shared';
import { PAID_STATUS_LIST, UNPAID_STATUS_LIST } from '../reconciliation/unpaid-sales.js';
import { PAID_STATUSES } from './order-state.js';

describe('the statuses written out for the database (unpaid-sales.ts)', () => {
  it('are the paid and unpaid statuses of the state machine', () => {
    expect([...PAID_STATUS_LIST].sort()).toEqual([...PAID_STATUSES].sort());
    expect([...UNPAID_STATUS_LIST].sort()).toEqual(ORDER_STATUSES.filter((status) => !PAID_STATUSES.includes(status)).sort());
  });
});
