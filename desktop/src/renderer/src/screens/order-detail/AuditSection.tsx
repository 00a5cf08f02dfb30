import type { AuditDto } from '@orders/shared';
import { Time } from '../../components/Time';
import { prettyJson } from '../../format';
import { ListSection } from './ListSection';

/** As it arrives over JSON, where the `unknown` before and after become optional. */
export type AuditView = Omit<AuditDto, 'before' | 'after'> & { before?: unknown; after?: unknown };

/** Every change made to the order: who, what, why, and the state before and after. */
export function AuditSection({ entries }: { entries: AuditView[] }) {
  return (
    <ListSection title="Audit trail" count={entries.length} empty="No changes recorded.">
      <table className="audit" aria-label="Audit trail">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Reason</th>
            <th>Change</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>
                <Time value={entry.createdAt} absolute />
              </td>
              <td>{entry.actorLabel ?? (entry.actorId ? `${entry.actorType} ${entry.actorId.slice(0, 8)}` : entry.actorType)}</td>
              <td>
                <span className="mono">{entry.action}</span>
              </td>
              <td className="reason">{entry.reason ?? <span className="muted">—</span>}</td>
              <td>
                {entry.before != null || entry.after != null ? (
                  <details>
                    <summary>{summarizeChange(entry)}</summary>
                    <pre className="raw">{prettyJson({ before: entry.before, after: entry.after })}</pre>
                  </details>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ListSection>
  );
}

/** `pending → paid` when the entry changed a status; otherwise what it set, or just "details". */
function summarizeChange(entry: AuditView): string {
  const status = (value: unknown) => (value && typeof value === 'object' && 'status' in value ? String((value as { status: unknown }).status) : null);
  const from = status(entry.before);
  const to = status(entry.after);
  if (from && to && from !== to) return `${from} → ${to}`;
  if (to) return to;
  return 'details';
}
