/**
 * The back-office contract: inputs (zod) and outputs (types) of every `backoffice.*` procedure,
 * shared by the server that implements them and the desktop app that calls them.
 */
import { z } from 'zod';
import { boundedString, emailAddress, noNul, staffRole } from './schemas.js';
import { SUPPORTED_CURRENCIES, type Currency } from './money.js';
import type { OrderLineDto, OrderSummary } from './orders.js';
import type { FlagKind, PaymentEventSource, Processing, Verification } from './payments.js';
import { CUSTOMER_TYPES, ORDER_STATUSES, API_KEY_SCOPES, type ActorType, type AttemptStatus, type OrderStatus, type StaffRole, type ApiKeyScope } from './status.js';

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });
const uuid = z.uuid({ error: 'must be a UUID' });
const reason = z.string().trim().min(3, 'a reason of at least 3 characters is required').max(2000);

export const ORDER_SORTS = ['created', 'total'] as const;
export type OrderSort = (typeof ORDER_SORTS)[number];
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
/** How the orders list is sorted: by `sort`, then by id in the same direction. */
export interface OrderOrdering {
  sort: OrderSort;
  direction: SortDirection;
}

export const orderSearchFilter = z.strictObject({
  status: z.array(z.enum(ORDER_STATUSES)).max(ORDER_STATUSES.length).optional(),
  /** Inclusive. */
  createdFrom: isoDate.optional(),
  /** Exclusive: [createdFrom, createdTo). */
  createdTo: isoDate.optional(),
  customerType: z.enum(CUSTOMER_TYPES).optional(),
  customerId: boundedString(200).optional(),
  amountMin: z.number().int().nonnegative().optional(),
  amountMax: z.number().int().nonnegative().optional(),
  currency: z.enum(SUPPORTED_CURRENCIES).optional(),
  /**
   * Free text, any case: digits are an order number by prefix (`#100`, `100`; one or two digits
   * exactly); anything else a fragment (3+ letters or digits in a row) of an order or attempt id,
   * PayPal payment or sale id, customer id, email or name, payer email or name, sku or product name.
   */
  q: boundedString(200).optional(),
});
export type OrderSearchFilter = z.infer<typeof orderSearchFilter>;

export const orderSearchInput = orderSearchFilter.extend({
  sort: z.enum(ORDER_SORTS).default('created'),
  direction: z.enum(SORT_DIRECTIONS).default('desc'),
  /** Keyset cursor from the previous page's `nextCursor`. */
  cursor: z.string().max(300).optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type OrderSearchInput = z.input<typeof orderSearchInput>;

/** Most orders one bulk action or one export of selected ids may name (an export's ids travel in the URL: 200 × 37 characters stays far below header limits). */
export const MAX_SELECTED_ORDERS = 200;

const selectedOrderIds = z
  .array(uuid)
  .min(1, 'select at least one order')
  .max(MAX_SELECTED_ORDERS, `at most ${MAX_SELECTED_ORDERS} orders at once`)
  .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, 'each order once');

/**
 * `backoffice.orders.exportCsv` and `GET /backoffice/api/orders.csv`: the current filter and sort, every
 * row. With `ids` (the list's selection; `?ids=a,b` or repeated `ids=`), only those orders, still
 * narrowed by any other filter given.
 */
export const orderExportInput = orderSearchFilter.extend({
  sort: z.enum(ORDER_SORTS).default('created'),
  direction: z.enum(SORT_DIRECTIONS).default('desc'),
  ids: selectedOrderIds.optional(),
});
export type OrderExportInput = z.input<typeof orderExportInput>;

/** An order as the back office lists it: the order, plus its latest attempt's PayPal payment id and payer. */
export interface BackofficeOrderRow extends OrderSummary {
  /** The PayPal payment id (PAY-…) of the latest attempt, if any. */
  externalId: string | null;
  /** The PayPal payer as PayPal last told us (the paying attempt's payer once paid): order.payer_email / payer_name. */
  payerEmail: string | null;
  payerName: string | null;
}

export interface OrderSearchResult {
  items: BackofficeOrderRow[];
  nextCursor: string | null;
  /** Exact below 10,000 matches; above that an estimate, and `exact` says so. */
  total: { value: number; exact: boolean };
}

export const orderIdInput = z.strictObject({ orderId: uuid });

export interface AttemptDto {
  id: string;
  status: AttemptStatus;
  externalId: string | null;
  saleId: string | null;
  saleState: string | null;
  amount: number;
  currency: Currency;
  payerEmail: string | null;
  /** The payer's name as PayPal gave it (first and last name). */
  payerName: string | null;
  failureReason: string | null;
  approvalUrl: string | null;
  createdAt: string;
  updatedAt: string;
  succeededAt: string | null;
}

export interface PaymentEventDto {
  id: string;
  source: PaymentEventSource;
  attemptId: string | null;
  externalId: string | null;
  txnId: string | null;
  parentTxnId: string | null;
  providerStatus: string | null;
  amount: number | null;
  currency: string | null;
  verification: Verification;
  processing: Processing;
  outcome: string | null;
  /** Why a flagged event was flagged. */
  flagKind: FlagKind | null;
  /** The message exactly as received (IPN bodies), as text. */
  raw: string | null;
  payload: unknown;
  createdAt: string;
  processedAt: string | null;
}

export interface AuditDto {
  id: string;
  actorType: ActorType;
  actorId: string | null;
  /** Who, for people: the staff member's email, or the API key's name (`key "storefront"`). */
  actorLabel: string | null;
  action: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  createdAt: string;
}

/**
 * What staff can do to one order. `backoffice.orders.get` lists the ones the server would accept now,
 * for this order and the caller's role, computed by the same rules that enforce them.
 */
export const ORDER_ACTIONS = [
  /** Ask PayPal again about an attempt (operator). */
  'resync',
  /** Refund an amount (admin; paid or partly refunded, money left). */
  'refund',
  /** Refund chosen lines (admin; paid, frozen lines left to refund). */
  'refundLines',
  /** Refund a duplicate sale whole (admin; a succeeded attempt whose sale did not pay the order). */
  'refundDuplicate',
  /** Cancel the order (operator; unpaid: pending or failed). */
  'cancel',
  /** Add an internal note (operator). */
  'note',
] as const;
export type OrderAction = (typeof ORDER_ACTIONS)[number];

export interface BackofficeOrderDetail {
  order: BackofficeOrderRow;
  /** What the caller may do to this order now (role and order state): the buttons to show. */
  allowedActions: OrderAction[];
  /** The caller's role, as the server authenticated it. */
  role: StaffRole;
  /** The paid lines (or, unpaid, the cart's), each with what has been refunded of it. */
  lines: BackofficeOrderLine[];
  linesFrozen: boolean;
  attempts: AttemptDto[];
  events: PaymentEventDto[];
  audit: AuditDto[];
  /** Internal notes, oldest first. */
  notes: OrderNoteDto[];
  /** How many other orders the same customer has. */
  customerOrderCount: number;
}

export const DISCREPANCY_KINDS = [
  /** PayPal captured money (sale completed) but the order is not paid (or was cancelled), and it was not given back. */
  'paid_at_paypal_not_paid',
  /** A provider message or caller reported an amount or currency different from the attempt's. */
  'amount_mismatch',
  /** A second sale captured for an already paid order, not (yet) refunded: one item per extra sale. */
  'multiple_successes',
  /** A second sale for an already paid order that was given back whole (automatically or by staff). */
  'duplicate_refunded',
  /** An order marked paid by a service's assertion (processOrderToPaid, updateAttempt) with no PayPal sale captured for it. */
  'paid_without_paypal_sale',
  /** An attempt left in created/approved longer than the threshold. */
  'stuck_attempt',
  /** A verified notification (IPN or webhook) that matches no attempt. The id predates webhooks: it is stored in resolutions and URLs, so it stays. */
  'unmatched_ipn',
  /** A refund, reversal or cancelled reversal for a sale that has not arrived within the threshold. */
  'parked_movement',
  /** A notification whose amount is not one PayPal could send (malformed, or beyond PayPal's maximum). */
  'unreadable_amount',
  /** PayPal reported a sale for an attempt that already holds another, or a sale another attempt holds. */
  'conflicting_sale',
  /** PayPal reported something the payment's state does not allow (a failure after success). */
  'unexpected_state',
  /** Refunds and reversals that would exceed what the sale captured. */
  'refund_exceeds_total',
  /** A cancelled reversal with no reversal open on its sale. */
  'no_open_reversal',
  /** A verified IPN addressed to another merchant account. */
  'receiver_mismatch',
  /** A webhook whose signature PayPal did not confirm: forged, altered, or for another webhook. */
  'signature_invalid',
  /** PayPal opened a case on one of our sales (a dispute, a chargeback, a complaint): answer it in PayPal. */
  'dispute_opened',
] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

/**
 * What staff can do from a reconciliation item. `backoffice.reconciliation.list` gives each item the
 * ones the caller's role may take on it (its kind, order and attempt): the buttons to show.
 */
export const DISCREPANCY_ACTIONS = [
  /** Ask PayPal again about the item's attempt (operator). */
  'resync',
  /** Mark the item dealt with, with a reason (operator). */
  'resolve',
  /** Cancel the item's unpaid order (operator). */
  'cancel',
  /** Refund the item's paid order (admin). */
  'refund',
  /** Refund the item's attempt's sale, which did not pay the order, whole (admin). */
  'refundDuplicate',
] as const;
export type DiscrepancyAction = (typeof DISCREPANCY_ACTIONS)[number];

export interface Discrepancy {
  /** Stable key `kind:subjectId`, used to resolve it. */
  id: string;
  kind: DiscrepancyKind;
  orderId: string | null;
  /** The order's number (`#1001`) when the discrepancy is about an order. */
  orderNumber: number | null;
  attemptId: string | null;
  eventId: string | null;
  orderStatus: OrderStatus | null;
  amount: number | null;
  currency: string | null;
  detail: string;
  detectedAt: string;
  /** What the caller may do from this item now (its role, the item's kind and order): the buttons to show. */
  allowedActions: DiscrepancyAction[];
}

/** Minutes after which an attempt still in created/approved counts as stuck (default 30). */
const stuckAfterMinutes = z.number().int().min(1).max(7 * 24 * 60).optional();

export const reconciliationListInput = z.strictObject({
  kind: z.enum(DISCREPANCY_KINDS).optional(),
  cursor: z.string().max(300).optional(),
  limit: z.number().int().min(1).max(500).default(100),
  stuckAfterMinutes,
});

export const reconciliationSummaryInput = z.strictObject({ stuckAfterMinutes }).optional();

export interface ReconciliationSummary {
  counts: Record<DiscrepancyKind, number>;
  total: number;
}

export interface ReconciliationPage {
  items: Discrepancy[];
  nextCursor: string | null;
}

export interface ResolveResult {
  discrepancyId: string;
  resolvedAt: string;
}

/** `backoffice.bulkCancel`: several unpaid orders, one reason (each cancellation audited with it). */
export const bulkCancelInput = z.strictObject({ orderIds: selectedOrderIds, reason });
export type BulkCancelInput = z.input<typeof bulkCancelInput>;

/** Why a bulk cancel left an order as it was. */
export const BULK_SKIP_CODES = ['not_found', 'not_cancellable'] as const;
export type BulkSkipCode = (typeof BULK_SKIP_CODES)[number];

export type BulkCancelItem =
  | { orderId: string; number: number; result: 'cancelled'; status: OrderStatus; cancelledAttempts: number }
  | { orderId: string; number: number | null; result: 'skipped'; status: OrderStatus | null; code: BulkSkipCode; message: string };

export interface BulkCancelResult {
  /** One per requested id, in the order given. */
  items: BulkCancelItem[];
  cancelled: number;
  skipped: number;
}

export const resolveInput = z.strictObject({ discrepancyId: z.string().min(3).max(200), reason });
export const cancelOrderInput = z.strictObject({ orderId: uuid, reason });
export const resyncInput = z.strictObject({ attemptId: uuid, reason: reason.optional() });
/** Refund exactly one attempt's sale that did not pay its order (a duplicate payment), whole. */
export const refundDuplicateInput = z.strictObject({ attemptId: uuid, reason });

export const refundInput = z.strictObject({
  orderId: uuid,
  /** Minor units; omitted means everything not yet refunded. */
  amount: z.number().int().positive().optional(),
  reason,
});

/** Where an order stands after a staff action; the app refetches the detail for the rest. */
export interface OrderActionResult {
  orderId: string;
  status: OrderStatus;
  refundedAmount: number;
}

export interface CancelResult extends OrderActionResult {
  /** Open attempts (created/approved) that were cancelled with the order. */
  cancelledAttempts: number;
}

export interface ResyncResult extends OrderActionResult {
  attemptId: string;
  attemptStatus: AttemptStatus;
  /** What applying PayPal's answer did: paid, already_applied, pending, failed, refund_applied, flagged, ignored or no_change. */
  result: string;
  message: string;
}

export interface RefundResult extends OrderActionResult {
  /** Our refund record's id, sent to PayPal as PayPal-Request-Id. */
  refundId: string;
  /** PayPal's id for the refund (the refund IPN's txn_id). */
  providerRefundId: string;
  amount: number;
  currency: Currency;
}

export const staffCreateInput = z.strictObject({
  email: emailAddress,
  password: z.string().min(12, 'at least 12 characters').max(1000),
  role: staffRole,
});
export const staffDisableInput = z.strictObject({ staffId: uuid, disabled: z.boolean() });
/** `backoffice.staff.setRole` (admin): another member's role; it applies to their sessions from their next call. */
export const staffRoleInput = z.strictObject({ staffId: uuid, role: staffRole });
export interface StaffListItem {
  id: string;
  email: string;
  role: StaffRole;
  disabled: boolean;
  createdAt: string;
}

export const apiKeyCreateInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
});
export const apiKeyDisableInput = z.strictObject({ apiKeyId: uuid, disabled: z.boolean() });
export interface ApiKeyListItem {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  disabled: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What `backoffice.events.onChange` yields: enough to refresh the right rows. */
export interface OrderChangeEvent {
  orderId: string;
  status: OrderStatus;
  kind: 'created' | 'updated';
  at: string;
}

/** A line of the order detail: the paid snapshot, and how much of it line refunds gave back. */
export interface BackofficeOrderLine extends OrderLineDto {
  /** Units refunded by completed line refunds (PayPal confirmed). */
  refundedQuantity: number;
  /** Their money: the paid unit price × those units. */
  refundedAmount: number;
  /** Units in line refunds sent to PayPal and not answered yet: held, they cannot be refunded again meanwhile. */
  pendingRefundQuantity: number;
  /** Units of this line put back into stock. */
  restockedQuantity: number;
}

/**
 * `backoffice.payments.refundLines`: refund chosen paid lines (by sku) and quantities. The amount is the
 * paid snapshot's unit price × quantity, never the catalog's; `restock` puts those units back in stock
 * once PayPal has refunded.
 */
export const refundLinesInput = z.strictObject({
  orderId: uuid,
  lines: z
    .array(z.strictObject({ sku: z.string().trim().min(1).max(64), quantity: z.number().int().positive().max(1_000_000) }))
    .min(1, 'choose at least one line')
    .max(100)
    .refine((lines) => new Set(lines.map((l) => l.sku)).size === lines.length, 'each sku once'),
  restock: z.boolean().default(false),
  reason,
  /**
   * The client's id for this refund (a UUID it makes once per dialog): the same key again — a double
   * click, a retry after a lost answer — never makes a second refund; it gets the first one's result.
   */
  requestKey: uuid.optional(),
});
export type RefundLinesInput = z.input<typeof refundLinesInput>;

export interface RefundLinesResult extends RefundResult {
  /** What this refund covered. */
  lines: { sku: string; quantity: number; amount: number }[];
  /** Whether the units went back into stock (with this call, or already by the path that completed it first). */
  restocked: boolean;
}

/** Most characters an internal note may hold. */
export const NOTE_MAX_LENGTH = 4000;
/** `backoffice.orders.addNote`: an internal note on an order (never shown to the customer). */
export const addNoteInput = z.strictObject({
  orderId: uuid,
  body: z.string().trim().min(1, 'a note cannot be empty').max(NOTE_MAX_LENGTH, `at most ${NOTE_MAX_LENGTH} characters`).refine(noNul, 'must not contain NUL characters'),
});
export type AddNoteInput = z.input<typeof addNoteInput>;

export interface OrderNoteDto {
  id: string;
  orderId: string;
  body: string;
  staffId: string;
  /** Who wrote it: the staff member's email. */
  staffEmail: string;
  createdAt: string;
}
