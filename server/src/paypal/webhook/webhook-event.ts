import { TextDecoder } from 'node:util';
import { z } from 'zod';
import type { WebhookTransmission } from '../gateway.js';

/**
 * Reads a PayPal webhook delivery without trusting it: the raw bytes are what is stored and verified;
 * these fields only index the stored row and, once PayPal vouched for the bytes, say what happened.
 */
export interface WebhookEnvelope {
  id: string;
  eventType: string;
  resourceType: string | undefined;
  resource: {
    id?: string | undefined;
    /** Refunds and reversals: the sale the money left. */
    saleId?: string | undefined;
    /** The PAY-… payment the sale belongs to. */
    parentPayment?: string | undefined;
    state?: string | undefined;
    reasonCode?: string | undefined;
    total?: string | undefined;
    currency?: string | undefined;
  };
  /** A dispute's resource (CUSTOMER.DISPUTE.*): the case, the sale it names, why, and the amount disputed. */
  dispute?: {
    id: string | undefined;
    saleId: string | undefined;
    reason: string | undefined;
    stage: string | undefined;
    /** INTERNAL (filed with PayPal) or EXTERNAL (with the buyer's card issuer). */
    channel: string | undefined;
    total: string | undefined;
    currency: string | undefined;
  };
}

/** Event types whose resource is a dispute (CUSTOMER.DISPUTE.CREATED, .UPDATED, .RESOLVED). */
const DISPUTE_EVENT_PREFIX = 'CUSTOMER.DISPUTE.';

/** Printable ASCII: ids and names PayPal sends are never anything else, and NUL never reaches a column. */
const token = (max: number) => z.string().regex(new RegExp(`^[\\x21-\\x7e]{1,${max}}$`));
/** Fields we only read: a value of another shape is treated as absent, never as a reason to refuse. */
const lenient = (max: number) => z.string().max(max).optional().catch(undefined);

const envelopeSchema = z.object({
  id: token(128),
  event_type: token(64),
  resource_type: lenient(64),
  resource: z
    .object({
      id: lenient(64),
      sale_id: lenient(64),
      parent_payment: lenient(64),
      state: lenient(64),
      reason_code: lenient(64),
      amount: z.object({ total: lenient(32), currency: lenient(8) }).optional().catch(undefined),
      // A dispute (PayPal's documented CUSTOMER.DISPUTE.CREATED sample): its id, the sale it names
      // (disputed_transactions[].seller_transaction_id), reason, stage, channel and dispute_amount.
      dispute_id: lenient(64),
      reason: lenient(64),
      dispute_life_cycle_stage: lenient(32),
      dispute_channel: lenient(32),
      disputed_transactions: z
        .array(z.object({ seller_transaction_id: lenient(64) }).catch({ seller_transaction_id: undefined }))
        .optional()
        .catch(undefined),
      dispute_amount: z.object({ value: lenient(32), currency_code: lenient(8) }).optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object with an event id and type, or undefined for anything that cannot be a PayPal webhook. */
export function parseWebhookEvent(raw: Buffer): WebhookEnvelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(raw));
  } catch {
    return undefined;
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { id, event_type, resource_type, resource } = parsed.data;
  return {
    id,
    eventType: event_type,
    resourceType: resource_type,
    resource: {
      id: resource?.id,
      saleId: resource?.sale_id,
      parentPayment: resource?.parent_payment,
      state: resource?.state,
      reasonCode: resource?.reason_code,
      total: resource?.amount?.total,
      currency: resource?.amount?.currency,
    },
    ...(event_type.startsWith(DISPUTE_EVENT_PREFIX)
      ? {
          dispute: {
            id: resource?.dispute_id ?? resource?.id,
            saleId: resource?.disputed_transactions?.find((t) => t.seller_transaction_id)?.seller_transaction_id,
            reason: resource?.reason,
            stage: resource?.dispute_life_cycle_stage,
            channel: resource?.dispute_channel,
            total: resource?.dispute_amount?.value,
            currency: resource?.dispute_amount?.currency_code,
          },
        }
      : {}),
  };
}

/** The PAYPAL-* headers verification needs, by their (lower-case) HTTP names. */
export const TRANSMISSION_HEADERS = {
  transmissionId: 'paypal-transmission-id',
  transmissionTime: 'paypal-transmission-time',
  transmissionSig: 'paypal-transmission-sig',
  certUrl: 'paypal-cert-url',
  authAlgo: 'paypal-auth-algo',
} as const satisfies Record<keyof WebhookTransmission, string>;

const transmissionSchema = z.object({
  [TRANSMISSION_HEADERS.transmissionId]: token(128),
  [TRANSMISSION_HEADERS.transmissionTime]: token(64),
  // A base64 RSA signature: 344 characters for a 2048-bit key; room for larger keys.
  [TRANSMISSION_HEADERS.transmissionSig]: token(4096),
  [TRANSMISSION_HEADERS.certUrl]: token(2048),
  [TRANSMISSION_HEADERS.authAlgo]: token(64),
});

/** The transmission from request headers (or the copy stored with the event), or undefined when one is missing or malformed. */
export function transmissionFromHeaders(headers: unknown): WebhookTransmission | undefined {
  const parsed = transmissionSchema.safeParse(headers);
  if (!parsed.success) return undefined;
  const h = parsed.data;
  return {
    transmissionId: h[TRANSMISSION_HEADERS.transmissionId],
    transmissionTime: h[TRANSMISSION_HEADERS.transmissionTime],
    transmissionSig: h[TRANSMISSION_HEADERS.transmissionSig],
    certUrl: h[TRANSMISSION_HEADERS.certUrl],
    authAlgo: h[TRANSMISSION_HEADERS.authAlgo],
  };
}

/** The transmission as headers again, for storing beside the raw body. */
export function transmissionHeaders(transmission: WebhookTransmission): Record<string, string> {
  return Object.fromEntries(Object.entries(TRANSMISSION_HEADERS).map(([key, header]) => [header, transmission[key as keyof WebhookTransmission]]));
}
