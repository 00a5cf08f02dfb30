import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PaymentGateway } from './gateway.js';
import { PaypalRestGateway } from './paypal-rest-gateway.js';
import type { PaypalSimulator } from './simulator/index.js';

const IPN_VERIFY_URLS = {
  sandbox: 'https://ipnpb.sandbox.paypal.com/cgi-bin/webscr',
  live: 'https://ipnpb.paypal.com/cgi-bin/webscr',
} as const;

export interface PaypalSetup {
  gateway: PaymentGateway;
  ipnVerifyUrl: string;
  receiverEmail: string;
  /** PAYPAL_WEBHOOK_ID, when webhooks are on. */
  webhookId: string | undefined;
  /**
   * Once this server listens: the in-process simulator is told to deliver webhooks to `url` under the
   * configured id, so `npm start` needs no registration step. Real PayPal is set up in its dashboard.
   */
  connectWebhook(url: string): void;
  /** Present when this process runs the local simulator. */
  simulator?: PaypalSimulator;
  close(): Promise<void>;
}

export const SIMULATOR_RECEIVER_EMAIL = 'merchant@orders.example';

/**
 * PayPal as configured: the real sandbox or live API, or — with no credentials — the local
 * simulator started in-process, so the whole purchase can be clicked through offline.
 */
export async function setupPaypal(config: AppConfig['paypal'], logger: Logger): Promise<PaypalSetup> {
  // Each failed call at warn (operation, PayPal's error name and debug id, retryable), each success at info.
  const gatewayLogger = logger.child({ component: 'paypal' });
  if (config.mode === 'simulator' && !config.apiBase) {
    const clientId = 'orders-simulator';
    const clientSecret = randomBytes(18).toString('base64url');
    // Loaded only in this mode: sandbox and live never load the simulator or its control API.
    const { startPaypalSimulator } = await import('./simulator/index.js');
    const simulator = await startPaypalSimulator({
      clientId,
      clientSecret,
      receiverEmail: config.receiverEmail ?? SIMULATOR_RECEIVER_EMAIL,
      logger: logger.child({ component: 'paypal-simulator' }),
    });
    // Printed so a developer (or a test driving `npm start`) can use the control API; it exists only in simulator mode.
    logger.info({ url: simulator.baseUrl, controlToken: simulator.controlToken }, 'PayPal simulator started');
    return {
      gateway: new PaypalRestGateway({ mode: 'sandbox', clientId, clientSecret, apiBase: simulator.baseUrl, timeoutMs: config.timeoutMs, logger: gatewayLogger }),
      ipnVerifyUrl: config.ipnVerifyUrl ?? simulator.ipnVerifyUrl,
      receiverEmail: config.receiverEmail ?? SIMULATOR_RECEIVER_EMAIL,
      webhookId: config.webhookId,
      connectWebhook: (url) => {
        if (config.webhookId) simulator.control.registerWebhook(url, config.webhookId);
      },
      simulator,
      close: () => simulator.close(),
    };
  }
  const mode = config.mode === 'live' ? 'live' : 'sandbox';
  if (!config.clientId || !config.clientSecret || !config.receiverEmail) {
    throw new Error('PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_RECEIVER_EMAIL are required for an external PayPal');
  }
  return {
    gateway: new PaypalRestGateway({ mode, clientId: config.clientId, clientSecret: config.clientSecret, apiBase: config.apiBase, timeoutMs: config.timeoutMs, logger: gatewayLogger }),
    ipnVerifyUrl: config.ipnVerifyUrl ?? (config.apiBase ? `${config.apiBase}/cgi-bin/webscr` : IPN_VERIFY_URLS[mode]),
    receiverEmail: config.receiverEmail,
    webhookId: config.webhookId,
    connectWebhook: () => {},
    close: async () => {},
  };
}
