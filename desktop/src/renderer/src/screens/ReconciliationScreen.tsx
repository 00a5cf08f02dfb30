import { useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { backoffice, isSupportedCurrency, type Discrepancy, type DiscrepancyAction, type DiscrepancyKind } from '@orders/shared';
import { describeError } from '../api/errors';
import { useDiscrepancies, useOrderDetail, useReconciliationSummary } from '../api/queries';
import { ActionDialog, type PendingAction } from '../components/ActionDialog';
import { EmptyState, ErrorState, Spinner } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { money, shortId } from '../format';
import { routeHref } from '../router';

/** `title` names the list, `one` a single item where it differs from the title. */
export const KIND_LABELS: Record<DiscrepancyKind, { title: string; one?: string; explain: string }> = {
  paid_at_paypal_not_paid: {
    title: 'Paid at PayPal, not here',
    explain: 'PayPal captured the money but the order is not paid (or was cancelled). Re-sync, or refund the payment.',
  },
  amount_mismatch: { title: 'Amount or currency mismatch', one: 'Amount mismatch', explain: 'PayPal (or a service) reported a different amount or currency than the attempt expected.' },
  multiple_successes: {
    title: 'Paid more than once',
    explain: 'A second payment was captured for an order that was already paid, and it has not been given back yet. Refund the duplicate.',
  },
  duplicate_refunded: {
    title: 'Duplicate payment refunded',
    explain: 'A second payment for an already paid order was refunded to the buyer in full. Nothing is owed; mark it resolved once noted.',
  },
  paid_without_paypal_sale: {
    title: 'Paid without a PayPal sale',
    explain: 'A service marked the order paid (processOrderToPaid or updateAttempt) but PayPal has not confirmed a captured sale for it. Check with the service, or re-sync.',
  },
  stuck_attempt: { title: 'Stuck attempts', one: 'Stuck attempt', explain: 'Attempts still created/approved long after they began. Re-sync to learn what happened.' },
  unmatched_ipn: { title: 'Unmatched notifications', one: 'Unmatched notification', explain: 'Verified notifications (IPNs and webhooks) that match no payment attempt.' },
  parked_movement: {
    title: 'Refunds waiting for their sale',
    one: 'Refund waiting for its sale',
    explain: 'PayPal told us about a refund, chargeback or cancelled chargeback for a sale it has not confirmed to us. It applies by itself when the sale arrives; re-sync the order if you know which it is.',
  },
  unreadable_amount: { title: 'Unreadable amounts', one: 'Unreadable amount', explain: 'A PayPal message whose amount is malformed or beyond what PayPal can send. Check it in PayPal, then resolve.' },
  conflicting_sale: {
    title: 'Conflicting sales',
    one: 'Conflicting sale',
    explain: 'PayPal named a sale for a payment that already has another one, or a sale that belongs to another payment. Re-sync both payments.',
  },
  unexpected_state: { title: 'Unexpected PayPal state', one: 'Unexpected state', explain: 'PayPal reported something the payment cannot do now, such as a failure after success. Re-sync to see what PayPal holds.' },
  refund_exceeds_total: {
    title: 'Refunds beyond the payment',
    explain: 'Refunds and chargebacks that would exceed what the sale captured were not applied. Compare with PayPal’s activity.',
  },
  no_open_reversal: {
    title: 'Cancelled chargeback without a chargeback',
    explain: 'PayPal cancelled a chargeback (Canceled_Reversal) that we have no open chargeback for; it was not applied. Compare with PayPal’s activity.',
  },
  receiver_mismatch: { title: 'For another merchant', explain: 'Verified messages addressed to a different PayPal account than ours: nothing was applied.' },
  signature_invalid: { title: 'Unsigned webhooks', one: 'Unsigned webhook', explain: 'Webhooks PayPal did not vouch for (forged, altered or for another webhook): nothing was applied.' },
  dispute_opened: {
    title: 'Disputes',
    one: 'Dispute',
    explain: 'PayPal opened a case on a sale (a dispute, a chargeback or a complaint), or moved one to a further stage (an inquiry escalated to a claim): each stage is listed once. Answer it in PayPal before its deadline; a chargeback’s money arrives here on its own. Resolve with what you did.',
  },
};

/** A single discrepancy of this kind, as its badge names it. */
export function kindLabel(kind: DiscrepancyKind): string {
  return KIND_LABELS[kind].one ?? KIND_LABELS[kind].title;
}

/**
 * Which ends of a row that scrolls sideways hide part of it: 'left', 'right', 'left right' or ''.
 * Its scrollbar is not always drawn (thin, overlay), so the stylesheet fades the ends that hide more.
 */
function useHiddenEnds(ref: RefObject<HTMLElement | null>): string {
  const [ends, setEnds] = useState('');
  useEffect(() => {
    const row = ref.current;
    if (!row) return;
    const measure = () => {
      // A pixel of slack: scroll offsets are fractional under zoom.
      const left = row.scrollLeft > 1;
      const right = row.scrollLeft + row.clientWidth < row.scrollWidth - 1;
      setEnds([left ? 'left' : '', right ? 'right' : ''].filter(Boolean).join(' '));
    };
    measure();
    row.addEventListener('scroll', measure, { passive: true });
    // The window's width changes the row's, a count arriving changes its items'.
    const observer = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(measure);
    for (const box of [row, ...row.children]) observer?.observe(box);
    return () => {
      row.removeEventListener('scroll', measure);
      observer?.disconnect();
    };
  }, [ref]);
  return ends;
}

/**
 * Scrolls a row that scrolls sideways so `item` shows whole, clear of the faded ends (the row's scroll
 * padding). Sideways only: the page itself does not move. Chromium's own scrolling on focus leaves an
 * item that shows in part where it is, under the fade.
 */
function scrollClearOfEnds(row: HTMLElement, item: Element): void {
  if (row.scrollWidth <= row.clientWidth) return;
  const clear = Number.parseFloat(getComputedStyle(row).scrollPaddingLeft) || 0;
  const box = row.getBoundingClientRect();
  const shown = item.getBoundingClientRect();
  if (shown.left < box.left + clear) row.scrollLeft -= box.left + clear - shown.left;
  else if (shown.right > box.right - clear) row.scrollLeft += shown.right - (box.right - clear);
}

export function ReconciliationScreen({ kind }: { kind?: DiscrepancyKind }) {
  const summary = useReconciliationSummary();
  const list = useDiscrepancies(kind);
  const [action, setAction] = useState<PendingAction | null>(null);
  const [refunding, setRefunding] = useState<RefundFromItem | null>(null);
  const items = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const kindsRef = useRef<HTMLDivElement>(null);
  const hiddenEnds = useHiddenEnds(kindsRef);

  // Below 1100 px the kinds are one row that scrolls sideways: keep the chosen one in view (after a
  // reload or a link too), as the focused one (onFocus below).
  useEffect(() => {
    const row = kindsRef.current;
    const selected = row?.querySelector('.recon-kind.selected');
    if (row && selected) scrollClearOfEnds(row, selected);
  }, [kind]);

  return (
    <div className="screen screen-reconciliation">
      <header className="screen-header">
        <div>
          <h1>Reconciliation</h1>
          <p className="subtle">Every place where our records and PayPal's disagree. Each action is recorded in the order's audit trail.</p>
        </div>
      </header>
      <div className="recon-layout">
        <nav className="recon-kinds" aria-label="Discrepancy kinds">
          <div
            className="recon-kinds-row"
            ref={kindsRef}
            data-hidden-ends={hiddenEnds || undefined}
            onFocus={(event) => scrollClearOfEnds(event.currentTarget, event.target)}
          >
            <a href={routeHref({ name: 'reconciliation' })} className={`recon-kind${kind ? '' : ' selected'}`} aria-current={kind ? undefined : 'page'}>
              <span>All open</span>
              <span className="count">{summary.data?.total ?? '…'}</span>
            </a>
            {backoffice.DISCREPANCY_KINDS.map((k) => {
              const count = summary.data?.counts[k];
              return (
                <a
                  key={k}
                  href={routeHref({ name: 'reconciliation', kind: k })}
                  className={`recon-kind${kind === k ? ' selected' : ''}${count ? ' has-items' : ''}`}
                  aria-current={kind === k ? 'page' : undefined}
                  data-kind={k}
                >
                  <span>{KIND_LABELS[k].title}</span>
                  <span className="count">{count ?? '…'}</span>
                </a>
              );
            })}
          </div>
        </nav>
        <section className="recon-list" aria-label="Discrepancies">
          {kind ? <p className="explain">{KIND_LABELS[kind].explain}</p> : null}
          {list.isPending ? (
            <Spinner label="Loading discrepancies…" />
          ) : list.isError ? (
            <ErrorState message={describeError(list.error, 'load')} onRetry={() => void list.refetch()} />
          ) : items.length === 0 ? (
            <EmptyState title="Nothing to reconcile">
              <span>{kind ? 'No open discrepancies of this kind.' : 'Our records and PayPal agree.'}</span>
            </EmptyState>
          ) : (
            <ul className="discrepancies">
              {items.map((item) => (
                <DiscrepancyItem key={item.id} item={item} onAction={setAction} onRefund={setRefunding} />
              ))}
            </ul>
          )}
          {list.hasNextPage ? (
            <button type="button" className="button load-more" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
              {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </section>
      </div>
      {action ? <ActionDialog action={action} onClose={() => setAction(null)} /> : null}
      {refunding ? <ItemRefundDialog refund={refunding} onClose={() => setRefunding(null)} /> : null}
    </div>
  );
}

/** A refund of an item's order, starting from the item's own amount. */
interface RefundFromItem {
  orderId: string;
  amount: number;
  currency: string;
}

/**
 * The order's refund dialog, its amount field pre-filled with the item's amount (e.g. what PayPal
 * reported in a mismatch), which staff can change. The bound is what the order has left to refund,
 * which the item does not carry: the order is loaded first.
 */
function ItemRefundDialog({ refund, onClose }: { refund: RefundFromItem; onClose(): void }) {
  const detail = useOrderDetail(refund.orderId);
  if (!detail.data) {
    return (
      <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
        <div className="dialog" role="dialog" aria-modal="true" aria-label="Refund through PayPal">
          {detail.isError ? <ErrorState message={describeError(detail.error, 'load')} onRetry={() => void detail.refetch()} /> : <Spinner label="Loading the order…" />}
          <div className="dialog-actions">
            <button type="button" className="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </div>
      </div>
    );
  }
  const { order } = detail.data;
  // An item in another currency than the order's (a currency mismatch) says nothing about how much of the order to give back.
  const prefill = refund.currency === order.currency ? { amount: refund.amount, label: "this item's amount" } : undefined;
  return (
    <ActionDialog
      action={{
        type: 'refund',
        orderId: order.id,
        total: order.total,
        refundedAmount: order.refundedAmount,
        currency: order.currency,
        ...(prefill ? { prefill } : {}),
      }}
      onClose={onClose}
    />
  );
}

/** "Amount mismatch: reported 1990 USD, …": the kind once, even when the server's detail already starts with it. */
export function resolveSummary(kind: DiscrepancyKind, detail: string): string {
  const label = kindLabel(kind);
  return detail.toLowerCase().startsWith(`${label.toLowerCase()}:`) ? `${label}${detail.slice(label.length)}` : `${label}: ${detail}`;
}

/** One action on a discrepancy: shown only when the server listed it for this item and the caller's role. */
function ItemAction(props: { label: string; danger?: boolean; onClick(): void }) {
  return (
    <button type="button" className={`button small${props.danger ? ' button-danger-outline' : ''}`} onClick={props.onClick}>
      {props.label}
    </button>
  );
}

/**
 * One item. Its buttons are `item.allowedActions`, decided by the server from the item's kind and
 * order and the member's role (a viewer gets none); the fields each action needs are the item's own.
 */
function DiscrepancyItem({ item, onAction, onRefund }: { item: Discrepancy; onAction(action: PendingAction): void; onRefund(refund: RefundFromItem): void }) {
  const may = (action: DiscrepancyAction) => item.allowedActions.includes(action);
  const currency = item.currency && isSupportedCurrency(item.currency) ? item.currency : null;
  return (
    <li className="discrepancy" data-discrepancy-id={item.id} data-kind={item.kind}>
      <div className="discrepancy-main">
        <div className="discrepancy-head">
          <span className={`badge kind-${item.kind}`}>{kindLabel(item.kind)}</span>
          {item.orderId ? (
            <a className="mono" href={routeHref({ name: 'order', orderId: item.orderId })} title={item.orderId}>
              order {item.orderNumber !== null ? `#${item.orderNumber}` : shortId(item.orderId)}
            </a>
          ) : (
            <span className="muted">no order</span>
          )}
          {item.orderStatus ? <StatusBadge status={item.orderStatus} /> : null}
          {item.amount !== null ? <span className="money">{money(item.amount, item.currency)}</span> : null}
          <span className="subtle">
            detected <Time value={item.detectedAt} />
          </span>
        </div>
        <p className="discrepancy-detail">{item.detail}</p>
      </div>
      {item.allowedActions.length > 0 ? (
        <div className="discrepancy-actions">
          {may('resync') && item.attemptId ? (
            <ItemAction label="Re-sync" onClick={() => onAction({ type: 'resync', attemptId: item.attemptId!, externalId: null })} />
          ) : null}
          {may('resolve') ? (
            <ItemAction label="Resolve…" onClick={() => onAction({ type: 'resolve', discrepancyId: item.id, summary: resolveSummary(item.kind, item.detail) })} />
          ) : null}
          {may('cancel') && item.orderId ? <ItemAction label="Cancel…" danger onClick={() => onAction({ type: 'cancel', orderId: item.orderId! })} /> : null}
          {may('refundDuplicate') && item.attemptId && item.amount !== null ? (
            <ItemAction
              label="Refund duplicate…"
              danger
              onClick={() => onAction({ type: 'refundDuplicate', attemptId: item.attemptId!, amount: item.amount!, currency: item.currency ?? '' })}
            />
          ) : null}
          {may('refund') && item.orderId && item.amount !== null && currency ? (
            <ItemAction
              label="Refund…"
              danger
              onClick={() => onRefund({ orderId: item.orderId!, amount: item.amount!, currency })}
            />
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
