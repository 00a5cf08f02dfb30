import type { AttemptStatus } from '@orders/shared';

/**
 * Payment attempt transitions. `succeeded` is reachable even from failed, cancelled or expired:
 * when PayPal confirms a completed sale, the money is real and must be recorded (the one-success
 * unique index still guards the order). Nothing leaves `succeeded`.
 */
export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  created: ['approved', 'succeeded', 'failed', 'cancelled', 'expired'],
  approved: ['succeeded', 'failed', 'cancelled', 'expired'],
  failed: ['succeeded'],
  cancelled: ['succeeded'],
  expired: ['succeeded'],
  succeeded: [],
};

export const OPEN_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['created', 'approved'];

export function attemptCanBecome(from: AttemptStatus, to: AttemptStatus): boolean {
  return ATTEMPT_TRANSITIONS[from].includes(to);
}
