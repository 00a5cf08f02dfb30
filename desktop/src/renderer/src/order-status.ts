import { CANCELLABLE_ORDER_STATUSES, REFUNDABLE_ORDER_STATUSES, type OrderStatus } from '@orders/shared';

/** Whether staff may cancel an order in this status (the server refuses the others). */
export function isCancellable(status: OrderStatus | null): boolean {
  return status !== null && (CANCELLABLE_ORDER_STATUSES as readonly OrderStatus[]).includes(status);
}

/** Whether an order in this status holds money a refund can give back. */
export function isRefundable(status: OrderStatus | null): boolean {
  return status !== null && (REFUNDABLE_ORDER_STATUSES as readonly OrderStatus[]).includes(status);
}
