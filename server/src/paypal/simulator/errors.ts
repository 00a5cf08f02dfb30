import { newDebugId } from './ids.js';

export interface ErrorDetail {
  field: string;
  issue: string;
}

/** An error the simulator answers exactly as PayPal's REST API would, with PayPal's body shape. */
export class PaypalApiError extends Error {
  readonly debugId = newDebugId();

  constructor(
    readonly httpStatus: number,
    readonly errorName: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }

  toBody() {
    return {
      name: this.errorName,
      message: this.message,
      information_link: `https://developer.paypal.com/docs/api/payments/#errors`,
      debug_id: this.debugId,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export const validationError = (details: ErrorDetail[]) =>
  new PaypalApiError(400, 'VALIDATION_ERROR', 'Invalid request - see details', details);

export const malformedRequest = () =>
  new PaypalApiError(400, 'MALFORMED_REQUEST', 'Incoming JSON request does not map to API request');

export const resourceNotFound = () =>
  new PaypalApiError(404, 'INVALID_RESOURCE_ID', 'The requested resource ID was not found');

export const paymentAlreadyDone = () =>
  new PaypalApiError(400, 'PAYMENT_ALREADY_DONE', 'Payment has been done already for this cart.');

export const paymentNotApproved = () =>
  new PaypalApiError(400, 'PAYMENT_NOT_APPROVED_FOR_EXECUTION', 'Payer has not approved payment.');

export const instrumentDeclined = () =>
  new PaypalApiError(
    400,
    'INSTRUMENT_DECLINED',
    "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
  );

// The names below appear in PayPal's v1 error reference but no captured response confirmed them.
export const invalidPayerId = () => new PaypalApiError(400, 'INVALID_PAYER_ID', 'Payer ID is invalid');

export const transactionRefused = () => new PaypalApiError(400, 'TRANSACTION_REFUSED', 'The request was refused.');

export const transactionAlreadyRefunded = () =>
  new PaypalApiError(400, 'TRANSACTION_ALREADY_REFUNDED', 'Requested transaction has already been fully refunded.');

export const refundExceedsAmount = () =>
  new PaypalApiError(400, 'REFUND_EXCEEDED_TRANSACTION_AMOUNT', 'Refund amount exceeded transaction amount.');

export const internalServiceError = () =>
  new PaypalApiError(500, 'INTERNAL_SERVICE_ERROR', 'An internal service error has occurred');

/** Misuse of the simulator's own control surface (unknown id, wrong state), not a PayPal error. */
export class SimulatorControlError extends Error {
  constructor(
    readonly httpStatus: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}
