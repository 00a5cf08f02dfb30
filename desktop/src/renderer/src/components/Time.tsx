import { useEffect, useState } from 'react';
import { formatExact, formatRelative } from '../format';

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

/** "5 minutes ago", with the exact time (and zone) as its tooltip. */
export function Time({ value, className }: { value: string | Date | null | undefined; className?: string }) {
  const now = useMinuteTick();
  const date = value ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) return <span className={className}>—</span>;
  const iso = date.toISOString();
  return (
    <time dateTime={iso} title={formatExact(date)} className={className}>
      {formatRelative(date, now)}
    </time>
  );
}
