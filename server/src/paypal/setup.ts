import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PaymentGateway } from './gateway.js';
import { PaypalRestGateway, type PaypalRestGatewayConfig } from './paypal-rest-gateway.js';
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
  /** Adds what this PayPal serves on the server's own port (the mounted simulator), before it listens. */
  mount(http: FastifyInstance): Promise<void>;
  /** Once the server listens: where it reaches itself, and where buyers' browsers reach it. */
  listening(urls: { localUrl: string; publicBaseUrl: string }): void;
  /** Present when this process runs the local simulator. */
  simulator?: PaypalSimulator;
  close(): Promise<void>;
}

/**
 * The gateway to a simulator on this server's own port, whose address is known only once the server
 * listens (PORT=0 picks one): calls before that are refused, and none is made before then.
 */
class GatewayOnceListening implements PaymentGateway {
  private target: PaymentGateway | undefined;

  constructor(private readonly config: Omit<PaypalRestGatewayConfig, 'apiBase'>) {}

  connect(apiBase: string): void {
    this.target = new PaypalRestGateway({ ...this.config, apiBase });
  }

  private get gateway(): PaymentGateway {
    if (!this.target) throw new Error('the PayPal simulator is not reachable before the server listens');
    return this.target;
  }

  createPayment(input: Parameters<PaymentGateway['createPayment']>[0]) {
    return this.gateway.createPayment(input);
  }

  executePayment(input: Parameters<PaymentGateway['executePayment']>[0]) {
    return this.gateway.executePayment(input);
  }

  getPayment(paymentId: string) {
    return this.gateway.getPayment(paymentId);
  }

  refundSale(input: Parameters<PaymentGateway['refundSale']>[0]) {
    return this.gateway.refundSale(input);
  }

  verifyWebhook(input: Parameters<PaymentGateway['verifyWebhook']>[0]) {
    return this.gateway.verifyWebhook(input);
  }
}

export const SIMULATOR_RECEIVER_EMAIL = 'merchant@orders.example';

/**
 * PayPal as configured: the real sandbox or live API, or — with no credentials — the local simulator,
 * so the whole purchase can be clicked through offline. Given the server's database, the simulator is
 * mounted on the server's own port (under /paypal-sim, its REST API at /v1) with its state in
 * PostgreSQL; without (a harness with no HTTP server), it listens on a port of its own, in memory.
 */
export async function setupPaypal(config: AppConfig['paypal'], logger: Logger, server: { databaseUrl?: string } = {}): Promise<PaypalSetup> {
  // Each failed call at warn (operation, PayPal's error name and debug id, retryable), each success at info.
  const gatewayLogger = logger.child({ component: 'paypal' });
  if (config.mode === 'simulator' && !config.apiBase) {
    const clientId = 'orders-simulator';
    const clientSecret = randomBytes(18).toString('base64url');
    const receiverEmail = config.receiverEmail ?? SIMULATOR_RECEIVER_EMAIL;
    const simulatorLogger = logger.child({ component: 'paypal-simulator' });
    // Loaded only in this mode: sandbox and live never load the simulator or its control API.
    const { openMountedPaypalSimulator, startPaypalSimulator } = await import('./simulator/index.js');
    const gatewayConfig = { mode: 'sandbox' as const, clientId, clientSecret, timeoutMs: config.timeoutMs, logger: gatewayLogger };
    const connectWebhook = (simulator: PaypalSimulator) => (url: string) => {
      if (config.webhookId) simulator.control.registerWebhook(url, config.webhookId);
    };
    if (server.databaseUrl) {
      const simulator = await openMountedPaypalSimulator({ clientId, clientSecret, receiverEmail, logger: simulatorLogger, databaseUrl: server.databaseUrl });
      const gateway = new GatewayOnceListening(gatewayConfig);
      return {
        gateway,
        get ipnVerifyUrl() {
          return config.ipnVerifyUrl ?? simulator.ipnVerifyUrl;
        },
        receiverEmail,
        webhookId: config.webhookId,
        connectWebhook: connectWebhook(simulator),
        mount: (http) => simulator.mount(http),
        listening: (urls) => {
          simulator.listening(urls);
          gateway.connect(urls.localUrl);
          // Printed so a developer (or a test driving `npm start`) can use the control API; it exists only in simulator mode.
          logger.info({ url: simulator.pagesUrl, controlToken: simulator.controlToken }, 'PayPal simulator started');
        },
        simulator,
        close: () => simulator.close(),
      };
    }
    const simulator = await startPaypalSimulator({ clientId, clientSecret, receiverEmail, logger: simulatorLogger });
    logger.info({ url: simulator.baseUrl, controlToken: simulator.controlToken }, 'PayPal simulator started');
    return {
      gateway: new PaypalRestGateway({ ...gatewayConfig, apiBase: simulator.baseUrl }),
      ipnVerifyUrl: config.ipnVerifyUrl ?? simulator.ipnVerifyUrl,
      receiverEmail,
      webhookId: config.webhookId,
      connectWebhook: connectWebhook(simulator),
      mount: async () => {},
      listening: () => {},
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
    mount: async () => {},
    listening: () => {},
    close: async () => {},
  };
}
