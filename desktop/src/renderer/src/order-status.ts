import { CANCELLABLE_ORDER_STATUSES, type OrderStatus } from '@orders/shared';

/** Whether staff may cancel an order in this status: the bulk bar's hint (the server refuses the others). */
export function isCancellable(status: OrderStatus | null): boolean {
  return status !== null && (CANCELLABLE_ORDER_STATUSES as readonly OrderStatus[]).includes(status);
}

