export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'cancelled', 'refunded', 'partially_refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
/** Orders staff may cancel: the order state machine's ways into `cancelled`. */
export const CANCELLABLE_ORDER_STATUSES = ['pending', 'failed'] as const satisfies readonly OrderStatus[];
/** Orders holding money that a refund can still give back. */
export const REFUNDABLE_ORDER_STATUSES = ['paid', 'partially_refunded'] as const satisfies readonly OrderStatus[];

export const ATTEMPT_STATUSES = ['created', 'approved', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const CUSTOMER_TYPES = ['user', 'anonymous'] as const;
export type CustomerType = (typeof CUSTOMER_TYPES)[number];
/** How staff screens name a customer type: one label everywhere (lists, detail, filters). */
export const CUSTOMER_TYPE_LABELS: Readonly<Record<CustomerType, string>> = { user: 'User', anonymous: 'Anonymous' };

/** How staff screens name an order status (`partially_refunded` → "partially refunded"). */
export const ORDER_STATUS_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending: 'pending',
  paid: 'paid',
  failed: 'failed',
  cancelled: 'cancelled',
  refunded: 'refunded',
  partially_refunded: 'partially refunded',
};

/**
 * The order's `paymentStatus` as staff read it. It holds PayPal's word as last learned (`completed`,
 * `pending`, `refunded`, …, `asserted` for a service's assertion); once part of the money went back the
 * order's own status is the better word ("partially refunded"), whatever PayPal's last message said.
 */
export function paymentStatusLabel(order: { status: OrderStatus; paymentStatus: string | null }): string | null {
  if (order.status === 'partially_refunded') return 'partially refunded';
  if (order.paymentStatus === null) return null;
  return order.paymentStatus.toLowerCase().replace(/_/g, ' ');
}

/** Who an audit entry says made a change. */
export const ACTOR_TYPES = ['service', 'staff', 'system', 'paypal', 'customer'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const STAFF_ROLES = ['viewer', 'operator', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * Scopes a service API key can carry. `payments:settle` asserts that money was taken
 * (`payments.updateAttempt`, `payments.processOrderToPaid`): only for fully trusted services.
 */
export const API_KEY_SCOPES = ['carts:write', 'orders:read', 'orders:write', 'payments:write', 'catalog:write', 'payments:settle'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export const CUSTOMER_SCOPES: readonly ApiKeyScope[] = ['carts:write', 'orders:read', 'orders:write', 'payments:write'];
