import type { FastifyInstance } from 'fastify';
import type { WebhooksService } from '../modules/payments/webhooks.service.js';
import { parseWebhookEvent, transmissionFromHeaders } from '../paypal/webhook/webhook-event.js';

/** A sale event is a few KB; the same bound as IPN's. */
const WEBHOOK_BODY_LIMIT = 64 * 1024;

/**
 * POST /paypal/webhook, registered only when PAYPAL_WEBHOOK_ID is set. Like the IPN listener it stores
 * first and answers 200 at once (PayPal resends anything else); verifying and acting happen in a job.
 * What cannot be a PayPal delivery (not a JSON event, transmission headers missing) is refused with 400
 * and stored nowhere: PayPal always sends both, so a real one is never refused.
 */
export async function registerPaypalWebhookRoute(app: FastifyInstance, webhooks: WebhooksService): Promise<void> {
  await app.register(async (scope) => {
    // The body is kept as the exact bytes received: verification asks PayPal about exactly these.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.post('/paypal/webhook', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
      const raw = request.body;
      const transmission = transmissionFromHeaders(request.headers);
      const event = Buffer.isBuffer(raw) ? parseWebhookEvent(raw) : undefined;
      if (!Buffer.isBuffer(raw) || !event || !transmission) return reply.status(400).send();
      await webhooks.receiveWebhook(raw, event, transmission);
      return reply.status(200).send();
    });
  });
}
