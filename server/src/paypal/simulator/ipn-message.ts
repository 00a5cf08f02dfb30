import { signedDecimal } from './amounts.js';
import { newIpnTrackId, newVerifySign } from './ids.js';
import type { SaleEvent, SimulatorStore } from './store.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** PayPal's payment_date: "20:12:59 Jan 13, 2009 PST", in Pacific time (PDT in summer). */
export function paypalPaymentDate(date = new Date()): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/Los_Angeles',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  const month = MONTHS[Number(parts.month) - 1];
  return `${parts.hour}:${parts.minute}:${parts.second} ${month} ${parts.day}, ${parts.year} ${parts.timeZoneName}`;
}

interface StatusFields {
  txnId: string;
  paymentStatus: string;
  gross: number;
  fee?: number;
  parentTxnId?: string;
  pendingReason?: string;
  reasonCode?: string;
  /** Refund and reversal IPNs carry no txn_type; PayPal documents the blank value for them. */
  txnType?: string;
}

function statusFields(event: SaleEvent): StatusFields {
  const { sale } = event;
  switch (event.kind) {
    case 'sale-created':
      return sale.state === 'pending'
        ? { txnId: sale.id, paymentStatus: 'Pending', gross: sale.amount, pendingReason: 'paymentreview', txnType: 'express_checkout' }
        : { txnId: sale.id, paymentStatus: 'Completed', gross: sale.amount, fee: sale.fee, txnType: 'express_checkout' };
    case 'sale-completed':
      return { txnId: sale.id, paymentStatus: 'Completed', gross: sale.amount, fee: sale.fee, txnType: 'express_checkout' };
    case 'sale-denied':
      return { txnId: sale.id, paymentStatus: 'Denied', gross: sale.amount, txnType: 'express_checkout' };
    case 'refunded':
      return {
        txnId: event.refund.id,
        parentTxnId: sale.id,
        paymentStatus: 'Refunded',
        gross: -event.refund.amount,
        fee: -event.refund.fee,
        reasonCode: 'refund',
      };
    case 'reversed':
      return {
        txnId: event.txnId,
        parentTxnId: sale.id,
        paymentStatus: 'Reversed',
        gross: -(sale.amount - sale.refunded),
        fee: -sale.fee,
        reasonCode: 'chargeback',
      };
    case 'reversal-canceled':
      return {
        txnId: event.txnId,
        parentTxnId: sale.id,
        paymentStatus: 'Canceled_Reversal',
        gross: sale.amount - sale.refunded,
        fee: sale.fee,
        reasonCode: 'other',
      };
  }
}

/** The IPN variables PayPal posts for a sale event, in a stable order (the body must be reproducible). */
export function ipnFieldsFor(event: SaleEvent, store: SimulatorStore, receiverEmail: string): [string, string][] {
  const { payment, sale } = event;
  const status = statusFields(event);
  const buyer = store.buyer;
  const optional = (name: string, value: string | undefined): [string, string][] =>
    value === undefined ? [] : [[name, value]];
  return [
    ['mc_gross', signedDecimal(status.gross, sale.currency)],
    ['protection_eligibility', 'Eligible'],
    ['payer_id', buyer.payerId],
    ['payment_date', paypalPaymentDate()],
    ['payment_status', status.paymentStatus],
    ['charset', 'UTF-8'],
    ['first_name', buyer.firstName],
    ['last_name', buyer.lastName],
    ...optional('mc_fee', status.fee === undefined ? undefined : signedDecimal(status.fee, sale.currency)),
    ['notify_version', '3.9'],
    ['custom', payment.request.custom ?? ''],
    ['payer_status', 'verified'],
    ['business', receiverEmail],
    ['verify_sign', newVerifySign()],
    ['payer_email', buyer.email],
    ...optional('parent_txn_id', status.parentTxnId),
    ['txn_id', status.txnId],
    ['payment_type', 'instant'],
    ['receiver_email', receiverEmail],
    ['receiver_id', store.merchantId],
    ...optional('txn_type', status.txnType),
    ...optional('pending_reason', status.pendingReason),
    ...optional('reason_code', status.reasonCode),
    ...optional('invoice', payment.request.invoiceNumber),
    ['mc_currency', sale.currency],
    ['residence_country', buyer.countryCode],
    ['test_ipn', '1'],
    ['ipn_track_id', newIpnTrackId()],
  ];
}
