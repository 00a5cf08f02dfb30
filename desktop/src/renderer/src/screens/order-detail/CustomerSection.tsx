import { CUSTOMER_TYPE_LABELS, paymentStatusLabel, type BackofficeOrderRow } from '@orders/shared';
import { Time } from '../../components/Time';
import { orderQueryString } from '../../filters';
import { navigate } from '../../router';

/** Who ordered (and how many other orders they have), and what PayPal knows of the payment. */
export function CustomerSection({ order, customerOrderCount }: { order: BackofficeOrderRow; customerOrderCount: number }) {
  return (
    <section className="card">
      <h2>Customer & payment</h2>
      <dl className="facts">
        <dt>Customer</dt>
        <dd>
          {order.customerName || order.customerEmail ? (
            <div className="customer-display">
              {order.customerName ? <strong className="selectable">{order.customerName}</strong> : null}
              {order.customerName && order.customerEmail ? ' · ' : null}
              {order.customerEmail ? <span className="selectable">{order.customerEmail}</span> : null}
            </div>
          ) : null}
          <span className={`customer-type customer-${order.customer.type}`}>{CUSTOMER_TYPE_LABELS[order.customer.type]}</span> <span className="selectable">{order.customer.id}</span>
          <div className="subtle">
            {customerOrderCount === 0 ? (
              'No other orders'
            ) : (
              <>
                {customerOrderCount} other order{customerOrderCount === 1 ? '' : 's'} —{' '}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => navigate({ name: 'orders' }, orderQueryString({ status: [], customerType: order.customer.type, customerId: order.customer.id }))}
                >
                  show all
                </button>
              </>
            )}
          </div>
        </dd>
        <dt>Payer</dt>
        <dd>
          {order.payerName || order.payerEmail ? (
            <>
              {order.payerName ? <span className="selectable">{order.payerName}</span> : null}
              {order.payerName && order.payerEmail ? ' · ' : null}
              {order.payerEmail ? <span className="selectable">{order.payerEmail}</span> : null}
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </dd>
        <dt>PayPal payment</dt>
        <dd>
          <PaypalId value={order.externalId} />
        </dd>
        <dt>Sale id</dt>
        <dd>
          <PaypalId value={order.paymentTransactionId} />
        </dd>
        <dt>Payment status</dt>
        <dd>{paymentStatusLabel(order) ?? <span className="muted">—</span>}</dd>
        <dt>Updated</dt>
        <dd>
          <Time value={order.updatedAt} absolute />
        </dd>
      </dl>
    </section>
  );
}

/** A PayPal id in monospace, to copy; absent, the same dash as every other empty field (not a monospace one). */
function PaypalId({ value }: { value: string | null }) {
  return value ? <span className="mono selectable">{value}</span> : <span className="muted">—</span>;
}
