import {
  isSupportedCurrency,
  maxMinorAmount,
  parseDecimalString,
  toDecimalString,
  type Currency,
} from '@orders/shared';
import paypal from 'paypal-rest-sdk';
import { z } from 'zod';
import {
  PaymentProviderError,
  type CreatePaymentInput,
  type CreatedPayment,
  type PaymentGateway,
  type ProviderErrorDetail,
  type ProviderPayment,
  type ProviderRefund,
  type WebhookTransmission,
  type WebhookVerdict,
} from './gateway.js';
import { payerNameOf } from './outcomes.js';
import { silentLogger, type PaypalLogger } from './logger.js';
import { withSdkDefaults } from './sdk-call-defaults.js';
import { honourConfiguredSdkHost } from './sdk-endpoint-override.js';

export interface PaypalRestGatewayConfig {
  mode: 'sandbox' | 'live';
  clientId: string;
  clientSecret: string;
  /** Overrides PayPal's API host, e.g. http://127.0.0.1:5555 for the local simulator. */
  apiBase?: string;
  /** Upper bound for one call, token fetch included (default 20 s). */
  timeoutMs?: number;
  logger?: PaypalLogger;
}

/** The per-call configuration paypal-rest-sdk accepts in place of its global `configure()`. */
interface SdkCallConfig {
  mode: 'sandbox' | 'live';
  client_id: string;
  client_secret: string;
  schema: 'http' | 'https';
  host: string;
  port: string;
  headers: Record<string, string>;
}

type SdkCallback = (error: unknown, response: unknown) => void;

const DEFAULT_TIMEOUT_MS = 20_000;
const PAYPAL_API_HOSTS = { sandbox: 'api.sandbox.paypal.com', live: 'api.paypal.com' } as const;
// Ids end up in URL paths; anything else could address a different resource.
const RESOURCE_ID = /^[A-Za-z0-9-]{1,64}$/;
const REQUEST_ID = /^[\x21-\x7e]{1,108}$/;

const amountSchema = z.object({ total: z.string(), currency: z.string() });
const paymentSchema = z.object({
  id: z.string().min(1),
  state: z.string(),
  payer: z
    .object({
      payer_info: z
        .object({ email: z.string().nullish(), payer_id: z.string().nullish(), first_name: z.string().nullish(), last_name: z.string().nullish() })
        .nullish(),
    })
    .nullish(),
  transactions: z
    .array(
      z.object({
        related_resources: z
          .array(
            z.object({
              sale: z
                .object({ id: z.string(), state: z.string(), reason_code: z.string().nullish(), amount: amountSchema })
                .nullish(),
            }),
          )
          .nullish(),
      }),
    )
    .nullish(),
  links: z.array(z.object({ rel: z.string(), href: z.string() })).nullish(),
});
const refundSchema = z.object({ id: z.string(), state: z.string(), sale_id: z.string(), amount: amountSchema });
const webhookVerificationSchema = z.object({ verification_status: z.string() });

/** PaymentGateway on PayPal's Payments v1 REST API through paypal-rest-sdk 1.8.1. */
export class PaypalRestGateway implements PaymentGateway {
  private readonly endpoint: Pick<SdkCallConfig, 'schema' | 'host' | 'port'>;
  private readonly timeoutMs: number;
  private readonly logger: PaypalLogger;

  constructor(private readonly config: PaypalRestGatewayConfig) {
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.logger = config.logger ?? silentLogger;
    if (config.apiBase === undefined) {
      this.endpoint = { schema: 'https', host: PAYPAL_API_HOSTS[config.mode], port: '' };
      return;
    }
    const base = new URL(config.apiBase);
    if ((base.protocol !== 'http:' && base.protocol !== 'https:') || base.pathname !== '/' || base.search) {
      throw new Error('apiBase must be an http(s) origin without a path, e.g. http://127.0.0.1:5555');
    }
    honourConfiguredSdkHost();
    this.endpoint = {
      schema: base.protocol === 'http:' ? 'http' : 'https',
      // URL keeps IPv6 brackets; Node's http.request wants the bare address.
      host: base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: base.port,
    };
  }

  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    assertRequestId(input.requestId);
    const decimal = (minor: number, field: string) => toWireAmount(minor, input.currency, field);
    const body = {
      intent: 'sale',
      payer: { payment_method: 'paypal' },
      redirect_urls: { return_url: input.returnUrl, cancel_url: input.cancelUrl },
      transactions: [
        {
          amount: { total: decimal(input.amount, 'amount'), currency: input.currency },
          description: input.description,
          custom: input.custom,
          invoice_number: input.invoiceNumber,
          notify_url: input.notifyUrl,
          item_list: {
            items: input.items.map((item, i) => ({
              sku: item.sku,
              name: item.name,
              price: decimal(item.unitPrice, `items[${i}].unitPrice`),
              currency: input.currency,
              quantity: item.quantity,
            })),
          },
        },
      ],
    };
    const raw = await this.call('create payment', { requestId: input.requestId }, (config, cb) =>
      paypal.payment.create(body, config, cb),
    );
    const payment = parseResponse(paymentSchema, raw, 'create payment');
    const approvalUrl = payment.links?.find((link) => link.rel === 'approval_url')?.href;
    if (!approvalUrl) throw unexpectedResponse('create payment', 'no approval_url link');
    return { paymentId: payment.id, approvalUrl, raw };
  }

  async executePayment(input: { requestId: string; paymentId: string; payerId: string }): Promise<ProviderPayment> {
    assertRequestId(input.requestId);
    assertResourceId(input.paymentId, 'paymentId');
    assertResourceId(input.payerId, 'payerId');
    const raw = await this.call(
      'execute payment',
      { requestId: input.requestId, resourceId: input.paymentId },
      (config, cb) => paypal.payment.execute(input.paymentId, { payer_id: input.payerId }, config, cb),
    );
    return toProviderPayment(raw, 'execute payment');
  }

  async getPayment(paymentId: string): Promise<ProviderPayment> {
    assertResourceId(paymentId, 'paymentId');
    const raw = await this.call('get payment', { resourceId: paymentId }, (config, cb) =>
      paypal.payment.get(paymentId, config, cb),
    );
    return toProviderPayment(raw, 'get payment');
  }

  async refundSale(input: { requestId: string; saleId: string; amount?: number; currency: Currency }): Promise<ProviderRefund> {
    assertRequestId(input.requestId);
    assertResourceId(input.saleId, 'saleId');
    // An empty body is PayPal's "refund whatever remains".
    const body =
      input.amount === undefined
        ? {}
        : { amount: { total: toWireAmount(input.amount, input.currency, 'amount'), currency: input.currency } };
    const raw = await this.call('refund sale', { requestId: input.requestId, resourceId: input.saleId }, (config, cb) =>
      paypal.sale.refund(input.saleId, body, config, cb),
    );
    const refund = parseResponse(refundSchema, raw, 'refund sale');
    const { amount, currency } = toMinor(refund.amount, 'refund sale');
    return { refundId: refund.id, saleId: refund.sale_id, state: refund.state, amount, currency, raw };
  }

  /**
   * paypal-rest-sdk's 4-argument verify posts the transmission headers, the webhook id and the event
   * (parsed from the raw body we pass) to /v1/notifications/verify-webhook-signature, and hands back
   * PayPal's answer without reading it: only an explicit SUCCESS makes the delivery genuine.
   */
  async verifyWebhook(input: { transmission: WebhookTransmission; rawBody: string; webhookId: string }): Promise<WebhookVerdict> {
    const { transmission } = input;
    const headers = {
      'PAYPAL-AUTH-ALGO': transmission.authAlgo,
      'PAYPAL-CERT-URL': transmission.certUrl,
      'PAYPAL-TRANSMISSION-ID': transmission.transmissionId,
      'PAYPAL-TRANSMISSION-SIG': transmission.transmissionSig,
      'PAYPAL-TRANSMISSION-TIME': transmission.transmissionTime,
    };
    // The SDK JSON-parses a string body itself; typed as an event object in @types only.
    const body = input.rawBody as unknown as paypal.notification.webhookEvent.WebhookEvent;
    // This verify takes no per-call configuration: it gets ours as the SDK's defaults for the call.
    const raw = await this.call('verify webhook', {}, (config, cb) =>
      withSdkDefaults(config, () => paypal.notification.webhookEvent.verify(headers, body, input.webhookId, cb)),
    );
    return parseResponse(webhookVerificationSchema, raw, 'verify webhook').verification_status === 'SUCCESS' ? 'SUCCESS' : 'FAILURE';
  }

  /**
   * One SDK call bounded by `timeoutMs`. The SDK has no timeout and no way to abort, so a timed-out
   * request keeps running in the background; for POSTs the PayPal-Request-Id header makes the
   * caller's retry return that request's result instead of acting twice.
   */
  private call(
    operation: string,
    context: { requestId?: string; resourceId?: string },
    start: (config: SdkCallConfig, cb: SdkCallback) => void,
  ): Promise<unknown> {
    const startedAt = Date.now();
    // A fresh object per call: the SDK mutates it (merges defaults, sets the Authorization header).
    const config: SdkCallConfig = {
      mode: this.config.mode,
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      ...this.endpoint,
      headers: context.requestId ? { 'PayPal-Request-Id': context.requestId } : {},
    };
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (error: PaymentProviderError | undefined, response?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const fields = { operation, ...context, durationMs: Date.now() - startedAt };
        if (error) {
          const { providerErrorName, httpStatus, debugId, retryable } = error;
          this.logger.warn({ ...fields, providerErrorName, httpStatus, debugId, retryable }, 'paypal call failed');
          reject(error);
        } else {
          this.logger.info(fields, 'paypal call succeeded');
          resolve(withoutSdkStatus(response));
        }
      };
      const timer = setTimeout(() => {
        finish(
          new PaymentProviderError(`PayPal ${operation} did not answer within ${this.timeoutMs} ms`, {
            providerErrorName: 'TIMEOUT',
            retryable: true,
          }),
        );
      }, this.timeoutMs);
      try {
        start(config, (error, response) => finish(error ? toProviderError(operation, error) : undefined, response));
      } catch (error) {
        finish(toProviderError(operation, error));
      }
    });
  }
}

function toProviderPayment(raw: unknown, operation: string): ProviderPayment {
  const payment = parseResponse(paymentSchema, raw, operation);
  const payer = payment.payer?.payer_info;
  const payerName = payerNameOf(payer?.first_name, payer?.last_name);
  const sale = payment.transactions
    ?.flatMap((transaction) => transaction.related_resources ?? [])
    .find((resource) => resource.sale)?.sale;
  return {
    paymentId: payment.id,
    state: payment.state,
    ...(payer?.email ? { payerEmail: payer.email } : {}),
    ...(payer?.payer_id ? { payerId: payer.payer_id } : {}),
    ...(payerName ? { payerName } : {}),
    ...(sale
      ? {
          sale: {
            id: sale.id,
            state: sale.state,
            ...(sale.reason_code ? { reasonCode: sale.reason_code } : {}),
            ...toMinor(sale.amount, operation),
          },
        }
      : {}),
    raw,
  };
}

/** The SDK adds `httpStatusCode` to every success body; the stored raw response should be PayPal's own. */
function withoutSdkStatus(response: unknown): unknown {
  if (typeof response !== 'object' || response === null || !('httpStatusCode' in response)) return response;
  const { httpStatusCode: _sdkStatus, ...body } = response as Record<string, unknown>;
  return body;
}

function toMinor(amount: { total: string; currency: string }, operation: string): { amount: number; currency: Currency } {
  const currency = amount.currency.toUpperCase();
  if (!isSupportedCurrency(currency)) throw unexpectedResponse(operation, `unsupported currency ${amount.currency}`);
  const minor = parseDecimalString(amount.total, currency);
  if (minor === null) throw unexpectedResponse(operation, `unreadable amount ${amount.total} ${currency}`);
  return { amount: minor, currency };
}

function toWireAmount(minor: number, currency: Currency, field: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0 || minor > maxMinorAmount(currency)) {
    throw invalidRequest(`${field} must be an integer number of minor units between 0 and ${maxMinorAmount(currency)}`);
  }
  return toDecimalString(minor, currency);
}

function parseResponse<T>(schema: z.ZodType<T>, raw: unknown, operation: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw unexpectedResponse(operation, z.prettifyError(parsed.error));
  return parsed.data;
}

function assertRequestId(requestId: string): void {
  if (!REQUEST_ID.test(requestId)) throw invalidRequest('requestId must be 1-108 printable ASCII characters');
}

function assertResourceId(id: string, field: string): void {
  if (!RESOURCE_ID.test(id)) throw invalidRequest(`${field} is not a PayPal id`);
}

const invalidRequest = (message: string) =>
  new PaymentProviderError(message, { providerErrorName: 'INVALID_REQUEST', retryable: false });

const unexpectedResponse = (operation: string, why: string) =>
  new PaymentProviderError(`PayPal ${operation} returned an unexpected response: ${why}`, {
    providerErrorName: 'UNEXPECTED_RESPONSE',
    retryable: false,
  });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * SDK failures come in two shapes: an HTTP answer (`httpStatusCode` + `response`, PayPal's error body
 * or an OAuth error) or a Node network error. Only PayPal's own words go into the message.
 */
function toProviderError(operation: string, error: unknown): PaymentProviderError {
  if (isRecord(error) && typeof error.httpStatusCode === 'number') {
    const status = error.httpStatusCode;
    const body = isRecord(error.response) ? error.response : {};
    const name = text(body.name) ?? text(body.error) ?? `HTTP_${status}`;
    const description = text(body.message) ?? text(body.error_description) ?? 'no description';
    const details = Array.isArray(body.details)
      ? body.details.flatMap((d): ProviderErrorDetail[] =>
          isRecord(d) && typeof d.field === 'string' && typeof d.issue === 'string' ? [{ field: d.field, issue: d.issue }] : [],
        )
      : undefined;
    const debugId = text(body.debug_id);
    return new PaymentProviderError(`PayPal ${operation} failed: ${name} (HTTP ${status}): ${description}`, {
      providerErrorName: name,
      retryable: status >= 500 || status === 408 || status === 429,
      httpStatus: status,
      ...(debugId ? { debugId } : {}),
      ...(details && details.length > 0 ? { details } : {}),
    });
  }
  const code = isRecord(error) ? text(error.code) : undefined;
  if (code) {
    return new PaymentProviderError(`PayPal ${operation} failed: network error ${code}`, {
      providerErrorName: 'NETWORK_ERROR',
      retryable: true,
    });
  }
  return new PaymentProviderError(`PayPal ${operation} failed unexpectedly`, {
    providerErrorName: 'SDK_ERROR',
    retryable: false,
  });
}
