import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger.js';
import type { PaymentGateway } from '../../paypal/gateway.js';
import type { DuplicatePolicy } from './notification-inbox.js';

export interface PaymentsConfig {
  /** Where PayPal and the buyer's browser reach this server (return, cancel and IPN URLs); known once listening. */
  publicBaseUrl: () => string;
  receiverEmail: string;
  ipnVerifyUrl: string;
  /**
   * How long an execution started at /paypal/return holds the order's door shut to a newer attempt:
   * longer than PayPal's execute call can take (PAYPAL_TIMEOUT_MS), so a crashed one frees it.
   */
  executeClaimMs: number;
  /** PAYPAL_IPN_VERIFY_TIMEOUT_MS: how long one `_notify-validate` postback may take before the job retries. */
  ipnVerifyTimeoutMs: number;
}

export interface IpnQueue {
  enqueueIpn(eventId: string, round?: string): Promise<void>;
}

/** What every payments use case is given: the database, PayPal, the settings, the job queue, the log. */
export interface PaymentsDeps {
  orm: MikroORM;
  gateway: PaymentGateway;
  config: PaymentsConfig;
  queue: IpnQueue;
  logger: Logger;
  duplicates: DuplicatePolicy;
}
