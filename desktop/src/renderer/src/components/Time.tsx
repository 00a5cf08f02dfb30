import { useEffect, useState } from 'react';
import { formatExact, formatRelative, timeZoneName } from '../format';

const listeners = new Set<() => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

/** One shared 30-second tick for every relative time on screen. */
function useMinuteTick(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const update = () => setNow(Date.now());
    listeners.add(update);
    ticker ??= setInterval(() => listeners.forEach((listener) => listener()), 30_000);
    return () => {
      listeners.delete(update);
      if (listeners.size === 0) {
        clearInterval(ticker);
        ticker = undefined;
      }
    };
  }, []);
  return now;
}

/**
 * A moment, relative ("5 minutes ago") with the absolute date and time (and zone) as its tooltip, or
 * with `absolute` the other way round: lists scan by recency, a detail page is read for the date.
 */
export function Time({ value, className, absolute }: { value: string | Date | null | undefined; className?: string; absolute?: boolean }) {
  const now = useMinuteTick();
  const date = value ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) return <span className={className}>—</span>;
  const iso = date.toISOString();
  const exact = `${formatExact(date)} (${timeZoneName()})`;
  const relative = formatRelative(date, now);
  return (
    <time dateTime={iso} title={absolute ? `${relative} · ${iso}` : exact} className={className}>
      {absolute ? formatExact(date) : relative}
    </time>
  );
}
