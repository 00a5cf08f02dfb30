import { toDecimalString } from '@orders/shared';
import { newWebhookEventId } from './ids.js';
import type { ResourceRenderer } from './resources.js';
import { paypalTime, type SaleEvent, type SimSale } from './store.js';

/** The sale events Orders subscribes to; PayPal has no v1 sale event for a canceled reversal. */
export const WEBHOOK_EVENT_TYPES = [
  'PAYMENT.SALE.COMPLETED',
  'PAYMENT.SALE.PENDING',
  'PAYMENT.SALE.DENIED',
  'PAYMENT.SALE.REFUNDED',
  'PAYMENT.SALE.REVERSED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** PayPal's webhook envelope (v1). */
export interface WebhookEvent {
  id: string;
  event_version: string;
  create_time: string;
  resource_type: string;
  event_type: string;
  summary: string;
  resource: Record<string, unknown>;
  links?: { href: string; rel: string; method: string }[];
}

/** A chargeback as a refund-shaped transaction of its own, the way PayPal shows money leaving a sale. */
function reversal(sale: SimSale, txnId: string, renderer: ResourceRenderer) {
  const base = renderer.sale(sale);
  return {
    id: txnId,
    state: 'completed',
    amount: { total: toDecimalString(sale.amount - sale.refunded, sale.currency), currency: sale.currency },
    sale_id: sale.id,
    parent_payment: sale.paymentId,
    reason_code: 'CHARGEBACK',
    create_time: sale.updateTime,
    update_time: sale.updateTime,
    links: base.links.filter((link) => link.rel !== 'refund').map((link) => (link.rel === 'self' ? { ...link, rel: 'sale' } : link)),
  };
}

/** The webhook PayPal sends beside the IPN for a sale event, or none. Resources render as the REST API does. */
export function webhookEventFor(event: SaleEvent, renderer: ResourceRenderer, baseUrl: string): WebhookEvent | undefined {
  const { sale } = event;
  const amount = `${toDecimalString(sale.amount, sale.currency)} ${sale.currency}`;
  const envelope = (eventType: WebhookEventType, resourceType: 'sale' | 'refund', summary: string, resource: Record<string, unknown>) => {
    const id = newWebhookEventId();
    const self = `${baseUrl}/v1/notifications/webhooks-events/${id}`;
    return {
      id,
      event_version: '1.0',
      create_time: paypalTime(),
      resource_type: resourceType,
      event_type: eventType,
      summary,
      resource,
      links: [
        { href: self, rel: 'self', method: 'GET' },
        { href: `${self}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
  };
  switch (event.kind) {
    case 'sale-created':
    case 'sale-completed':
      return sale.state === 'pending'
        ? envelope('PAYMENT.SALE.PENDING', 'sale', `Payment pending for ${amount}`, renderer.sale(sale))
        : envelope('PAYMENT.SALE.COMPLETED', 'sale', `Payment completed for ${amount}`, renderer.sale(sale));
    case 'sale-denied':
      return envelope('PAYMENT.SALE.DENIED', 'sale', `A ${amount} sale payment was denied`, renderer.sale(sale));
    case 'refunded': {
      const refunded = `${toDecimalString(event.refund.amount, event.refund.currency)} ${event.refund.currency}`;
      return envelope('PAYMENT.SALE.REFUNDED', 'refund', `A ${refunded} sale payment was refunded`, renderer.refund(event.refund));
    }
    case 'reversed':
      return envelope('PAYMENT.SALE.REVERSED', 'refund', `A ${amount} sale payment was reversed`, reversal(sale, event.txnId, renderer));
    case 'reversal-canceled':
      return undefined;
  }
}
