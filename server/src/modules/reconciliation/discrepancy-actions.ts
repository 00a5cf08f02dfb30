import {
  CANCELLABLE_ORDER_STATUSES,
  REFUNDABLE_ORDER_STATUSES,
  isSupportedCurrency,
  type Discrepancy,
  type DiscrepancyAction,
  type OrderStatus,
  type StaffRole,
} from '@orders/shared';
import { ACTION_ROLES } from '../backoffice/order-actions.js';
import { roleAtLeast } from '../staff/staff.service.js';

/** Resolving a discrepancy: `backoffice.orders.resolve` is guarded with it. */
export const RESOLVE_ROLE: StaffRole = 'operator';

/**
 * The least role each action from a reconciliation item needs: the order actions' own (ACTION_ROLES,
 * which guard the procedures the buttons call), and resolving.
 */
const ROLES: Readonly<Record<DiscrepancyAction, StaffRole>> = {
  resync: ACTION_ROLES.resync,
  resolve: RESOLVE_ROLE,
  cancel: ACTION_ROLES.cancel,
  refund: ACTION_ROLES.refund,
  refundDuplicate: ACTION_ROLES.refundDuplicate,
};

/** The order the app shows the buttons in. */
const BUTTON_ORDER: readonly DiscrepancyAction[] = ['resync', 'resolve', 'cancel', 'refundDuplicate', 'refund'];

const among = (statuses: readonly OrderStatus[], status: OrderStatus | null) => status !== null && statuses.includes(status);

/**
 * The actions a member with `role` may take from this item: which ones make sense for its kind and
 * its order's status, then which of those the role may call. The procedures check again (a race can
 * still refuse a listed action with CONFLICT); an unlisted action is refused by its procedure's role
 * guard or its own state checks.
 */
export function allowedDiscrepancyActions(item: Omit<Discrepancy, 'allowedActions'>, role: StaffRole): DiscrepancyAction[] {
  // A second payment, or money captured for a cancelled order: its own sale goes back, the order stays as it is.
  const duplicate =
    item.attemptId !== null &&
    item.amount !== null &&
    (item.kind === 'multiple_successes' || (item.kind === 'paid_at_paypal_not_paid' && item.orderStatus === 'cancelled'));
  const fits: Record<DiscrepancyAction, boolean> = {
    resync: item.attemptId !== null,
    resolve: true,
    cancel: item.orderId !== null && among(CANCELLABLE_ORDER_STATUSES, item.orderStatus),
    refundDuplicate: duplicate,
    refund:
      !duplicate &&
      item.kind !== 'duplicate_refunded' &&
      item.orderId !== null &&
      item.amount !== null &&
      item.currency !== null &&
      isSupportedCurrency(item.currency) &&
      among(REFUNDABLE_ORDER_STATUSES, item.orderStatus),
  };
  return BUTTON_ORDER.filter((action) => fits[action] && roleAtLeast(role, ROLES[action]));
}
