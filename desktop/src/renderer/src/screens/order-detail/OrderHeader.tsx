import { ORDER_STATUS_LABELS, type AttemptDto, type BackofficeOrderRow, type OrderAction, type StaffRole } from '@orders/shared';
import type { PendingAction } from '../../components/ActionDialog';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { money } from '../../format';

function ActionButton(props: { label: string; allowed: boolean; why: string; onClick(): void; danger?: boolean }) {
  return (
    <button
      type="button"
      className={`button${props.danger ? ' button-danger-outline' : ''}`}
      disabled={!props.allowed}
      title={props.allowed ? undefined : props.why}
      onClick={props.onClick}
    >
      {props.label}
    </button>
  );
}

/**
 * The order's number, status and amounts, and the staff actions on it. Which actions are open comes
 * from the server (`allowedActions`, computed by the rules that enforce them for this order and the
 * caller's role): nothing here re-decides them. A closed one stays visible, greyed out, saying why.
 */
export function OrderHeader({
  order,
  attempts,
  allowedActions,
  role,
  onAction,
}: {
  order: BackofficeOrderRow;
  attempts: AttemptDto[];
  allowedActions: readonly OrderAction[];
  role: StaffRole;
  onAction(action: PendingAction): void;
}) {
  const may = (action: OrderAction) => allowedActions.includes(action);
  const status = ORDER_STATUS_LABELS[order.status];
  const notNow = `Not available for a ${status} order with your ${role} role`;
  const latestWithPaypal = [...attempts].reverse().find((attempt) => attempt.externalId);
  return (
    <header className="detail-header">
      <div className="detail-title">
        <h1>
          Order <span className="mono selectable order-number">#{order.number}</span>{' '}
          <span className="mono selectable subtle order-id" title="The order's id, for services and PayPal">
            {order.id}
          </span>
        </h1>
        <div className="detail-meta">
          <StatusBadge status={order.status} />
          <span className="money big">{money(order.total, order.currency)}</span>
          {order.refundedAmount > 0 ? <span className="refunded">{money(order.refundedAmount, order.currency)} refunded</span> : null}
          <span className="subtle">
            created <Time value={order.createdAt} absolute />
            {order.paidAt ? (
              <>
                {' '}
                · paid <Time value={order.paidAt} absolute />
              </>
            ) : null}
          </span>
        </div>
      </div>
      <div className="header-actions" aria-label="Actions">
        <ActionButton
          label="Re-sync from PayPal"
          allowed={may('resync') && latestWithPaypal !== undefined}
          why={may('resync') ? 'No PayPal payment to re-sync' : notNow}
          onClick={() => latestWithPaypal && onAction({ type: 'resync', attemptId: latestWithPaypal.id, externalId: latestWithPaypal.externalId })}
        />
        <ActionButton
          label="Cancel order…"
          allowed={may('cancel')}
          why={notNow}
          danger
          onClick={() => onAction({ type: 'cancel', orderId: order.id })}
        />
        <ActionButton
          label="Refund…"
          allowed={may('refund')}
          why={notNow}
          danger
          onClick={() => onAction({ type: 'refund', orderId: order.id, total: order.total, refundedAmount: order.refundedAmount, currency: order.currency })}
        />
      </div>
    </header>
  );
}
