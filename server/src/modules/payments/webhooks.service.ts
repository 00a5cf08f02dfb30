import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger.js';
import { PaymentProviderError, type PaymentGateway, type WebhookTransmission, type WebhookVerdict } from '../../paypal/gateway.js';
import { parseWebhookEvent, transmissionFromHeaders, transmissionHeaders, type WebhookEnvelope } from '../../paypal/webhook/webhook-event.js';
import { MONEY_OUT_EVENTS, disputeKey, outcomeFromWebhook, subjectOf, unsignedMinor, webhookCaseStage } from '../../paypal/outcomes.js';
import {
  PAYPAL_ACTOR,
  applyVerifiedNotification,
  finishNotification,
  inboxColumn,
  pendingNotification,
  storeNotification,
  strandedNotifications,
  type DuplicatePolicy,
  type StageOpening,
} from './notification-inbox.js';
import type { Processing } from './payment-events.js';
import { findAttempt } from './attempt.repository.js';

export interface WebhooksConfig {
  /** PAYPAL_WEBHOOK_ID: the webhook PayPal signs our deliveries for. Without it the channel is off. */
  webhookId: string | undefined;
}

export interface WebhookQueue {
  enqueueWebhook(eventId: string, round?: string): Promise<void>;
}

/**
 * What makes a webhook "the same message again": its event id (PayPal resends an event under it, with a
 * new transmission each time). A case's opening is its case and stage, the key its IPN has too
 * (disputeKey): whichever channel tells it second is a duplicate.
 */
export function webhookDedupKey(event: WebhookEnvelope): string {
  const told = webhookCaseStage(event);
  if (event.eventType === 'CUSTOMER.DISPUTE.CREATED' && told) return disputeKey(told.caseId, told.stage);
  return `webhook:${event.id}`;
}

/**
 * The case stage a CUSTOMER.DISPUTE.UPDATED names, as the key it takes when nothing told that stage
 * before (an escalation: listed as the IPN's new_case for the stage is), or undefined. Any other update
 * of the case (a message, a status) is its own event, needing no action. Its own resend is recognised by
 * PayPal's event id in the message that holds the key.
 */
function updatedCaseStage(event: WebhookEnvelope): StageOpening | undefined {
  const told = webhookCaseStage(event);
  if (event.eventType !== 'CUSTOMER.DISPUTE.UPDATED' || !told) return undefined;
  return { key: disputeKey(told.caseId, told.stage), sameMessage: (raw) => parseWebhookEvent(raw)?.id === event.id };
}

/**
 * PayPal webhooks (v1), the second notification channel beside IPN: stored raw with their transmission
 * headers on arrival, then verified through the gateway and applied by a job, exactly like IPNs.
 */
export class WebhooksService {
  constructor(
    private readonly orm: MikroORM,
    private readonly gateway: PaymentGateway,
    private readonly config: WebhooksConfig,
    private readonly queue: WebhookQueue,
    private readonly logger: Logger,
    private readonly duplicates: DuplicatePolicy,
  ) {}

  get enabled(): boolean {
    return this.config.webhookId !== undefined;
  }

  /** The listener's whole synchronous job: store the exact bytes and the transmission headers, queue the work. */
  async receiveWebhook(raw: Buffer, event: WebhookEnvelope, transmission: WebhookTransmission): Promise<string> {
    const { resource } = event;
    return storeNotification(
      this.orm.em.fork(),
      {
        source: 'webhook',
        // A dispute is kept under the sale it names, as the IPN's new_case is (its resource is the case).
        txnId: inboxColumn(event.dispute ? event.dispute.saleId : resource.id, 64),
        parentTxnId: inboxColumn(MONEY_OUT_EVENTS.has(event.eventType) ? resource.saleId : undefined, 64),
        externalId: inboxColumn(resource.parentPayment, 64),
        providerStatus: inboxColumn(event.eventType, 64),
        currency: inboxColumn(resource.currency, 3),
        rawBody: raw,
        payload: { headers: transmissionHeaders(transmission) },
      },
      (eventId) => this.queue.enqueueWebhook(eventId),
      this.logger,
    );
  }

  /**
   * The webhook job: PayPal verifies the delivery, then the exactly-once path applies it. Throws only
   * for temporary trouble (verification unreachable), so the queue retries with backoff.
   */
  async processWebhook(eventId: string): Promise<Processing> {
    const em = this.orm.em.fork();
    const stored = await pendingNotification(em, eventId, 'webhook');
    if (typeof stored === 'string') return stored;
    const { webhookId } = this.config;
    // Stored while PAYPAL_WEBHOOK_ID was set: kept until it is again, since only with it can PayPal vouch for them.
    if (webhookId === undefined) throw new Error('PAYPAL_WEBHOOK_ID is not set; stored webhooks wait until it is');
    const event = parseWebhookEvent(stored.rawBody);
    const transmission = transmissionFromHeaders((stored.payload as { headers?: unknown } | null)?.headers);
    // The listener stores nothing else; a row that reads otherwise was not written by it.
    if (!event || !transmission) {
      await finishNotification(em, eventId, 'invalid', 'ignored', 'not a readable webhook delivery');
      return 'ignored';
    }
    const verdict = await this.verify(transmission, stored.rawBody, webhookId);
    if (verdict === 'FAILURE') {
      await finishNotification(em, eventId, 'invalid', 'flagged', 'PayPal answered FAILURE: not signed by PayPal for our webhook, or altered', {
        flagKind: 'signature_invalid',
      });
      return 'flagged';
    }
    const { saleId, paymentId } = subjectOf(event);
    const opens = updatedCaseStage(event);
    return applyVerifiedNotification(
      em,
      {
        eventId,
        dedupKey: webhookDedupKey(event),
        // A case's opening was keyed by its event id before disputeKey.
        earlierKeys: [`webhook:${event.id}`],
        opens,
        subject: `sale ${saleId ?? '(none)'}`,
        gross: unsignedMinor(event.resource.total, event.resource.currency)?.amount ?? null,
        noAction: opens ? `${event.eventType} needs no action: case ${event.dispute?.id} is already listed at this stage` : `${event.eventType} needs no action`,
        movementSaleId: MONEY_OUT_EVENTS.has(event.eventType) ? (saleId ?? null) : null,
        findAttempt: async (tx) =>
          (saleId ? await findAttempt(tx, { saleId }) : undefined) ?? (paymentId ? await findAttempt(tx, { externalId: paymentId }) : undefined),
        // A case's opening is always the first at its stage: a repeat of its key is a duplicate before this.
        outcome: (attempt, firstAtStage) => outcomeFromWebhook(event, attempt, event.eventType === 'CUSTOMER.DISPUTE.CREATED' || firstAtStage),
      },
      PAYPAL_ACTOR,
      this.duplicates,
      this.logger,
    );
  }

  /** Webhooks stored but never processed (a crash between the 200 and the queue): queue them again. */
  async requeueStranded(olderThanSeconds = 30, round?: string): Promise<number> {
    if (!this.enabled) return 0;
    const stranded = await strandedNotifications(this.orm.em.fork(), 'webhook', olderThanSeconds);
    await Promise.all(stranded.map((id) => this.queue.enqueueWebhook(id, round)));
    return stranded.length;
  }

  /** PayPal refusing the verification request itself (HTTP 400) is its answer about this delivery, not an outage. */
  private async verify(transmission: WebhookTransmission, rawBody: Buffer, webhookId: string): Promise<WebhookVerdict> {
    try {
      return await this.gateway.verifyWebhook({ transmission, rawBody: rawBody.toString('utf8'), webhookId });
    } catch (error) {
      if (error instanceof PaymentProviderError && error.httpStatus === 400) return 'FAILURE';
      throw error;
    }
  }
}
