import type { BackofficeOrderRow, OrderLineDto } from '@orders/shared';
import { money } from '../../format';

/** What was ordered: the snapshot frozen when paid, or the cart's lines until then. */
export function LinesSection({ order, lines, frozen }: { order: BackofficeOrderRow; lines: OrderLineDto[]; frozen: boolean }) {
  return (
    <section className="card">
      <h2>
        Lines <span className="subtle">{frozen ? '(frozen when paid)' : '(from the cart; frozen once paid)'}</span>
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
            </tr>
          </thead>
          <tbody>
            {lines.map((line) => (
              <tr key={line.sku}>
                <td className="mono">{line.sku}</td>
                <td>{line.name}</td>
                <td className="num">{money(line.unitPrice, line.currency)}</td>
                <td className="num">{line.quantity}</td>
                <td className="num">{money(line.lineTotal, line.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={4}>Total</td>
              <td className="num">{money(order.total, order.currency)}</td>
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  );
}
