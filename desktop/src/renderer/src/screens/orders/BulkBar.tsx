import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { backoffice, type BackofficeOrderRow, type BulkCancelResult } from '@orders/shared';
import { describeError } from '../../api/errors';
import { refreshAfterOrderAction } from '../../api/queries';
import { ReasonDialog } from '../../components/ReasonDialog';
import { useApi } from '../../context';
import { isCancellable } from '../../order-status';
import { hasRole, useStaff } from '../../session';
import { useCsvExport } from './csv-export';

export interface BulkBarProps {
  /** The checked rows, in list order. */
  selected: BackofficeOrderRow[];
  onClear(): void;
}

const SKIP_WORDS: Record<string, string> = { not_found: 'no such order', not_cancellable: 'not cancellable' };

/**
 * What can be done to the checked orders at once: export them as CSV (any role), or cancel the
 * unpaid ones with one reason (operators; each order is cancelled and audited on its own, and the
 * result of each is listed).
 */
export function BulkBar({ selected, onClear }: BulkBarProps) {
  const api = useApi();
  const queryClient = useQueryClient();
  const staff = useStaff();
  const operator = hasRole(staff, 'operator');
  const csv = useCsvExport();
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<BulkCancelResult | null>(null);

  const unpaid = selected.filter((row) => isCancellable(row.status));
  const one = unpaid.length === 1;
  const others = selected.length - unpaid.length;
  const tooMany = selected.length > backoffice.MAX_SELECTED_ORDERS;

  async function cancelUnpaid(reason: string) {
    const outcome = await api.backoffice.bulkCancel.mutate({ orderIds: unpaid.map((row) => row.id), reason });
    setConfirming(false);
    setResult(outcome);
    onClear();
    await refreshAfterOrderAction(queryClient);
  }

  if (selected.length === 0 && !result) return null;

  return (
    <section className="bulk-bar" aria-label="Selected orders">
      {selected.length > 0 ? (
        <div className="bulk-actions">
          <strong>{selected.length} selected</strong>
          <button type="button" className="link-button" onClick={onClear}>
            Clear selection
          </button>
          <span className="bulk-spacer" />
          {tooMany ? <span className="field-error">At most {backoffice.MAX_SELECTED_ORDERS} orders at once</span> : null}
          <button type="button" className="button" disabled={csv.exporting || tooMany} onClick={() => void csv.start({ ids: selected.map((row) => row.id) })}>
            {csv.exporting ? 'Exporting…' : 'Export selected'}
          </button>
          <button
            type="button"
            className="button button-danger-outline"
            disabled={!operator || unpaid.length === 0 || tooMany}
            title={!operator ? 'Requires the operator role' : unpaid.length === 0 ? 'None of the selected orders is unpaid' : undefined}
            onClick={() => setConfirming(true)}
          >
            Cancel selected unpaid…
          </button>
        </div>
      ) : null}

      {result ? (
        <div className="bulk-result" role="status">
          <div className="bulk-result-head">
            <strong>
              Cancelled {result.cancelled} of {result.items.length}
              {result.skipped > 0 ? ` · ${result.skipped} skipped` : ''}
            </strong>
            <button type="button" className="link-button" onClick={() => setResult(null)}>
              Dismiss
            </button>
          </div>
          <ul className="bulk-result-list" aria-label="Bulk cancel results">
            {result.items.map((item) => (
              <li key={item.orderId} data-result={item.result}>
                <span className="mono">{item.number === null ? item.orderId : `#${item.number}`}</span>{' '}
                {item.result === 'cancelled' ? <span className="result-ok">cancelled</span> : <span className="result-skip">skipped — {item.message || SKIP_WORDS[item.code]}</span>}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {confirming ? (
        <ReasonDialog
          title={`Cancel ${unpaid.length} unpaid ${one ? 'order' : 'orders'}`}
          description={
            <p>
              {unpaid.map((row) => `#${row.number}`).join(', ')} will be cancelled and {one ? 'its' : 'their'} stock released; any payment
              started on {one ? 'it' : 'them'} is abandoned.
              {others === 1 ? ' The other order selected (paid or closed) is left as it is.' : ''}
              {others > 1 ? ` The other ${others} selected (paid or closed) are left as they are.` : ''}
            </p>
          }
          confirmLabel={`Cancel ${unpaid.length} ${one ? 'order' : 'orders'}`}
          destructive
          onSubmit={cancelUnpaid}
          onCancel={() => setConfirming(false)}
          describeError={(error) => describeError(error)}
        />
      ) : null}
    </section>
  );
}
