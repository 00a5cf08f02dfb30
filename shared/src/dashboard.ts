/**
 * `backoffice.dashboard`: the back office's first screen. Days are UTC calendar days
 * (`YYYY-MM-DD`), whatever the viewer's time zone; the range is inclusive at both ends.
 */
import { z } from 'zod';
import { SUPPORTED_CURRENCIES, type Currency } from './money.js';
import type { ReconciliationSummary } from './backoffice.js';
import type { NotificationSource } from './payments.js';
import type { AttemptStatus, OrderStatus } from './status.js';

/** The longest range one request may ask for: a year and a day (a leap year's every day). */
export const DASHBOARD_MAX_DAYS = 366;

const utcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC date, YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'must be a real date');

/** Whole UTC days from `from` to `to`, both included. */
export function dashboardDayCount(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

export const dashboardInput = z
  .strictObject({
    /** First UTC day shown. */
    from: utcDay,
    /** Last UTC day shown (included). */
    to: utcDay,
    /** Only this currency's orders, attempts and money; all currencies when absent. */
    currency: z.enum(SUPPORTED_CURRENCIES, { error: 'must be a supported ISO 4217 currency' }).optional(),
  })
  .superRefine((input, ctx) => {
    const days = dashboardDayCount(input.from, input.to);
    if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (days > DASHBOARD_MAX_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${DASHBOARD_MAX_DAYS} days after from` });
  });
export type DashboardInput = z.input<typeof dashboardInput>;

/** Money PayPal confirmed on one UTC day, from the ledger (`money_movement`, applied rows). */
export interface RevenueDay {
  day: string;
  currency: Currency;
  /** Captured sales, minor units. */
  captured: number;
  /** Refunds sent back, minor units. */
  refunded: number;
  /** Reversals (chargebacks) net of cancelled reversals, minor units. */
  reversed: number;
  /** captured − refunded − reversed. */
  net: number;
}

export interface RefundDay {
  day: string;
  currency: Currency;
  /** Refund transactions PayPal confirmed that day. */
  count: number;
  amount: number;
}

/** Orders created that UTC day, by their status now. */
export interface OrdersDay {
  day: string;
  status: OrderStatus;
  count: number;
}

/** Payment attempts started that UTC day, and how many of those ended up paying their order. */
export interface ConversionDay {
  day: string;
  attempts: number;
  /** Distinct orders that started at least one attempt that day. */
  orders: number;
  /** Attempts of that day that succeeded (at most one per order, so also orders paid). */
  paid: number;
}

/** IPN or webhook delay from arrival (stored) to processed, over the range's arrivals. */
export interface NotificationLag {
  source: NotificationSource;
  /** Arrivals in the range that have been processed. */
  processed: number;
  p50Seconds: number | null;
  p95Seconds: number | null;
  maxSeconds: number | null;
}

export interface Dashboard {
  from: string;
  to: string;
  currency: Currency | null;
  timeZone: 'UTC';
  /** Every day of the range, oldest first: the charts' x axis (days without rows are zeros). */
  days: string[];
  generatedAt: string;
  revenue: RevenueDay[];
  /** Per currency over the whole range. */
  revenueTotals: Omit<RevenueDay, 'day'>[];
  refunds: RefundDay[];
  orders: OrdersDay[];
  ordersTotal: number;
  conversion: ConversionDay[];
  conversionTotals: { attempts: number; orders: number; paid: number; /** paid / orders, 0 when no orders attempted. */ rate: number };
  /** Attempts started in the range, by their status now (created and approved are still open). */
  attemptOutcomes: { status: AttemptStatus; count: number }[];
  lag: NotificationLag[];
  /** Now, not over the range: IPNs and webhooks stored but not processed yet (the /metrics gauges). */
  inbox: { backlog: number; oldestSeconds: number };
  /** Now, not over the range: the reconciliation summary (the /metrics gauge, the queue's badge). */
  reconciliation: ReconciliationSummary;
}
