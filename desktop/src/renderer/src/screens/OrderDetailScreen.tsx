import { useState } from 'react';
import type { AttemptDto, AuditDto, PaymentEventDto } from '@orders/shared';
import { describeError } from '../api/errors';
import { useOrderDetail } from '../api/queries';
import { ActionDialog, type PendingAction } from '../components/ActionDialog';
import { ErrorState, Spinner } from '../components/States';
import { AttemptBadge, StatusBadge, Tag } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { humanize, money } from '../format';
import { orderQueryString } from '../filters';
import { navigate, routeHref } from '../router';
import { hasRole, useStaff } from '../session';

const CANCELLABLE = new Set(['pending', 'failed']);
const REFUNDABLE = new Set(['paid', 'partially_refunded']);

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

function ActionButton(props: { label: string; allowed: boolean; why: string; disabledReason?: string | null; onClick(): void; danger?: boolean }) {
  const blocked = !props.allowed ? props.why : (props.disabledReason ?? null);
  return (
    <button type="button" className={`button${props.danger ? ' button-danger-outline' : ''}`} disabled={blocked !== null} title={blocked ?? undefined} onClick={props.onClick}>
      {props.label}
    </button>
  );
}

export function OrderDetailScreen({ orderId }: { orderId: string }) {
  const detail = useOrderDetail(orderId);
  const staff = useStaff();
  const [action, setAction] = useState<PendingAction | null>(null);

  if (detail.isPending) return <Spinner label="Loading order…" />;
  if (detail.isError) {
    return (
      <div className="screen">
        <a className="back-link" href={routeHref({ name: 'orders' })}>
          ← Orders
        </a>
        <ErrorState message={describeError(detail.error, 'load')} onRetry={() => void detail.refetch()} />
      </div>
    );
  }
  const data = detail.data;
  const { order } = data;
  const operator = hasRole(staff, 'operator');
  const admin = hasRole(staff, 'admin');
  const latestWithPaypal = [...data.attempts].reverse().find((attempt) => attempt.externalId);
  const remaining = order.total - order.refundedAmount;

  return (
    <div className="screen screen-detail">
      <a className="back-link" href={routeHref({ name: 'orders' })}>
        ← Orders
      </a>
      <header className="detail-header">
        <div className="detail-title">
          <h1>
            Order <span className="mono selectable">{order.id}</span>
          </h1>
          <div className="detail-meta">
            <StatusBadge status={order.status} />
            <span className="money big">{money(order.total, order.currency)}</span>
            {order.refundedAmount > 0 ? <span className="refunded">{money(order.refundedAmount, order.currency)} refunded</span> : null}
            <span className="subtle">
              created <Time value={order.createdAt} />
              {order.paidAt ? (
                <>
                  {' '}
                  · paid <Time value={order.paidAt} />
                </>
              ) : null}
            </span>
          </div>
        </div>
        <div className="header-actions" aria-label="Actions">
          <ActionButton
            label="Re-sync from PayPal"
            allowed={operator}
            why="Requires the operator role"
            disabledReason={latestWithPaypal ? null : 'No PayPal payment to re-sync'}
            onClick={() => latestWithPaypal && setAction({ type: 'resync', attemptId: latestWithPaypal.id, externalId: latestWithPaypal.externalId })}
          />
          <ActionButton
            label="Cancel order…"
            allowed={operator}
            why="Requires the operator role"
            disabledReason={CANCELLABLE.has(order.status) ? null : `A ${humanize(order.status).toLowerCase()} order cannot be cancelled`}
            danger
            onClick={() => setAction({ type: 'cancel', orderId: order.id })}
          />
          <ActionButton
            label="Refund…"
            allowed={admin}
            why="Refunds require the admin role"
            disabledReason={REFUNDABLE.has(order.status) && remaining > 0 ? null : 'Only paid orders can be refunded'}
            danger
            onClick={() => setAction({ type: 'refund', orderId: order.id, total: order.total, refundedAmount: order.refundedAmount, currency: order.currency })}
          />
        </div>
      </header>

      <div className="detail-grid">
        <section className="card">
          <h2>Customer & payment</h2>
          <dl className="facts">
            <dt>Customer</dt>
            <dd>
              <span className={`customer-type customer-${order.customer.type}`}>{order.customer.type}</span> <span className="selectable">{order.customer.id}</span>
              <div className="subtle">
                {data.customerOrderCount} other order{data.customerOrderCount === 1 ? '' : 's'} —{' '}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => navigate({ name: 'orders' }, orderQueryString({ status: [], customerType: order.customer.type, customerId: order.customer.id }))}
                >
                  show all
                </button>
              </div>
            </dd>
            <dt>Payer</dt>
            <dd>{order.payerEmail ?? <span className="muted">—</span>}</dd>
            <dt>PayPal payment</dt>
            <dd className="mono selectable">{order.externalId ?? <span className="muted">—</span>}</dd>
            <dt>Sale id</dt>
            <dd className="mono selectable">{order.paymentTransactionId ?? <span className="muted">—</span>}</dd>
            <dt>Payment status</dt>
            <dd>{order.paymentStatus ?? <span className="muted">—</span>}</dd>
            <dt>Updated</dt>
            <dd>
              <Time value={order.updatedAt} />
            </dd>
          </dl>
        </section>

        <section className="card">
          <h2>
            Lines{' '}
            <span className="subtle">{data.linesFrozen ? '(frozen when paid)' : '(from the cart; frozen once paid)'}</span>
          </h2>
          {data.lines.length === 0 ? (
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
                {data.lines.map((line) => (
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
      </div>

      <section className="card">
        <h2>
          Payment attempts <span className="count">{data.attempts.length}</span>
        </h2>
        {data.attempts.length === 0 ? (
          <p className="muted">No payment attempt yet.</p>
        ) : (
          <ol className="timeline" aria-label="Payment attempts">
            {data.attempts.map((attempt) => (
              <AttemptItem
                key={attempt.id}
                attempt={attempt}
                canResync={operator}
                onResync={() => setAction({ type: 'resync', attemptId: attempt.id, externalId: attempt.externalId })}
              />
            ))}
          </ol>
        )}
      </section>

      <section className="card">
        <h2>
          Payment events <span className="count">{data.events.length}</span>
        </h2>
        {data.events.length === 0 ? (
          <p className="muted">Nothing received from PayPal for this order.</p>
        ) : (
          <ol className="events" aria-label="Payment events">
            {data.events.map((event) => (
              <EventItem key={event.id} event={event} />
            ))}
          </ol>
        )}
      </section>

      <section className="card">
        <h2>
          Audit trail <span className="count">{data.audit.length}</span>
        </h2>
        {data.audit.length === 0 ? <p className="muted">No changes recorded.</p> : <AuditTable entries={data.audit} />}
      </section>

      {action ? <ActionDialog action={action} onClose={() => setAction(null)} /> : null}
    </div>
  );
}

function AttemptItem({ attempt, canResync, onResync }: { attempt: AttemptDto; canResync: boolean; onResync(): void }) {
  return (
    <li className={`timeline-item attempt-${attempt.status}`} data-attempt-id={attempt.id}>
      <div className="timeline-head">
        <AttemptBadge status={attempt.status} />
        <span className="mono selectable">{attempt.externalId ?? 'not sent to PayPal'}</span>
        <span className="money">{money(attempt.amount, attempt.currency)}</span>
        <span className="subtle">
          <Time value={attempt.createdAt} />
        </span>
        {attempt.externalId ? (
          <button type="button" className="link-button" disabled={!canResync} title={canResync ? undefined : 'Requires the operator role'} onClick={onResync}>
            Re-sync
          </button>
        ) : null}
      </div>
      <dl className="facts compact">
        {attempt.saleId ? (
          <>
            <dt>Sale</dt>
            <dd className="mono selectable">
              {attempt.saleId} {attempt.saleState ? <span className="subtle">({attempt.saleState})</span> : null}
            </dd>
          </>
        ) : null}
        {attempt.payerEmail ? (
          <>
            <dt>Payer</dt>
            <dd>{attempt.payerEmail}</dd>
          </>
        ) : null}
        {attempt.failureReason ? (
          <>
            <dt>Failure</dt>
            <dd className="text-bad">{attempt.failureReason}</dd>
          </>
        ) : null}
        {attempt.succeededAt ? (
          <>
            <dt>Succeeded</dt>
            <dd>
              <Time value={attempt.succeededAt} />
            </dd>
          </>
        ) : null}
        <dt>Last change</dt>
        <dd>
          <Time value={attempt.updatedAt} />
        </dd>
      </dl>
    </li>
  );
}

/** Where a payment event came from, in the words staff use. */
const SOURCE_LABELS: Record<string, string> = {
  ipn: 'IPN',
  provider: 'PayPal API',
  return: 'Buyer return',
  cancel: 'Buyer cancel',
  update_attempt: 'Reported by service',
  resync: 'Re-sync',
};

/** As they arrive over JSON, where `unknown` fields become optional. */
type EventView = Omit<PaymentEventDto, 'payload'> & { payload?: unknown };
type AuditView = Omit<AuditDto, 'before' | 'after'> & { before?: unknown; after?: unknown };

function EventItem({ event }: { event: EventView }) {
  return (
    <li className="event" data-event-id={event.id}>
      <div className="event-head">
        <span className="badge tone-info">{SOURCE_LABELS[event.source] ?? humanize(event.source)}</span>
        <strong>{event.providerStatus ?? humanize(event.source)}</strong>
        {event.amount !== null ? <span className="money">{money(event.amount, event.currency)}</span> : null}
        {event.txnId ? <span className="mono subtle">txn {event.txnId}</span> : null}
        {event.parentTxnId ? <span className="mono subtle">parent {event.parentTxnId}</span> : null}
        <span className="spacer" />
        {event.verification !== 'not_applicable' ? <Tag value={event.verification} /> : null}
        <Tag value={event.processing} />
        <span className="subtle">
          <Time value={event.createdAt} />
        </span>
      </div>
      {event.outcome ? <p className="event-outcome">{event.outcome}</p> : null}
      {event.raw !== null ? (
        <>
          <div className="field-label">{event.source === 'ipn' ? 'Raw IPN' : 'Raw message'}, exactly as received</div>
          <pre className="raw" data-testid="raw-event">
            {event.raw}
          </pre>
        </>
      ) : null}
      {event.payload !== null && event.payload !== undefined ? (
        <details>
          <summary>Parsed</summary>
          <pre className="raw">{json(event.payload)}</pre>
        </details>
      ) : null}
    </li>
  );
}

function AuditTable({ entries }: { entries: AuditView[] }) {
  return (
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
              <Time value={entry.createdAt} />
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
                  <pre className="raw">{json({ before: entry.before, after: entry.after })}</pre>
                </details>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function summarizeChange(entry: AuditView): string {
  const status = (value: unknown) => (value && typeof value === 'object' && 'status' in value ? String((value as { status: unknown }).status) : null);
  const from = status(entry.before);
  const to = status(entry.after);
  if (from && to && from !== to) return `${from} → ${to}`;
  if (to) return to;
  return 'details';
}
