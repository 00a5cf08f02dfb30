import type { FastifyInstance } from 'fastify';
import { validationError, type ErrorDetail } from './errors.js';
import type { SignatureCheck, WebhookDispatcher, WebhookRegistration } from './webhook-dispatcher.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-event.js';

const SIGNATURE_FIELDS = ['auth_algo', 'cert_url', 'transmission_id', 'transmission_sig', 'transmission_time', 'webhook_id'] as const;
const SUBSCRIBABLE: readonly string[] = ['*', ...WEBHOOK_EVENT_TYPES];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const missing = (field: string): ErrorDetail => ({ field, issue: 'Required field missing' });

function signatureCheck(body: unknown): SignatureCheck {
  const input = isRecord(body) ? body : {};
  const details: ErrorDetail[] = SIGNATURE_FIELDS.filter((f) => typeof input[f] !== 'string' || input[f] === '').map(missing);
  if (!isRecord(input.webhook_event)) details.push(missing('webhook_event'));
  if (details.length > 0) throw validationError(details);
  return input as unknown as SignatureCheck;
}

function registration(body: unknown): { url: string; eventTypes: string[] } {
  const input = isRecord(body) ? body : {};
  const url = typeof input.url === 'string' && /^https?:\/\//.test(input.url) && URL.canParse(input.url) ? input.url : undefined;
  const names = Array.isArray(input.event_types) ? input.event_types.map((t) => (isRecord(t) ? t.name : undefined)) : [];
  const details: ErrorDetail[] = [];
  if (!url) details.push({ field: 'url', issue: 'Must be an http or https URL' });
  if (names.length === 0) details.push(missing('event_types'));
  names.forEach((name, i) => {
    if (typeof name !== 'string' || !SUBSCRIBABLE.includes(name)) details.push({ field: `event_types[${i}].name`, issue: 'Event type not supported' });
  });
  if (details.length > 0) throw validationError(details);
  return { url: url!, eventTypes: names as string[] };
}

function renderRegistration(webhook: WebhookRegistration, baseUrl: string) {
  const self = `${baseUrl}/v1/notifications/webhooks/${webhook.id}`;
  return {
    id: webhook.id,
    url: webhook.url,
    event_types: webhook.eventTypes.map((name) => ({ name })),
    links: [
      { href: self, rel: 'self', method: 'GET' },
      { href: self, rel: 'update', method: 'PATCH' },
      { href: self, rel: 'delete', method: 'DELETE' },
    ],
  };
}

/** Notifications v1, inside the bearer-token scope: registering a webhook and verifying a transmission. */
export function registerWebhookApiRoutes(api: FastifyInstance, webhooks: WebhookDispatcher, getBaseUrl: () => string): void {
  api.post('/v1/notifications/webhooks', async (req, reply) => {
    const { url, eventTypes } = registration(req.body);
    return reply.code(201).send(renderRegistration(webhooks.register(url, { eventTypes }), getBaseUrl()));
  });

  api.post('/v1/notifications/verify-webhook-signature', async (req) => ({
    verification_status: webhooks.verify(signatureCheck(req.body)),
  }));
}
