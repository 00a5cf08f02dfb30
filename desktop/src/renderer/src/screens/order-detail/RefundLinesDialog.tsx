import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { BackofficeOrderLine, BackofficeOrderRow, RefundLinesInput } from '@orders/shared';
import { describeError } from '../../api/errors';
import { refreshAfterOrderAction } from '../../api/queries';
import { ReasonDialog } from '../../components/ReasonDialog';
import { useToast } from '../../components/Toasts';
import { useApi } from '../../context';
import { money } from '../../format';
import { refundableQuantity } from './LinesSection';

/**
 * "Refund lines…": a quantity per paid line (at most what is left of it), the amount as the server will
 * compute it (paid unit price × quantity), whether the units go back in stock, and the reason.
 */
export function RefundLinesDialog({ order, lines, onClose }: { order: BackofficeOrderRow; lines: BackofficeOrderLine[]; onClose(): void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const restockId = useId();
  const refundLines = useMutation({
    mutationFn: (input: RefundLinesInput) => api.backoffice.payments.refundLines.mutate(input),
    onSuccess: () => refreshAfterOrderAction(queryClient),
  });
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [restock, setRestock] = useState(true);
  // One key per dialog: a second submit (a retry after a lost answer) never refunds twice.
  const [requestKey] = useState(newRequestKey);

  const { chosen, invalid, amount } = refundSelection(lines, quantities);
  const moneyLeft = order.total - order.refundedAmount;

  return (
    <ReasonDialog
      title="Refund lines through PayPal"
      description={
        <p>
          Choose how many of each paid line to refund; the amount is what was paid for them. At most {money(moneyLeft, order.currency)} of this order can still be
          refunded.
        </p>
      }
      confirmLabel={amount > 0 ? `Refund ${money(amount, order.currency)}` : 'Refund'}
      destructive
      describeError={(error) => describeError(error)}
      validate={() => {
        if (invalid) return `${invalid.line.sku}: choose between 0 and ${refundableQuantity(invalid.line)}.`;
        if (chosen.length === 0) return 'Choose a quantity for at least one line.';
        if (amount > moneyLeft) return `These lines come to ${money(amount, order.currency)}, more than the ${money(moneyLeft, order.currency)} left to refund.`;
        return null;
      }}
      onCancel={onClose}
      onSubmit={async (reason) => {
        const result = await refundLines.mutateAsync({
          orderId: order.id,
          lines: chosen.map(({ line, quantity }) => ({ sku: line.sku, quantity })),
          restock,
          reason,
          requestKey,
        });
        toast.show(
          'success',
          `Refunded ${money(result.amount, result.currency)}${result.restocked ? ', stock put back' : ''}; the order is now ${result.status.replace('_', ' ')}.`,
        );
        onClose();
      }}
    >
      <table className="refund-lines" aria-label="Lines to refund">
        <thead>
          <tr>
            <th>Line</th>
            <th className="num">Paid</th>
            <th className="num">Refund</th>
            <th className="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => {
            const left = refundableQuantity(line);
            const value = quantities[line.sku] ?? '0';
            const quantity = Number(value);
            const bad = !Number.isInteger(quantity) || quantity < 0 || quantity > left;
            return (
              <tr key={line.sku}>
                <td>
                  <span className="mono">{line.sku}</span>
                  <span className="line-note">
                    {line.name} · {money(line.unitPrice, line.currency)} each
                  </span>
                </td>
                <td className="num">
                  {line.quantity}
                  {line.quantity - left > 0 ? <span className="line-note">{line.quantity - left} refunded</span> : null}
                </td>
                <td className="num">
                  <input
                    type="number"
                    className="quantity-input"
                    min={0}
                    max={left}
                    step={1}
                    value={value}
                    disabled={left === 0}
                    aria-label={`Quantity of ${line.sku} to refund (at most ${left})`}
                    aria-invalid={bad}
                    onChange={(event) => setQuantities((current) => ({ ...current, [line.sku]: event.target.value }))}
                  />
                  <span className="line-note">of {left}</span>
                </td>
                <td className="num">{bad || quantity === 0 ? <span className="muted">—</span> : money(line.unitPrice * quantity, line.currency)}</td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <td colSpan={3}>Refund total</td>
            <td className="num" data-testid="refund-lines-amount">
              {invalid ? <span className="muted">—</span> : money(amount, order.currency)}
            </td>
          </tr>
        </tfoot>
      </table>
      <label className="check" htmlFor={restockId}>
        <input id={restockId} type="checkbox" checked={restock} onChange={(event) => setRestock(event.target.checked)} />
        Put the refunded units back in stock
      </label>
    </ReasonDialog>
  );
}

/**
 * The lines chosen (a quantity other than 0), the first whose quantity cannot be refunded (not a whole
 * number, or more than is left of the line), and what the valid choice comes to. While any quantity is
 * invalid there is no total: it showed 9 × the price beside "at most 2 left" (found from outside).
 */
export function refundSelection<L extends BackofficeOrderLine>(lines: readonly L[], quantities: Readonly<Record<string, string>>) {
  const chosen = lines.map((line) => ({ line, quantity: Number(quantities[line.sku] ?? '0') })).filter(({ quantity }) => quantity !== 0);
  const invalid = chosen.find(({ line, quantity }) => !Number.isInteger(quantity) || quantity < 0 || quantity > refundableQuantity(line));
  const amount = invalid ? 0 : chosen.reduce((sum, { line, quantity }) => sum + line.unitPrice * quantity, 0);
  return { chosen, invalid, amount };
}

/** A UUID v4. crypto.randomUUID exists only in secure contexts; a back office opened over plain http on a LAN address is not one. */
function newRequestKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
