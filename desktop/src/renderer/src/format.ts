import { formatMoney, isSupportedCurrency } from '@orders/shared';

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const exact = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "3 minutes ago", "yesterday", "in 2 hours". */
export function formatRelative(iso: string | Date, now: number = Date.now()): string {
  let value = (new Date(iso).getTime() - now) / 1000;
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) < 10) return 'just now';
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return relative.format(Math.round(value), 'year');
}

/** "23 Nov 2026, 10:57:03" in the user's time zone: the one way an absolute date is written. */
export function formatExact(iso: string | Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return exact.format(date);
}

/** The user's time zone ("Europe/Paris"), named beside absolute times in tooltips. */
export function timeZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Money from the API: known currencies through formatMoney, anything else shown raw. */
export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  if (currency && isSupportedCurrency(currency)) return formatMoney(amount, currency);
  return `${amount} ${currency ?? ''}`.trim();
}

/** The first block of a UUID: enough to tell orders apart at a glance. */
export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

export function humanize(value: string): string {
  const spaced = value.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A JSON value as indented text, for the raw views of the detail screen. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

/** Seconds as people read a delay: "850 ms", "4.2 s", "3.5 min", "2.0 h". */
export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
