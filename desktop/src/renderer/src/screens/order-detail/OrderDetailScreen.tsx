import { useState } from 'react';
import { describeError } from '../../api/errors';
import { useOrderDetail } from '../../api/queries';
import { ActionDialog, type PendingAction } from '../../components/ActionDialog';
import { ErrorState, Spinner } from '../../components/States';
import { routeHref } from '../../router';
import { AttemptsSection } from './AttemptsSection';
import { AuditSection } from './AuditSection';
import { CustomerSection } from './CustomerSection';
import { EventsSection } from './EventsSection';
import { LinesSection } from './LinesSection';
import { NotesSection } from './NotesSection';
import { OrderHeader } from './OrderHeader';
import { RefundLinesDialog } from './RefundLinesDialog';

/** One order: a header with its actions, then one section each for customer, lines, attempts, notes, events and audit. */
export function OrderDetailScreen({ orderId }: { orderId: string }) {
  const detail = useOrderDetail(orderId);
  const [action, setAction] = useState<PendingAction | null>(null);
  const [refundingLines, setRefundingLines] = useState(false);

  const backLink = (
    <a className="back-link" href={routeHref({ name: 'orders' })}>
      ← Orders
    </a>
  );
  if (detail.isPending) return <Spinner label="Loading order…" />;
  if (detail.isError) {
    return (
      <div className="screen">
        {backLink}
        <ErrorState message={describeError(detail.error, 'load')} onRetry={() => void detail.refetch()} />
      </div>
    );
  }
  const data = detail.data;

  return (
    <div className="screen screen-detail">
      {backLink}
      <OrderHeader order={data.order} attempts={data.attempts} allowedActions={data.allowedActions} role={data.role} onAction={setAction} />
      <div className="detail-grid">
        <CustomerSection order={data.order} customerOrderCount={data.customerOrderCount} />
        <LinesSection
          order={data.order}
          lines={data.lines}
          frozen={data.linesFrozen}
          {...(data.allowedActions.includes('refundLines') ? { onRefundLines: () => setRefundingLines(true) } : {})}
        />
      </div>
      <AttemptsSection
        attempts={data.attempts}
        canResync={data.allowedActions.includes('resync')}
        onResync={(attempt) => setAction({ type: 'resync', attemptId: attempt.id, externalId: attempt.externalId })}
      />
      <NotesSection orderId={data.order.id} notes={data.notes} canAdd={data.allowedActions.includes('note')} />
      <EventsSection events={data.events} />
      <AuditSection entries={data.audit} />
      {action ? <ActionDialog action={action} onClose={() => setAction(null)} /> : null}
      {refundingLines ? <RefundLinesDialog order={data.order} lines={data.lines} onClose={() => setRefundingLines(false)} /> : null}
    </div>
  );
}
