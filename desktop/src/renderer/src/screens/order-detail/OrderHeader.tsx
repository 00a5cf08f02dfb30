import type { AttemptDto, BackofficeOrderRow } from '@orders/shared';
import type { PendingAction } from '../../components/ActionDialog';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { humanize, money } from '../../format';
import { isCancellable, isRefundable } from '../../order-status';
import { hasRole, useStaff } from '../../session';

function ActionButton(props: { label: string; allowed: boolean; why: string; disabledReason?: string | null; onClick(): void; danger?: boolean }) {
  const blocked = !props.allowed ? props.why : (props.disabledReason ?? null);
  return (
    <button type="button" className={`button${props.danger ? ' button-danger-outline' : ''}`} disabled={blocked !== null} title={blocked ?? undefined} onClick={props.onClick}>
      {props.label}
    </button>
  );
}

/** The order's id, status and amounts, and the staff actions on it (each greyed out with the reason when not allowed). */
export function OrderHeader({ order, attempts, onAction }: { order: BackofficeOrderRow; attempts: AttemptDto[]; onAction(action: PendingAction): void }) {
  const staff = useStaff();
  const operator = hasRole(staff, 'operator');
  const admin = hasRole(staff, 'admin');
  const latestWithPaypal = [...attempts].reverse().find((attempt) => attempt.externalId);
  const remaining = order.total - order.refundedAmount;
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
          allowed={operator}
          why="Requires the operator role"
          disabledReason={latestWithPaypal ? null : 'No PayPal payment to re-sync'}
          onClick={() => latestWithPaypal && onAction({ type: 'resync', attemptId: latestWithPaypal.id, externalId: latestWithPaypal.externalId })}
        />
        <ActionButton
          label="Cancel order…"
          allowed={operator}
          why="Requires the operator role"
          disabledReason={isCancellable(order.status) ? null : `A ${humanize(order.status).toLowerCase()} order cannot be cancelled`}
          danger
          onClick={() => onAction({ type: 'cancel', orderId: order.id })}
        />
        <ActionButton
          label="Refund…"
          allowed={admin}
          why="Refunds require the admin role"
          disabledReason={isRefundable(order.status) && remaining > 0 ? null : 'Only paid orders can be refunded'}
          danger
          onClick={() => onAction({ type: 'refund', orderId: order.id, total: order.total, refundedAmount: order.refundedAmount, currency: order.currency })}
        />
      </div>
    </header>
  );
}
