import type { AttemptStatus, OrderStatus } from '@orders/shared';
import { STATUS_LABELS } from '../filters';
import { humanize } from '../format';

export function StatusBadge({ status }: { status: OrderStatus }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {STATUS_LABELS[status]}
    </span>
  );
}

const ATTEMPT_TONES: Record<AttemptStatus, string> = {
  created: 'neutral',
  approved: 'info',
  succeeded: 'good',
  failed: 'bad',
  cancelled: 'muted',
  expired: 'muted',
};

export function AttemptBadge({ status }: { status: AttemptStatus }) {
  return <span className={`badge tone-${ATTEMPT_TONES[status]}`}>{humanize(status)}</span>;
}

/** A badge for free-form states (verification, processing, roles): tone picked from the word. */
export function Tag({ value, tone }: { value: string; tone?: 'good' | 'bad' | 'info' | 'neutral' | 'muted' | 'warn' }) {
  return <span className={`badge tone-${tone ?? toneOf(value)}`}>{humanize(value)}</span>;
}

function toneOf(value: string): string {
  if (/^(verified|applied|processed|succeeded|paid|completed|admin|active)$/.test(value)) return 'good';
  if (/(invalid|failed|error|rejected|forged|disabled|mismatch)/.test(value)) return 'bad';
  if (/(pending|queued|flagged|operator)/.test(value)) return 'warn';
  return 'neutral';
}
