import type { Currency, Dashboard, DiscrepancyKind, OrderStatus } from '@orders/shared';
import { orderQueryString } from '../../filters';
import { duration, money } from '../../format';
import { routeHref } from '../../router';
import { kindLabel } from '../ReconciliationScreen';

/*
 * What the dashboard's cards say, computed from `backoffice.dashboard`'s answer alone (no rounding
 * of its own beyond display), and where each card leads: the orders list filtered to the same UTC
 * days (and currency), or the reconciliation queue.
 */

export type FigureKey = 'revenue' | 'orders' | 'conversion' | 'refunds' | 'ipnLag' | 'backlog' | 'reconciliation';

export interface Figure {
  key: FigureKey;
  label: string;
  value: string;
  detail: string;
  /** Where clicking the card goes (an href relative to the page: query string + route). */
  href: string;
  tone?: 'good' | 'warn' | 'bad';
}

export const PAID_STATUSES: OrderStatus[] = ['paid', 'partially_refunded', 'refunded'];
export const REFUNDED_STATUSES: OrderStatus[] = ['partially_refunded', 'refunded'];

/** The orders list for the dashboard's days (UTC) and currency, with these statuses; one day when given. */
export function ordersSearch(data: Pick<Dashboard, 'from' | 'to' | 'currency'>, status: OrderStatus[] = [], day?: string): string {
  return orderQueryString({
    status,
    from: day ?? data.from,
    to: day ?? data.to,
    utc: true,
    ...(data.currency ? { currency: data.currency } : {}),
  });
}

export function ordersHref(data: Pick<Dashboard, 'from' | 'to' | 'currency'>, status: OrderStatus[] = [], day?: string): string {
  return `?${ordersSearch(data, status, day)}${routeHref({ name: 'orders' })}`;
}

export function reconciliationHref(kind?: DiscrepancyKind): string {
  return routeHref(kind ? { name: 'reconciliation', kind } : { name: 'reconciliation' });
}

const count = new Intl.NumberFormat('en-US');

/** 313514 → "313,514": every count the dashboard writes out. */
export function countText(n: number): string {
  return count.format(n);
}

/** 0.5 → "50.0 %". */
export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

/** Amounts per currency, biggest first, at most `max` then "+N more". */
export function moneyList(amounts: { currency: Currency; amount: number }[], max = 2): string {
  if (amounts.length === 0) return money(0, 'USD');
  const shown = amounts.slice(0, max).map((a) => money(a.amount, a.currency));
  return amounts.length > max ? `${shown.join(' · ')} +${amounts.length - max} more` : shown.join(' · ');
}

export function dashboardFigures(data: Dashboard): Figure[] {
  const net = data.revenueTotals.map((t) => ({ currency: t.currency, amount: t.net }));
  const captured = data.revenueTotals.map((t) => ({ currency: t.currency, amount: t.captured }));
  const refundCount = data.refunds.reduce((sum, r) => sum + r.count, 0);
  const refundAmounts = new Map<Currency, number>();
  for (const r of data.refunds) refundAmounts.set(r.currency, (refundAmounts.get(r.currency) ?? 0) + r.amount);
  const paidOrders = data.orders.filter((o) => PAID_STATUSES.includes(o.status)).reduce((sum, o) => sum + o.count, 0);
  const ipn = data.lag.find((l) => l.source === 'ipn');
  const webhook = data.lag.find((l) => l.source === 'webhook');
  const lagSource = ipn && ipn.processed > 0 ? ipn : webhook && webhook.processed > 0 ? webhook : ipn;
  const worstKind = (Object.entries(data.reconciliation.counts) as [DiscrepancyKind, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])[0];

  return [
    {
      key: 'revenue',
      label: 'Revenue (net)',
      value: moneyList(net, 1).replace(/ \+\d+ more$/, ''),
      // Other currencies beside the biggest (amounts in different currencies do not add up).
      detail: net.length > 1 ? `+ ${moneyList(net.slice(1), 2)}` : `captured ${moneyList(captured, 1)}`,
      href: ordersHref(data, PAID_STATUSES),
    },
    {
      key: 'orders',
      label: 'Orders',
      value: countText(data.ordersTotal),
      detail: `${countText(paidOrders)} paid`,
      href: ordersHref(data),
    },
    {
      key: 'conversion',
      label: 'Conversion',
      value: data.conversionTotals.orders ? percent(data.conversionTotals.rate) : '—',
      detail: `${countText(data.conversionTotals.paid)} of ${countText(data.conversionTotals.orders)} orders paid`,
      href: ordersHref(data, ['paid']),
      ...(data.conversionTotals.orders ? { tone: data.conversionTotals.rate >= 0.5 ? 'good' : 'warn' } as const : {}),
    },
    {
      key: 'refunds',
      label: 'Refunds',
      value: countText(refundCount),
      detail: refundCount ? moneyList([...refundAmounts].map(([currency, amount]) => ({ currency, amount })).sort((a, b) => b.amount - a.amount), 1) : 'none',
      href: ordersHref(data, REFUNDED_STATUSES),
    },
    {
      key: 'ipnLag',
      label: lagSource?.source === 'webhook' ? 'Webhook lag p95' : 'IPN lag p95',
      value: duration(lagSource?.p95Seconds ?? null),
      detail: `p50 ${duration(lagSource?.p50Seconds ?? null)} · ${countText(lagSource?.processed ?? 0)} ${lagSource?.source === 'webhook' ? 'webhooks' : 'IPNs'}`,
      href: reconciliationHref('unmatched_ipn'),
      ...(lagSource?.p95Seconds != null && lagSource.p95Seconds > 60 ? { tone: 'warn' } as const : {}),
    },
    {
      key: 'backlog',
      label: 'Inbox backlog',
      value: countText(data.inbox.backlog),
      detail: data.inbox.backlog ? `oldest ${duration(data.inbox.oldestSeconds)}` : 'nothing waiting',
      href: reconciliationHref(),
      ...(data.inbox.backlog ? { tone: data.inbox.oldestSeconds > 300 ? 'bad' : 'warn' } as const : {}),
    },
    {
      key: 'reconciliation',
      label: 'Reconciliation',
      value: countText(data.reconciliation.total),
      detail: worstKind ? `open: ${countText(worstKind[1])} × ${kindLabel(worstKind[0]).toLowerCase()}` : 'nothing open',
      href: reconciliationHref(worstKind && data.reconciliation.total === worstKind[1] ? worstKind[0] : undefined),
      ...(data.reconciliation.total ? { tone: 'bad' } as const : { tone: 'good' } as const),
    },
  ];
}
