import type { inferProcedureOutput } from '@trpc/server';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ATTEMPT_STATUSES,
  CANCELLABLE_ORDER_STATUSES,
  CUSTOMER_TYPES,
  FLAG_KINDS,
  ORDER_STATUSES,
  PAYMENT_EVENT_SOURCES,
  PROCESSINGS,
  REFUNDABLE_ORDER_STATUSES,
  STAFF_ROLES,
  VERIFICATIONS,
  type ApiKeyListItem,
  type BackofficeOrderDetail,
  type CancelResult,
  type Dashboard,
  type OrderChangeEvent,
  type OrderDto,
  type OrderNoteDto,
  type OrderSearchResult,
  type OrderSummary,
  type ReconciliationPage,
  type ReconciliationSummary,
  type RefundLinesResult,
  type RefundResult,
  type ResolveResult,
  type ResyncResult,
  type StaffListItem,
} from '@orders/shared';
import { Cart } from '../modules/carts/cart.entity.js';
import { Order } from '../modules/orders/order.entity.js';
import { PAID_STATUSES, sourcesOf } from '../modules/orders/order-state.js';
import { OrderPaymentAttempt, PaymentEvent } from '../modules/payments/payment.entity.js';
import { StaffUser } from '../modules/staff/staff.entity.js';
import type { AppRouter } from './root.js';

/*
 * The contract is declared once, in @orders/shared. These checks keep what the server really does
 * equal to it: each procedure returns exactly the shared type, and each status column's check
 * constraint allows exactly the shared list (the constraints stay literal: a migration is their record).
 */

type Output<P> = inferProcedureOutput<P>;
type Backoffice = AppRouter['backoffice'];

describe('procedure outputs are the shared types', () => {
  it('orders', () => {
    expectTypeOf<Output<AppRouter['orders']['get']>>().toEqualTypeOf<OrderDto>();
    expectTypeOf<Output<AppRouter['orders']['create']>>().toEqualTypeOf<OrderDto>();
    expectTypeOf<Output<AppRouter['orders']['getToPay']>>().toEqualTypeOf<OrderDto>();
    expectTypeOf<Output<AppRouter['orders']['list']>['items'][number]>().toEqualTypeOf<OrderSummary>();
  });

  it('back office', () => {
    expectTypeOf<Output<Backoffice['orders']['search']>>().toEqualTypeOf<OrderSearchResult>();
    expectTypeOf<Output<Backoffice['orders']['get']>>().toEqualTypeOf<BackofficeOrderDetail>();
    expectTypeOf<Output<Backoffice['orders']['cancel']>>().toEqualTypeOf<CancelResult>();
    expectTypeOf<Output<Backoffice['orders']['resolve']>>().toEqualTypeOf<ResolveResult>();
    expectTypeOf<Output<Backoffice['payments']['resync']>>().toEqualTypeOf<ResyncResult>();
    expectTypeOf<Output<Backoffice['payments']['refund']>>().toEqualTypeOf<RefundResult>();
    expectTypeOf<Output<Backoffice['payments']['refundDuplicate']>>().toEqualTypeOf<RefundResult>();
    expectTypeOf<Output<Backoffice['payments']['refundLines']>>().toEqualTypeOf<RefundLinesResult>();
    expectTypeOf<Output<Backoffice['orders']['addNote']>>().toEqualTypeOf<OrderNoteDto>();
    expectTypeOf<Output<Backoffice['reconciliation']['summary']>>().toEqualTypeOf<ReconciliationSummary>();
    expectTypeOf<Output<Backoffice['dashboard']>>().toEqualTypeOf<Dashboard>();
    expectTypeOf<Output<Backoffice['reconciliation']['list']>>().toEqualTypeOf<ReconciliationPage>();
    expectTypeOf<Output<Backoffice['staff']['list']>>().toEqualTypeOf<StaffListItem[]>();
    expectTypeOf<Output<Backoffice['apiKeys']['list']>>().toEqualTypeOf<ApiKeyListItem[]>();
    expectTypeOf<Output<Backoffice['events']['onChange']>>().toEqualTypeOf<AsyncIterable<OrderChangeEvent, void, undefined>>();
  });
});

/** The values of a `column in ('a', 'b', …)` check constraint, sorted. */
function allowedValues(entity: { meta: { checks: { name?: string; expression?: unknown }[] } }, name: string): string[] {
  const check = entity.meta.checks.find((c) => c.name === name);
  const expression = String(check?.expression ?? '');
  return [...expression.matchAll(/'([^']*)'/g)].map((m) => m[1]!).sort();
}

describe('check constraints allow exactly the shared lists', () => {
  it.each([
    ['order_status_check', Order, ORDER_STATUSES],
    ['order_customer_type_check', Order, CUSTOMER_TYPES],
    ['cart_customer_type_check', Cart, CUSTOMER_TYPES],
    ['attempt_status_check', OrderPaymentAttempt, ATTEMPT_STATUSES],
    ['staff_user_role_check', StaffUser, STAFF_ROLES],
    ['payment_event_source_check', PaymentEvent, PAYMENT_EVENT_SOURCES],
    ['payment_event_verification_check', PaymentEvent, VERIFICATIONS],
    ['payment_event_processing_check', PaymentEvent, PROCESSINGS],
    ['payment_event_flag_kind_check', PaymentEvent, FLAG_KINDS],
  ] as const)('%s', (name, entity, values) => {
    expect(allowedValues(entity, name)).toEqual([...values].sort());
  });
});

describe('the status groups the back office offers follow the order state machine', () => {
  it('cancellable: every status an order can be cancelled from', () => {
    expect([...CANCELLABLE_ORDER_STATUSES].sort()).toEqual(sourcesOf('cancelled').sort());
  });

  it('refundable: paid statuses with money still to give back', () => {
    expect([...REFUNDABLE_ORDER_STATUSES].sort()).toEqual(PAID_STATUSES.filter((s) => s !== 'refunded').sort());
  });
});
