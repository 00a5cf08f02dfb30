import { randomUUID } from 'node:crypto';
import type { WebhookTransmission } from '../gateway.js';
import { transmissionHeaders } from '../webhook/webhook-event.js';
import { newCertId, newTransmissionSig, newWebhookId } from './ids.js';
import { NotificationDispatcher, type Delivery, type DispatcherOptions } from './notification-dispatcher.js';
import { paypalTime } from './store.js';
import type { WebhookEvent } from './webhook-event.js';

export interface WebhookRegistration {
  id: string;
  url: string;
  /** Event type names, or '*' for every event. */
  eventTypes: string[];
}

/** The PAYPAL-* headers of one transmission, as Orders' gateway reads them: what verify-webhook-signature is asked about. */
export type { WebhookTransmission };

export interface WebhookLogEntry {
  webhookId: string;
  url: string;
  eventId: string;
  eventType: string;
  /** The exact JSON posted; only this event, with this transmission, verifies as SUCCESS. */
  body: string;
  transmission: WebhookTransmission;
  createdAt: string;
  held: boolean;
  deliveries: Delivery[];
}

/** The body of POST /v1/notifications/verify-webhook-signature, as paypal-rest-sdk builds it. */
export interface SignatureCheck {
  auth_algo: string;
  cert_url: string;
  transmission_id: string;
  transmission_sig: string;
  transmission_time: string;
  webhook_id: string;
  webhook_event: unknown;
}

export const AUTH_ALGO = 'SHA256withRSA';

/**
 * Webhooks the way PayPal sends them: JSON events to every registered URL subscribed to the type, each
 * delivery its own signed transmission, resent until the listener answers 2xx. Instead of signing with
 * a certificate, every transmission is remembered, so verification is a lookup of exactly what was sent.
 */
export class WebhookDispatcher extends NotificationDispatcher<WebhookLogEntry> {
  private registrations = new Map<string, WebhookRegistration>();
  private transmissions = new Map<string, WebhookLogEntry>();
  private readonly certId = newCertId();

  constructor(
    options: DispatcherOptions,
    /** Known only once the simulator listens, hence read per event. */
    private readonly getBaseUrl: () => string,
    saved: { registrations: { id: string; body: unknown }[]; messages: { id: string; body: unknown }[] } = { registrations: [], messages: [] },
  ) {
    super(
      {
        name: 'webhook',
        request: (entry) => ({
          url: entry.url,
          headers: { 'content-type': 'application/json', 'user-agent': 'PayPal/AUHD-214.0-52392296', ...transmissionHeaders(entry.transmission) },
          body: entry.body,
        }),
        accepted: (status) => status >= 200 && status < 300,
        logContext: (entry) => ({ eventId: entry.eventId, eventType: entry.eventType, webhookId: entry.webhookId }),
      },
      options,
      'webhook_message',
    );
    for (const { body } of saved.registrations) this.registrations.set((body as WebhookRegistration).id, body as WebhookRegistration);
    for (const entry of this.restore(saved.messages)) this.transmissions.set(entry.transmission.transmissionId, entry);
  }

  /** Adds a webhook, or points an existing id at a new URL; every event type unless told otherwise. */
  register(url: string, options: { id?: string; eventTypes?: string[] } = {}): WebhookRegistration {
    const registration = { id: options.id ?? newWebhookId(), url, eventTypes: options.eventTypes ?? ['*'] };
    this.registrations.set(registration.id, registration);
    this.journal.save('webhook', registration.id, registration);
    return { ...registration };
  }

  registered(): WebhookRegistration[] {
    return [...this.registrations.values()].map((r) => ({ ...r, eventTypes: [...r.eventTypes] }));
  }

  /** Posts the event to every webhook subscribed to its type; one log entry per webhook. */
  send(event: WebhookEvent | Record<string, unknown>): WebhookLogEntry[] {
    const eventType = String(event.event_type ?? '');
    const subscribers = [...this.registrations.values()].filter((r) => r.eventTypes.includes('*') || r.eventTypes.includes(eventType));
    if (subscribers.length === 0) return [];
    const body = JSON.stringify(event);
    return subscribers.map((registration) => {
      const entry: WebhookLogEntry = {
        webhookId: registration.id,
        url: registration.url,
        eventId: String(event.id ?? ''),
        eventType,
        body,
        transmission: {
          transmissionId: randomUUID(),
          transmissionTime: paypalTime(),
          transmissionSig: newTransmissionSig(),
          certUrl: `${this.getBaseUrl()}/v1/notifications/certs/${this.certId}`,
          authAlgo: AUTH_ALGO,
        },
        createdAt: new Date().toISOString(),
        held: false,
        deliveries: [],
      };
      this.transmissions.set(entry.transmission.transmissionId, entry);
      return this.dispatch(entry);
    });
  }

  /**
   * SUCCESS only for a transmission this simulator sent, every header as sent, to the webhook named,
   * with the same event: compared as JSON text, which the SDK re-serialises from the body it received.
   */
  verify(check: SignatureCheck): 'SUCCESS' | 'FAILURE' {
    const sent = this.transmissions.get(check.transmission_id);
    const genuine =
      sent !== undefined &&
      sent.webhookId === check.webhook_id &&
      sent.transmission.transmissionTime === check.transmission_time &&
      sent.transmission.transmissionSig === check.transmission_sig &&
      sent.transmission.certUrl === check.cert_url &&
      sent.transmission.authAlgo === check.auth_algo &&
      sent.body === JSON.stringify(check.webhook_event);
    return genuine ? 'SUCCESS' : 'FAILURE';
  }

  /** Registrations are account configuration, like the client credentials: a reset keeps them. */
  override reset(): void {
    super.reset();
    this.transmissions.clear();
  }
}
