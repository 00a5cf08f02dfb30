import type { Currency } from '@orders/shared';

/**
 * What Orders needs from a payment provider. Money is integer minor units beside a currency;
 * implementations convert to the provider's wire format at their edge.
 */
export interface PaymentGateway {
  /** `requestId` makes the call idempotent: retrying with the same id never creates a second payment. */
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  executePayment(input: { requestId: string; paymentId: string; payerId: string }): Promise<ProviderPayment>;
  getPayment(paymentId: string): Promise<ProviderPayment>;
  /** Without `amount` the whole remaining sale is refunded. */
  refundSale(input: { requestId: string; saleId: string; amount?: number; currency: Currency }): Promise<ProviderRefund>;
  /**
   * Asks the provider whether a webhook delivery is genuine: sent by it, to `webhookId`, with exactly
   * `rawBody`. A clear answer either way resolves; trouble reaching the provider rejects.
   */
  verifyWebhook(input: { transmission: WebhookTransmission; rawBody: string; webhookId: string }): Promise<WebhookVerdict>;
}

/** The transmission headers a PayPal webhook delivery carries (PAYPAL-TRANSMISSION-ID and friends). */
export interface WebhookTransmission {
  transmissionId: string;
  transmissionTime: string;
  transmissionSig: string;
  certUrl: string;
  authAlgo: string;
}

export type WebhookVerdict = 'SUCCESS' | 'FAILURE';

export interface PaymentItem {
  sku: string;
  name: string;
  /** Minor units, in the payment's currency. */
  unitPrice: number;
  quantity: number;
}

export interface CreatePaymentInput {
  requestId: string;
  /** Minor units; must equal the sum of the items' unitPrice × quantity. */
  amount: number;
  currency: Currency;
  items: PaymentItem[];
  description: string;
  invoiceNumber: string;
  custom: string;
  notifyUrl: string;
  returnUrl: string;
  cancelUrl: string;
}

export interface CreatedPayment {
  paymentId: string;
  /** Where to send the buyer's browser. */
  approvalUrl: string;
  raw: unknown;
}

/** Provider states are open-ended: new values must reach callers, not be rejected here. */
export type ProviderPaymentState = 'created' | 'approved' | 'failed' | (string & {});
export type ProviderSaleState =
  | 'completed'
  | 'pending'
  | 'refunded'
  | 'partially_refunded'
  | 'denied'
  | 'reversed'
  | 'failed'
  | 'voided'
  | 'expired'
  | (string & {});

export interface ProviderSale {
  id: string;
  state: ProviderSaleState;
  /** Why a sale is pending, e.g. PAYMENT_REVIEW. */
  reasonCode?: string;
  amount: number;
  currency: Currency;
}

export interface ProviderPayment {
  paymentId: string;
  state: ProviderPaymentState;
  payerEmail?: string;
  payerId?: string;
  /** First and last name from payer_info. */
  payerName?: string;
  /** Absent until the payment is executed. */
  sale?: ProviderSale;
  raw: unknown;
}

export interface ProviderRefund {
  refundId: string;
  saleId: string;
  state: string;
  amount: number;
  currency: Currency;
  raw: unknown;
}

export interface ProviderErrorDetail {
  field: string;
  issue: string;
}

export interface PaymentProviderErrorInit {
  /** The provider's error name (INSTRUMENT_DECLINED, VALIDATION_ERROR, …) or our own: TIMEOUT, NETWORK_ERROR, INVALID_REQUEST, UNEXPECTED_RESPONSE. */
  providerErrorName: string;
  /** True when the same call may succeed later: 5xx, network failures, timeouts. */
  retryable: boolean;
  httpStatus?: number;
  debugId?: string;
  details?: ProviderErrorDetail[];
}

/** Every failure a gateway reports. Messages never contain credentials or tokens. */
export class PaymentProviderError extends Error {
  override readonly name = 'PaymentProviderError';
  readonly providerErrorName: string;
  readonly retryable: boolean;
  readonly httpStatus?: number;
  readonly debugId?: string;
  readonly details?: ProviderErrorDetail[];

  constructor(message: string, init: PaymentProviderErrorInit) {
    super(message);
    this.providerErrorName = init.providerErrorName;
    this.retryable = init.retryable;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    if (init.debugId !== undefined) this.debugId = init.debugId;
    if (init.details !== undefined) this.details = init.details;
  }
}
