import { useEffect, useId, useState } from 'react';
import { DASHBOARD_MAX_DAYS, SUPPORTED_CURRENCIES, dashboardDayCount, type Currency } from '@orders/shared';
import { describeError } from '../../api/errors';
import { useDashboard } from '../../api/queries';
import { ErrorState, Spinner } from '../../components/States';
import { formatRelative } from '../../format';
import { DashboardCharts } from './DashboardCharts';
import { DashboardFigures } from './DashboardFigures';

export const RANGE_PRESETS = [7, 30, 90] as const;

export interface DashboardRange {
  /** A preset's length in days (ending today, UTC), or 'custom' with from/to. */
  preset: (typeof RANGE_PRESETS)[number] | 'custom';
  from: string;
  to: string;
  currency?: Currency;
}

/** Today in UTC, YYYY-MM-DD: the dashboard's days are UTC days. */
export function utcToday(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function presetRange(days: number, now = Date.now()): { from: string; to: string } {
  return { from: utcToday(now - (days - 1) * 86_400_000), to: utcToday(now) };
}

const STORAGE_KEY = 'orders.dashboard.range';

/** The range survives a trip to the orders list and back (this window only), presets moving with the clock. */
function initialRange(): DashboardRange {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as DashboardRange | null;
    if (saved?.preset === 'custom' && saved.from && saved.to) return saved;
    if (saved && RANGE_PRESETS.includes(saved.preset as never)) return { ...saved, ...presetRange(saved.preset as number) };
  } catch {
    // A damaged entry: start from the default.
  }
  return { preset: 7, ...presetRange(7) };
}

function validRange(range: DashboardRange): string | null {
  if (!range.from || !range.to) return 'Choose both days.';
  const days = dashboardDayCount(range.from, range.to);
  if (days < 1) return 'The last day is before the first.';
  if (days > DASHBOARD_MAX_DAYS) return `At most ${DASHBOARD_MAX_DAYS} days.`;
  return null;
}

export function DashboardScreen() {
  const ids = useId();
  const [range, setRange] = useState<DashboardRange>(initialRange);
  const invalid = validRange(range);
  const query = useDashboard({ from: range.from, to: range.to, ...(range.currency ? { currency: range.currency } : {}) }, invalid === null);

  useEffect(() => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(range));
  }, [range]);

  const choosePreset = (days: (typeof RANGE_PRESETS)[number]) => setRange((r) => ({ ...r, preset: days, ...presetRange(days) }));

  return (
    <div className="screen screen-dashboard">
      <div className="screen-header dash-header">
        <div>
          <h1>Dashboard</h1>
          <p className="muted">
            Days are UTC days ({range.from} → {range.to}, UTC).{' '}
            {query.data ? <span title={query.data.generatedAt}>Updated {formatRelative(query.data.generatedAt)}; live.</span> : null}
          </p>
        </div>
        <div className="dash-controls" role="group" aria-label="Date range">
          <div className="segmented">
            {RANGE_PRESETS.map((days) => (
              <button
                key={days}
                type="button"
                className={`segment${range.preset === days ? ' active' : ''}`}
                aria-pressed={range.preset === days}
                onClick={() => choosePreset(days)}
              >
                {days} days
              </button>
            ))}
            <button
              type="button"
              className={`segment${range.preset === 'custom' ? ' active' : ''}`}
              aria-pressed={range.preset === 'custom'}
              onClick={() => setRange((r) => ({ ...r, preset: 'custom' }))}
            >
              Custom
            </button>
          </div>
          {range.preset === 'custom' ? (
            <span className="dash-custom">
              <input
                id={`${ids}-from`}
                type="date"
                aria-label="First day (UTC)"
                value={range.from}
                max={range.to}
                onChange={(event) => setRange((r) => ({ ...r, from: event.target.value }))}
              />
              <span aria-hidden="true">→</span>
              <input
                type="date"
                aria-label="Last day (UTC)"
                value={range.to}
                min={range.from}
                onChange={(event) => setRange((r) => ({ ...r, to: event.target.value }))}
              />
            </span>
          ) : null}
          <select
            aria-label="Currency"
            value={range.currency ?? ''}
            onChange={(event) => {
              const currency = event.target.value as Currency | '';
              setRange(({ currency: _dropped, ...r }) => (currency ? { ...r, currency } : r));
            }}
          >
            <option value="">All currencies</option>
            {SUPPORTED_CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      </div>
      {invalid ? (
        <p className="state state-error" role="alert">
          {invalid}
        </p>
      ) : query.error ? (
        <ErrorState message={describeError(query.error, 'load')} onRetry={() => void query.refetch()} />
      ) : !query.data ? (
        <Spinner label="Loading the dashboard…" />
      ) : (
        <div className={`dash-body${query.isFetching ? ' dash-refreshing' : ''}`} aria-busy={query.isFetching}>
          <DashboardFigures data={query.data} />
          <DashboardCharts data={query.data} />
        </div>
      )}
    </div>
  );
}
