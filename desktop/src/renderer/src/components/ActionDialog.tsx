import { useId, useState } from 'react';
import { ORDER_STATUS_LABELS, toDecimalString, type Currency } from '@orders/shared';
import { describeError } from '../api/errors';
import { useOrderActions } from '../api/queries';
import { toMinor } from '../filters';
import { money, shortId } from '../format';
import { ReasonDialog } from './ReasonDialog';
import { useToast } from './Toasts';

/** A staff action waiting for its reason. */
export type PendingAction =
  | { type: 'resync'; attemptId: string; externalId: string | null }
  | { type: 'cancel'; orderId: string }
  | {
      type: 'refund';
      orderId: string;
      total: number;
      refundedAmount: number;
      currency: Currency;
      /**
       * Where the amount field starts instead of everything left, and what that amount is (a
       * reconciliation item's own amount): "Pre-filled with <label>, $1.00".
       */
      prefill?: { amount: number; label: string };
    }
  /** Give back one attempt's sale that did not pay the order (a second payment), whole. */
  | { type: 'refundDuplicate'; attemptId: string; amount: number; currency: string }
  | { type: 'resolve'; discrepancyId: string; summary: string };

/** The reason dialog for each action, wired to its mutation; closes on success with a toast. */
export function ActionDialog({ action, onClose }: { action: PendingAction; onClose(): void }) {
  const actions = useOrderActions();
  const toast = useToast();
  const amountId = useId();
  const amountHintId = useId();
  const remaining = action.type === 'refund' ? Math.max(action.total - action.refundedAmount, 0) : 0;
  // A pre-filled amount never starts above what the order has left: the field would open invalid.
  const start = action.type === 'refund' ? Math.min(action.prefill?.amount ?? remaining, remaining) : 0;
  const [amount, setAmount] = useState(action.type === 'refund' ? toDecimalString(start, action.currency) : '');

  const common = { onCancel: onClose, describeError: (error: unknown) => describeError(error) };

  switch (action.type) {
    case 'resync':
      return (
        <ReasonDialog
          {...common}
          title="Re-sync from PayPal"
          description={
            <p>
              Ask PayPal for the current state of payment <span className="mono">{action.externalId ?? shortId(action.attemptId)}</span> and apply it to the
              order.
            </p>
          }
          confirmLabel="Re-sync"
          placeholder="Why? e.g. customer emailed that the payment went through"
          onSubmit={async (reason) => {
            const result = await actions.resync.mutateAsync({ attemptId: action.attemptId, reason });
            toast.show('success', `Re-synced: ${result.message}`);
            onClose();
          }}
        />
      );
    case 'cancel':
      return (
        <ReasonDialog
          {...common}
          title="Cancel order"
          description={<p>The order is cancelled, its open payment attempts with it, and its stock released. This cannot be undone.</p>}
          confirmLabel="Cancel order"
          placeholder="Why? e.g. customer asked to cancel before paying"
          destructive
          onSubmit={async (reason) => {
            const result = await actions.cancel.mutateAsync({ orderId: action.orderId, reason });
            toast.show('success', `Order ${shortId(result.orderId)} cancelled${result.cancelledAttempts ? ` (${result.cancelledAttempts} open attempt(s) cancelled)` : ''}.`);
            onClose();
          }}
        />
      );
    case 'refund': {
      const minor = toMinor(amount.trim(), action.currency);
      const prefill = action.prefill;
      return (
        <ReasonDialog
          {...common}
          title="Refund through PayPal"
          description={
            <p>
              Paid {money(action.total, action.currency)}
              {action.refundedAmount > 0 ? `, ${money(action.refundedAmount, action.currency)} already refunded` : ''}. At most{' '}
              {money(remaining, action.currency)} can be refunded.
            </p>
          }
          confirmLabel="Refund"
          placeholder="Why? e.g. item arrived damaged; customer keeps the rest"
          destructive
          validate={() => (minor === undefined || minor <= 0 || minor > remaining ? `Enter an amount between 0 and ${money(remaining, action.currency)}.` : null)}
          onSubmit={async (reason) => {
            // Always the amount in the field: without one the server refunds whatever the order has
            // left, which is not what was shown when the field started elsewhere (an item's amount)
            // or when another refund landed meanwhile (the server then refuses, and says so).
            const result = await actions.refund.mutateAsync({ orderId: action.orderId, reason, amount: minor! });
            toast.show('success', `Refunded ${money(result.amount, result.currency)}; the order is now ${ORDER_STATUS_LABELS[result.status]}.`);
            onClose();
          }}
        >
          <label htmlFor={amountId} className="field-label">
            Amount ({action.currency})
          </label>
          <input
            id={amountId}
            inputMode="decimal"
            value={amount}
            onChange={(event) => setAmount(event.target.value)}
            aria-invalid={minor === undefined}
            aria-describedby={prefill ? amountHintId : undefined}
          />
          {prefill ? (
            <p id={amountHintId} className="field-hint">
              {prefill.amount <= remaining
                ? `Pre-filled with ${prefill.label}, ${money(prefill.amount, action.currency)}. Edit it to refund another amount.`
                : `${capitalize(prefill.label)}, ${money(prefill.amount, action.currency)}, is more than the order has left: pre-filled with ${money(remaining, action.currency)}.`}
            </p>
          ) : null}
        </ReasonDialog>
      );
    }
    case 'refundDuplicate':
      return (
        <ReasonDialog
          {...common}
          title="Refund the duplicate payment"
          description={
            <p>
              PayPal refunds the second payment (attempt <span className="mono">{shortId(action.attemptId)}</span>) to the buyer in full. The order stays paid
              by its first payment.
            </p>
          }
          confirmLabel="Refund duplicate"
          placeholder="Why? e.g. buyer paid twice from two tabs"
          destructive
          onSubmit={async (reason) => {
            const result = await actions.refundDuplicate.mutateAsync({ attemptId: action.attemptId, reason });
            toast.show('success', `Refunded the duplicate payment of ${money(result.amount, result.currency)}; the order stays ${ORDER_STATUS_LABELS[result.status]}.`);
            onClose();
          }}
        >
          {/* No amount field: the procedure refunds the duplicate sale whole (refundDuplicateInput has no amount). */}
          <div className="dialog-amount" role="group" aria-labelledby={amountId}>
            <span id={amountId} className="field-label">
              Amount to refund
            </span>
            <strong className="money">{money(action.amount, action.currency)}</strong>
            <span className="muted">the whole duplicate sale</span>
          </div>
        </ReasonDialog>
      );
    case 'resolve':
      return (
        <ReasonDialog
          {...common}
          title="Mark as resolved"
          description={<p>{action.summary}</p>}
          confirmLabel="Mark resolved"
          placeholder="Why? e.g. checked in PayPal: no money was taken"
          onSubmit={async (reason) => {
            await actions.resolve.mutateAsync({ discrepancyId: action.discrepancyId, reason });
            toast.show('success', 'Discrepancy marked as resolved.');
            onClose();
          }}
        />
      );
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
