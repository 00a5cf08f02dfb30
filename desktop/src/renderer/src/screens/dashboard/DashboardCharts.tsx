import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ATTEMPT_STATUSES, ORDER_STATUSES, minorUnitDigits, type AttemptStatus, type Currency, type Dashboard, type DiscrepancyKind, type OrderStatus } from '@orders/shared';
import { STATUS_LABELS } from '../../filters';
import { duration, money } from '../../format';
import { navigate } from '../../router';
import { KIND_LABELS } from '../ReconciliationScreen';
import { PAID_STATUSES, countText, ordersSearch, percent, reconciliationHref } from './figures';

const compact = new Intl.NumberFormat('en-US', { notation: 'compact' });
/** An axis's numbers as people read them at a glance: 240000 → "240K". */
const compactTick = (value: number) => compact.format(value);

/** Hex, not CSS variables: SVG presentation attributes in screenshots must not depend on the cascade. */
const STATUS_COLORS: Record<OrderStatus, string> = {
  pending: '#d69e2e',
  paid: '#1d8a4e',
  failed: '#cc3333',
  cancelled: '#9aa1ad',
  refunded: '#7c4dcc',
  partially_refunded: '#3f74c9',
};
const OUTCOME_COLORS: Record<AttemptStatus, string> = {
  created: '#9aa1ad',
  approved: '#3f74c9',
  succeeded: '#1d8a4e',
  failed: '#cc3333',
  cancelled: '#d69e2e',
  expired: '#6b7280',
};
const OUTCOME_LABELS: Record<AttemptStatus, string> = {
  created: 'Created',
  approved: 'Approved',
  succeeded: 'Captured',
  failed: 'Declined',
  cancelled: 'Cancelled',
  expired: 'Expired',
};
const AXIS = { fontSize: 11, fill: '#687080' };
const shortDay = (day: string) => day.slice(5);

function ChartCard({ title, note, children, wide }: { title: string; note?: ReactNode; children: ReactNode; wide?: boolean }) {
  return (
    <section className={`card dash-chart${wide ? ' dash-chart-wide' : ''}`} aria-label={title}>
      <header className="dash-chart-head">
        <h2>{title}</h2>
        {note ? <span className="muted dash-chart-note">{note}</span> : null}
      </header>
      {children}
    </section>
  );
}

/** The currency the revenue chart draws: the filter's, else the one with the most net revenue. */
export function chartCurrency(data: Dashboard): Currency | null {
  return data.currency ?? data.revenueTotals[0]?.currency ?? null;
}

type DayClick = { payload?: { day?: string } };

function RevenueChart({ data }: { data: Dashboard }) {
  const currency = chartCurrency(data);
  const scale = currency ? 10 ** minorUnitDigits(currency) : 1;
  const points = data.days.map((day) => {
    const row = data.revenue.find((r) => r.day === day && r.currency === currency);
    return { day, captured: (row?.captured ?? 0) / scale, refunded: -((row?.refunded ?? 0) + (row?.reversed ?? 0)) / scale || 0, net: (row?.net ?? 0) / scale };
  });
  const others = data.revenueTotals.filter((t) => t.currency !== currency);
  const asMoney = (value: unknown) => (currency ? money(Math.abs(Math.round(Number(value) * scale)), currency) : String(value));
  return (
    <ChartCard
      title={`Revenue per day${currency ? ` (${currency})` : ''}`}
      note={others.length ? `also ${others.map((t) => money(t.net, t.currency)).join(', ')} net` : 'captured, refunded, net'}
      wide
    >
      <div className="dash-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} stackOffset="sign">
            <CartesianGrid stroke="#e2e5ea" vertical={false} />
            <XAxis dataKey="day" tickFormatter={shortDay} tick={AXIS} minTickGap={16} />
            <YAxis tick={AXIS} width={56} tickFormatter={compactTick} />
            <Tooltip formatter={(value) => asMoney(value)} labelFormatter={(day) => `${String(day)} (UTC)`} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar
                isAnimationActive={false}
              dataKey="captured"
              name="Captured"
              stackId="money"
              fill="#1d8a4e"
              cursor="pointer"
              onClick={(bar: DayClick) => bar.payload?.day && navigate({ name: 'orders' }, ordersSearch(data, PAID_STATUSES, bar.payload.day))}
            />
            <Bar isAnimationActive={false} dataKey="refunded" name="Refunded" stackId="money" fill="#7c4dcc" />
            <Line dataKey="net" name="Net" type="linear" stroke="#2a64e8" strokeWidth={2} dot={points.length <= 31 ? { r: 2.5 } : false} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

function OrdersChart({ data }: { data: Dashboard }) {
  const points = data.days.map((day) => {
    const point: Record<string, number | string> = { day };
    for (const status of ORDER_STATUSES) point[status] = data.orders.find((o) => o.day === day && o.status === status)?.count ?? 0;
    return point;
  });
  return (
    <ChartCard title="Orders per day, by status now" note="click a bar for those orders">
      <div className="dash-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e2e5ea" vertical={false} />
            <XAxis dataKey="day" tickFormatter={shortDay} tick={AXIS} minTickGap={16} />
            <YAxis tick={AXIS} width={40} allowDecimals={false} tickFormatter={compactTick} />
            <Tooltip formatter={(value) => countText(Number(value))} labelFormatter={(day) => `${String(day)} (UTC)`} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {ORDER_STATUSES.map((status) => (
              <Bar
                isAnimationActive={false}
                key={status}
                dataKey={status}
                name={STATUS_LABELS[status]}
                stackId="orders"
                fill={STATUS_COLORS[status]}
                cursor="pointer"
                onClick={(bar: DayClick) => bar.payload?.day && navigate({ name: 'orders' }, ordersSearch(data, [status], bar.payload.day))}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

function ConversionChart({ data }: { data: Dashboard }) {
  const points = data.days.map((day) => {
    const row = data.conversion.find((c) => c.day === day);
    return { day, orders: row?.orders ?? 0, paid: row?.paid ?? 0, rate: row && row.orders ? Math.round((row.paid / row.orders) * 1000) / 10 : null };
  });
  return (
    <ChartCard title="Payment conversion" note="orders that started paying → paid">
      <div className="dash-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          {/* Paid in front of the orders that started paying, one bar per day (paid ≤ started): side by side, 90 days
              made bars a pixel wide, and the paid ones vanished. Each on an x axis of its own (the second hidden), so
              both take the day's whole width. */}
          <ComposedChart data={points} margin={{ top: 4, right: 0, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e2e5ea" vertical={false} />
            <XAxis dataKey="day" tickFormatter={shortDay} tick={AXIS} minTickGap={16} />
            <XAxis xAxisId="started" dataKey="day" hide />
            <YAxis yAxisId="n" tick={AXIS} width={40} allowDecimals={false} tickFormatter={compactTick} />
            <YAxis yAxisId="rate" orientation="right" domain={[0, 100]} tick={AXIS} width={40} unit="%" />
            <Tooltip formatter={(value, _name, item) => (item.dataKey === 'rate' ? `${String(value)} %` : countText(Number(value)))} labelFormatter={(day) => `${String(day)} (UTC)`} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar isAnimationActive={false} xAxisId="started" yAxisId="n" dataKey="orders" name="Started paying" fill="#9ab6f0" />
            <Bar
                isAnimationActive={false}
              yAxisId="n"
              dataKey="paid"
              name="Paid"
              fill="#1d8a4e"
              cursor="pointer"
              onClick={(bar: DayClick) => bar.payload?.day && navigate({ name: 'orders' }, ordersSearch(data, ['paid'], bar.payload.day))}
            />
            <Line
              yAxisId="rate"
              dataKey="rate"
              name="Conversion %"
              type="linear"
              stroke="#2a64e8"
              strokeWidth={2}
              dot={points.length <= 31 ? { r: 3 } : false}
              connectNulls
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

function OutcomesChart({ data }: { data: Dashboard }) {
  const points = ATTEMPT_STATUSES.map((status) => ({
    status,
    label: OUTCOME_LABELS[status],
    count: data.attemptOutcomes.find((o) => o.status === status)?.count ?? 0,
    fill: OUTCOME_COLORS[status],
  }));
  const total = points.reduce((sum, p) => sum + p.count, 0);
  return (
    <ChartCard title="PayPal outcomes" note={`${countText(total)} attempts started in the range, by status now`}>
      <div className="dash-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={points} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 8 }}>
            <CartesianGrid stroke="#e2e5ea" horizontal={false} />
            <XAxis type="number" tick={AXIS} allowDecimals={false} tickFormatter={compactTick} />
            <YAxis type="category" dataKey="label" tick={AXIS} width={110} />
            <Tooltip formatter={(value) => [`${countText(Number(value))}${total ? ` (${percent(Number(value) / total)})` : ''}`, 'Attempts']} />
            <Bar dataKey="count" name="Attempts" isAnimationActive={false}>
              {points.map((p) => (
                <Cell key={p.status} fill={p.fill} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

function NotificationsCard({ data }: { data: Dashboard }) {
  return (
    <ChartCard title="PayPal notifications" note="received → processed">
      <table className="dash-table">
        <thead>
          <tr>
            <th scope="col">Source</th>
            <th scope="col" className="num">Processed</th>
            <th scope="col" className="num">p50</th>
            <th scope="col" className="num">p95</th>
            <th scope="col" className="num">Max</th>
          </tr>
        </thead>
        <tbody>
          {data.lag.map((lag) => (
            <tr key={lag.source} data-lag={lag.source}>
              <th scope="row">{lag.source === 'ipn' ? 'IPN' : 'Webhook'}</th>
              <td className="num">{countText(lag.processed)}</td>
              <td className="num">{duration(lag.p50Seconds)}</td>
              <td className="num">{duration(lag.p95Seconds)}</td>
              <td className="num">{duration(lag.maxSeconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted dash-small">
        Inbox now: <strong>{countText(data.inbox.backlog)}</strong> waiting{data.inbox.backlog ? `, oldest ${duration(data.inbox.oldestSeconds)}` : ''}.
      </p>
    </ChartCard>
  );
}

/** Open items by kind, the kinds that have any (the queue lists every kind). */
function ReconciliationCard({ data }: { data: Dashboard }) {
  const kinds = (Object.entries(data.reconciliation.counts) as [DiscrepancyKind, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...kinds.map(([, n]) => n));
  return (
    <ChartCard title="Open reconciliation items" note={<a href={reconciliationHref()}>{data.reconciliation.total} open · the queue</a>}>
      {kinds.length ? (
        <ul className="dash-kinds">
          {kinds.map(([kind, n]) => (
            <li key={kind}>
              <a href={reconciliationHref(kind)} data-kind={kind}>
                <span className="dash-kind-label">{KIND_LABELS[kind].title}</span>
                <span className="dash-kind-bar" aria-hidden="true">
                  <span style={{ width: `${(n / max) * 100}%` }} />
                </span>
                <span className="num">{n}</span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted dash-small">Nothing open: every payment agrees with PayPal.</p>
      )}
    </ChartCard>
  );
}

export function DashboardCharts({ data }: { data: Dashboard }) {
  return (
    <div className="dash-charts">
      <RevenueChart data={data} />
      <OrdersChart data={data} />
      <ConversionChart data={data} />
      <OutcomesChart data={data} />
      <div className="dash-stack">
        <NotificationsCard data={data} />
        <ReconciliationCard data={data} />
      </div>
    </div>
  );
}
