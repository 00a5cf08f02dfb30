import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { backoffice, type Dashboard, type DiscrepancyKind } from '@orders/shared';
import { parseOrderQuery, toSearchFilter } from '../../filters';
import { parseRoute } from '../../router';
import { DashboardCharts } from './DashboardCharts';
import { DashboardFigures } from './DashboardFigures';
import { percent } from './figures';
import { duration } from '../../format';
import { presetRange } from './DashboardScreen';

const noDiscrepancies = () => Object.fromEntries(backoffice.DISCREPANCY_KINDS.map((kind) => [kind, 0])) as Record<DiscrepancyKind, number>;

/** What backoffice.dashboard answers for two paid orders (USD, EUR), a refund, a decline and a cancel. */
function dashboard(overrides: Partial<Dashboard> = {}): Dashboard {
  return {
    from: '2026-11-24',
    to: '2026-11-30',
    currency: null,
    timeZone: 'UTC',
    days: ['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30'],
    generatedAt: '2026-11-30T11:00:00.000Z',
    revenue: [
      { day: '2026-11-30', currency: 'EUR', captured: 1800, refunded: 0, reversed: 0, net: 1800 },
      { day: '2026-11-30', currency: 'USD', captured: 2500, refunded: 1000, reversed: 0, net: 1500 },
    ],
    revenueTotals: [
      { currency: 'EUR', captured: 1800, refunded: 0, reversed: 0, net: 1800 },
      { currency: 'USD', captured: 2500, refunded: 1000, reversed: 0, net: 1500 },
    ],
    refunds: [{ day: '2026-11-30', currency: 'USD', count: 1, amount: 1000 }],
    orders: [
      { day: '2026-11-30', status: 'pending', count: 2 },
      { day: '2026-11-30', status: 'paid', count: 1 },
      { day: '2026-11-30', status: 'failed', count: 1 },
      { day: '2026-11-30', status: 'partially_refunded', count: 1 },
    ],
    ordersTotal: 5,
    conversion: [{ day: '2026-11-30', attempts: 4, orders: 4, paid: 2 }],
    conversionTotals: { attempts: 4, orders: 4, paid: 2, rate: 0.5 },
    attemptOutcomes: [
      { status: 'created', count: 0 },
      { status: 'approved', count: 0 },
      { status: 'succeeded', count: 2 },
      { status: 'failed', count: 1 },
      { status: 'cancelled', count: 1 },
      { status: 'expired', count: 0 },
    ],
    lag: [
      { source: 'ipn', processed: 3, p50Seconds: 0.042, p95Seconds: 1.5, maxSeconds: 1.7 },
      { source: 'webhook', processed: 0, p50Seconds: null, p95Seconds: null, maxSeconds: null },
    ],
    inbox: { backlog: 0, oldestSeconds: 0 },
    reconciliation: {
      counts: { ...noDiscrepancies(), amount_mismatch: 2, stuck_attempt: 1 },
      total: 3,
    },
    ...overrides,
  };
}

const card = (key: string) => document.querySelector<HTMLAnchorElement>(`[data-figure="${key}"]`)!;
const value = (key: string) => card(key).querySelector('[data-value]')!.textContent;

describe('DashboardFigures', () => {
  it('shows each figure as the procedure computed it', () => {
    render(<DashboardFigures data={dashboard()} />);
    expect(within(screen.getByRole('region', { name: 'Figures' })).getAllByRole('link')).toHaveLength(7);
    // The biggest currency's net as the value, the others beside it: different currencies do not add up.
    expect(value('revenue')).toBe('€18.00');
    expect(card('revenue').textContent).toContain('+ $15.00');
    expect(value('orders')).toBe('5');
    expect(card('orders').textContent).toContain('2 paid');
    expect(value('conversion')).toBe('50.0 %');
    expect(card('conversion').textContent).toContain('2 of 4 orders paid');
    expect(value('refunds')).toBe('1');
    expect(card('refunds').textContent).toContain('$10.00');
    expect(value('ipnLag')).toBe('1.5 s');
    expect(card('ipnLag').textContent).toContain('p50 42 ms');
    expect(value('backlog')).toBe('0');
    expect(value('reconciliation')).toBe('3');
    expect(card('reconciliation').textContent).toContain('open: 2 × amount mismatch');
  });

  it('each figure leads to the orders list filtered to the same UTC days, or to the reconciliation queue', () => {
    render(<DashboardFigures data={dashboard({ currency: 'USD' })} />);
    const target = (key: string) => new URL(card(key).getAttribute('href')!, 'http://app.test/backoffice/');
    const revenue = target('revenue');
    expect(parseRoute(revenue.hash)).toEqual({ name: 'orders' });
    const { filters } = parseOrderQuery(revenue.search);
    expect(filters).toMatchObject({ status: ['paid', 'refunded', 'partially_refunded'], from: '2026-11-24', to: '2026-11-30', utc: true, currency: 'USD' });
    // UTC days whatever the viewer's zone: [from 00:00Z, the day after to 00:00Z).
    expect(toSearchFilter(filters)).toMatchObject({ createdFrom: '2026-11-24T00:00:00.000Z', createdTo: '2026-12-01T00:00:00.000Z', currency: 'USD' });
    expect(parseOrderQuery(target('conversion').search).filters.status).toEqual(['paid']);
    expect(parseOrderQuery(target('refunds').search).filters.status).toEqual(['refunded', 'partially_refunded']);
    expect(parseOrderQuery(target('orders').search).filters.status).toEqual([]);
    expect(parseRoute(target('reconciliation').hash)).toEqual({ name: 'reconciliation' });
    expect(parseRoute(target('ipnLag').hash)).toEqual({ name: 'reconciliation', kind: 'unmatched_ipn' });
    expect(parseRoute(target('backlog').hash)).toEqual({ name: 'reconciliation' });
  });

  it('an empty range: no revenue, no conversion to speak of, all clear', () => {
    render(
      <DashboardFigures
        data={dashboard({
          revenue: [],
          revenueTotals: [],
          refunds: [],
          orders: [],
          ordersTotal: 0,
          conversion: [],
          conversionTotals: { attempts: 0, orders: 0, paid: 0, rate: 0 },
          reconciliation: { counts: noDiscrepancies(), total: 0 },
          inbox: { backlog: 4, oldestSeconds: 620 },
        })}
      />,
    );
    expect(value('revenue')).toBe('$0.00');
    expect(value('conversion')).toBe('—');
    expect(value('refunds')).toBe('0');
    expect(value('backlog')).toBe('4');
    expect(card('backlog').textContent).toContain('oldest 10.3 min');
    expect(card('backlog').className).toContain('tone-border-bad');
  });
});

describe('the dashboard at a shop\'s scale', () => {
  it('writes counts with thousands separated: the notifications table, the inbox, the outcomes note', () => {
    const { container } = render(
      <DashboardCharts
        data={dashboard({
          lag: [
            { source: 'ipn', processed: 260_834, p50Seconds: 1.5, p95Seconds: 2.9, maxSeconds: 312 },
            { source: 'webhook', processed: 111_448, p50Seconds: 1.5, p95Seconds: 2.9, maxSeconds: 3 },
          ],
          inbox: { backlog: 12_345, oldestSeconds: 42 },
          attemptOutcomes: [
            { status: 'succeeded', count: 222_402 },
            { status: 'failed', count: 61_000 },
            { status: 'cancelled', count: 30_112 },
          ],
        })}
      />,
    );
    const row = (source: string) => container.querySelector(`[data-lag="${source}"]`)!.textContent;
    expect(row('ipn')).toContain('260,834');
    expect(row('webhook')).toContain('111,448');
    expect(container.textContent).toContain('Inbox now: 12,345 waiting');
    expect(container.textContent).toContain('313,514 attempts started in the range');
  });
});

describe('dashboard helpers', () => {
  it('formats rates and delays', () => {
    expect(percent(2 / 3)).toBe('66.7 %');
    expect(duration(null)).toBe('—');
    expect(duration(0.25)).toBe('250 ms');
    expect(duration(75)).toBe('1.3 min');
    expect(duration(7200)).toBe('2.0 h');
  });

  it('presets end today in UTC and span whole days', () => {
    const now = Date.parse('2026-11-30T23:30:00Z');
    expect(presetRange(7, now)).toEqual({ from: '2026-11-24', to: '2026-11-30' });
    expect(presetRange(90, now)).toEqual({ from: '2026-09-02', to: '2026-11-30' });
  });

  it('the dashboard is the first screen; #/orders is the list', () => {
    expect(parseRoute('')).toEqual({ name: 'dashboard' });
    expect(parseRoute('#/dashboard')).toEqual({ name: 'dashboard' });
    expect(parseRoute('#/orders')).toEqual({ name: 'orders' });
  });
});
