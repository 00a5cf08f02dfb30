import type { BackofficeOrderLine, BackofficeOrderRow } from '@orders/shared';
import { money } from '../../format';

/** Units of a paid line that a line refund may still take: neither refunded nor held by a refund waiting for PayPal. */
export const refundableQuantity = (line: BackofficeOrderLine) => Math.max(0, line.quantity - line.refundedQuantity - line.pendingRefundQuantity);

/**
 * What was ordered: the snapshot frozen when paid, or the cart's lines until then; once paid, what line
 * refunds gave back of each line, and (with the right) the way to refund chosen lines.
 */
export function LinesSection({
  order,
  lines,
  frozen,
  onRefundLines,
}: {
  order: BackofficeOrderRow;
  lines: BackofficeOrderLine[];
  frozen: boolean;
  /** Present when the caller may refund lines of this order now. */
  onRefundLines?: () => void;
}) {
  const anyRefundState = lines.some((line) => line.refundedQuantity > 0 || line.pendingRefundQuantity > 0);
  const refundable = frozen && lines.some((line) => refundableQuantity(line) > 0);
  return (
    <section className="card" aria-label="Lines">
      <h2>
        Lines <span className="subtle">{frozen ? '(frozen when paid)' : '(from the cart; frozen once paid)'}</span>
        <span className="spacer" />
        {onRefundLines && refundable ? (
          <button type="button" className="button small" onClick={onRefundLines}>
            Refund lines…
          </button>
        ) : null}
      </h2>
      {lines.length === 0 ? (
        <p className="muted">No lines.</p>
      ) : (
        <table className="lines">
          <thead>
            <tr>
              <th>SKU</th>
              <th>Product</th>
              <th className="num">Unit price</th>
              <th className="num">Qty</th>
              <th className="num">Line total</th>
              {frozen ? <th className="num">Refunded</th> : null}
            </tr>
          </thead>
          <tbody>
            {lines.map((line) => (
              <tr key={line.sku} data-sku={line.sku}>
                <td className="mono">{line.sku}</td>
                <td>{line.name}</td>
                <td className="num">{money(line.unitPrice, line.currency)}</td>
                <td className="num">{line.quantity}</td>
                <td className="num">{money(line.lineTotal, line.currency)}</td>
                {frozen ? (
                  <td className="num line-refund-state">
                    <LineRefundState line={line} />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={4}>Total</td>
              <td className="num">{money(order.total, order.currency)}</td>
              {frozen ? <td className="num">{anyRefundState ? money(lines.reduce((sum, line) => sum + line.refundedAmount, 0), order.currency) : null}</td> : null}
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  );
}

function LineRefundState({ line }: { line: BackofficeOrderLine }) {
  if (line.refundedQuantity === 0 && line.pendingRefundQuantity === 0) return <span className="muted">—</span>;
  return (
    <>
      {line.refundedQuantity > 0 ? (
        <span className="line-refunded">
          {line.refundedQuantity === line.quantity ? 'all' : `${line.refundedQuantity} of ${line.quantity}`} · {money(line.refundedAmount, line.currency)}
        </span>
      ) : null}
      {line.restockedQuantity > 0 ? <span className="line-note">{line.restockedQuantity} back in stock</span> : null}
      {line.pendingRefundQuantity > 0 ? <span className="line-note tone-warn">{line.pendingRefundQuantity} waiting for PayPal</span> : null}
    </>
  );
}
