import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { silentLogger, type PaypalLogger } from '../logger.js';
import { registerApiRoutes } from './api-routes.js';
import { createControl, registerControlRoutes, type SimulatorControl } from './control.js';
import { malformedRequest, PaypalApiError, SimulatorControlError, internalServiceError } from './errors.js';
import { FaultInjector, installFaultHook } from './faults.js';
import { IpnDispatcher } from './ipn-dispatcher.js';
import { emptyContents, memoryOnlyJournal, type JournalContents, type SimulatorJournal } from './journal.js';
import { PostgresJournal } from './postgres-journal.js';
import { ipnFieldsFor } from './ipn-message.js';
import { ResourceRenderer } from './resources.js';
import { SimulatorStore } from './store.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { webhookEventFor } from './webhook-event.js';
import { registerWebscrRoutes } from './webscr-routes.js';

export type { SimulatorControl, SimulatorState } from './control.js';
export type { FailNextOptions, FaultMode } from './faults.js';
export type { IpnAttempt, IpnDelivery, IpnLogEntry, IpnMode } from './ipn-dispatcher.js';
export type { DispatchMode } from './notification-dispatcher.js';
export type { SignatureCheck, WebhookLogEntry, WebhookRegistration, WebhookTransmission } from './webhook-dispatcher.js';
export type { WebhookEvent, WebhookEventType } from './webhook-event.js';
export type { BuyerAction, SaleState, SimPayment, SimRefund, SimSale } from './store.js';

export interface PaypalSimulatorOptions {
  /** Loopback only: the control API can forge "genuine" IPNs, so it must never be reachable from outside. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clientId: string;
  clientSecret: string;
  receiverEmail: string;
  /** Waits between IPN resends after a non-200 answer; PayPal spaces ~16 resends over days. */
  ipnRetryDelaysMs?: number[];
  /** How long one IPN (or webhook) post may take before it counts as failed. */
  ipnAttemptTimeoutMs?: number;
  /** Where webhook events go from the start (more can be registered later); none without it. */
  webhookUrl?: string;
  /** The id of the webhook at `webhookUrl` (PayPal issues one per registration); generated when absent. */
  webhookId?: string;
  /** Waits between webhook resends after a non-2xx answer; the IPN delays unless given. */
  webhookRetryDelaysMs?: number[];
  logger?: PaypalLogger;
  /** What /_sim/* calls must send as `Authorization: Bearer …`; a random one when absent. */
  controlToken?: string;
}

export interface PaypalSimulator {
  /** e.g. http://127.0.0.1:PORT — use as the REST API base (an origin: paypal-rest-sdk calls its /v1/…). */
  baseUrl: string;
  /** Where buyers' browsers are sent (approval pages): `baseUrl` when standalone, `<server>/paypal-sim` when mounted. */
  pagesUrl: string;
  /** Where IPN listeners post `cmd=_notify-validate&…`. */
  ipnVerifyUrl: string;
  control: SimulatorControl;
  /** The bearer token of the HTTP control API (/_sim/*). */
  controlToken: string;
  close(): Promise<void>;
}

const DEFAULT_IPN_RETRY_DELAYS_MS = [200, 1_000, 5_000, 15_000];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Where a mounted simulator's pages, postback and control API live on the server. */
export const SIMULATOR_MOUNT_PATH = '/paypal-sim';

interface SimulatorUrls {
  api: () => string;
  pages: () => string;
}

/** One simulator's parts, before any HTTP server carries them. */
function buildSimulator(options: PaypalSimulatorOptions, urls: SimulatorUrls, journal: SimulatorJournal, saved: JournalContents) {
  // A process configured for real money must never have a stand-in that approves payments and forges IPNs.
  if (process.env.PAYPAL_MODE?.trim().toLowerCase() === 'live') throw new Error('the PayPal simulator refuses to start when PAYPAL_MODE is live');
  const controlToken = options.controlToken ?? randomBytes(24).toString('base64url');
  const logger = options.logger ?? silentLogger;
  const receiverEmail = options.receiverEmail;
  const closing = new AbortController();
  const ipnRetryDelaysMs = options.ipnRetryDelaysMs ?? DEFAULT_IPN_RETRY_DELAYS_MS;
  const attemptTimeoutMs = options.ipnAttemptTimeoutMs ?? 10_000;
  const ipn = new IpnDispatcher({ retryDelaysMs: ipnRetryDelaysMs, attemptTimeoutMs, logger, journal }, saved.ipn_message);
  const webhooks = new WebhookDispatcher(
    { retryDelaysMs: options.webhookRetryDelaysMs ?? ipnRetryDelaysMs, attemptTimeoutMs, logger, journal },
    urls.api,
    { registrations: saved.webhook, messages: saved.webhook_message },
  );
  if (options.webhookUrl) webhooks.register(options.webhookUrl, options.webhookId === undefined ? {} : { id: options.webhookId });
  // PayPal announces each sale change on both channels: the IPN to the payment's notify_url, the webhook to every subscriber.
  const store: SimulatorStore = new SimulatorStore(
    (event) => {
      const notifyUrl = event.payment.request.notifyUrl;
      if (notifyUrl) ipn.send(ipnFieldsFor(event, store, receiverEmail), notifyUrl);
      const webhookEvent = webhookEventFor(event, renderer, urls.api());
      if (webhookEvent) webhooks.send(webhookEvent);
    },
    journal,
    saved,
  );
  const faults = new FaultInjector();
  const control = createControl(store, faults, ipn, webhooks);
  const renderer = new ResourceRenderer(urls.api, store, receiverEmail, urls.pages);

  /** The simulator's request handling inside one Fastify scope: its own body parsers, errors and faults. */
  const prepareScope = (scope: FastifyInstance, prefix: string) => {
    scope.removeAllContentTypeParsers();
    // Tolerates an empty JSON body: a bare POST to .../refund means "refund everything".
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(malformedRequest(), undefined);
      }
    });
    // Everything else stays raw; latin1 maps each byte to one char, which IPN verification relies on.
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, Buffer.isBuffer(body) ? body.toString('latin1') : String(body));
    });
    scope.setErrorHandler((error: FastifyError, req, reply) => {
      if (error instanceof PaypalApiError) {
        return reply.code(error.httpStatus).header('paypal-debug-id', error.debugId).send(error.toBody());
      }
      if (error instanceof SimulatorControlError) return reply.code(error.httpStatus).send({ error: error.message });
      if (error instanceof z.ZodError) return reply.code(400).send({ error: 'invalid control request', issues: error.issues });
      if (error instanceof RangeError) return reply.code(400).send({ error: error.message });
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return reply.code(error.statusCode).send(req.url.startsWith('/v1/') ? malformedRequest().toBody() : { error: error.message });
      }
      logger.error({ err: error, url: req.url }, 'paypal simulator: unexpected error');
      return reply.code(500).send(internalServiceError().toBody());
    });
    installFaultHook(scope, faults, closing.signal, prefix);
    // What PayPal told a caller is durable before the caller hears it (a no-op for a standalone simulator).
    scope.addHook('onSend', async (_req, _reply, payload) => {
      await store.flush();
      return payload;
    });
  };

  const registerRoutes = (scope: FastifyInstance, parts: { api: boolean; pages: boolean }, controlOptions: { loopbackOnly: boolean }) => {
    if (parts.api) registerApiRoutes(scope, { store, renderer, webhooks, getBaseUrl: urls.api, clientId: options.clientId, clientSecret: options.clientSecret });
    if (parts.pages) {
      registerWebscrRoutes(scope, { store, ipn, merchantName: receiverEmail });
      registerControlRoutes(scope, control, controlToken, controlOptions);
    }
  };

  return {
    controlToken,
    control,
    logger,
    prepareScope,
    registerRoutes,
    /** Ends injected latency and hung requests at once. */
    stopFaults: () => closing.abort(),
    /** Sends what an earlier run still owed (IPNs and webhooks being resent). */
    resume: () => {
      ipn.resume();
      webhooks.resume();
    },
    close: async () => {
      closing.abort();
      await Promise.all([ipn.close(), webhooks.close()]);
      await journal.close();
    },
  };
}

export async function startPaypalSimulator(options: PaypalSimulatorOptions): Promise<PaypalSimulator> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`PayPal simulator must listen on a loopback address, not ${host}`);
  let baseUrl = '';
  const getBaseUrl = () => baseUrl;
  const sim = buildSimulator(options, { api: getBaseUrl, pages: getBaseUrl }, memoryOnlyJournal, emptyContents());

  const app = Fastify({ logger: false, forceCloseConnections: true });
  sim.prepareScope(app, '');
  sim.registerRoutes(app, { api: true, pages: true }, { loopbackOnly: false });

  await app.listen({ host, port: options.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  sim.logger.info({ baseUrl }, 'paypal simulator listening');

  return {
    baseUrl,
    pagesUrl: baseUrl,
    ipnVerifyUrl: `${baseUrl}/cgi-bin/webscr`,
    control: sim.control,
    controlToken: sim.controlToken,
    close: async () => {
      await sim.close();
      await app.close();
    },
  };
}

export interface MountedPaypalSimulator extends PaypalSimulator {
  /** Adds the simulator's routes to the server's app, before it listens. */
  mount(app: FastifyInstance): Promise<void>;
  /**
   * Once the server listens: `localUrl` is where this process reaches itself (REST API, postback),
   * `publicBaseUrl` where buyers' browsers do (approval pages). Then what an earlier run still owed is sent.
   */
  listening(urls: { localUrl: string; publicBaseUrl: string }): void;
}

/**
 * The simulator inside the server (PAYPAL_MODE=simulator): on the server's own port, its REST API at
 * /v1/… (paypal-rest-sdk only speaks to an origin's /v1) and everything else — approval pages, the
 * `_notify-validate` postback, the control API — under /paypal-sim, with its state in PostgreSQL
 * (schema paypal_sim), so approval links, re-syncs, refunds and IPN resends survive a restart.
 */
export async function openMountedPaypalSimulator(options: PaypalSimulatorOptions & { databaseUrl: string }): Promise<MountedPaypalSimulator> {
  let localUrl = '';
  let publicBaseUrl = '';
  const { journal, contents } = await PostgresJournal.open(options.databaseUrl, options.logger ?? silentLogger);
  const sim = buildSimulator(options, { api: () => localUrl, pages: () => `${publicBaseUrl}${SIMULATOR_MOUNT_PATH}` }, journal, contents);
  return {
    get baseUrl() {
      return localUrl;
    },
    get pagesUrl() {
      return `${publicBaseUrl}${SIMULATOR_MOUNT_PATH}`;
    },
    get ipnVerifyUrl() {
      return `${localUrl}${SIMULATOR_MOUNT_PATH}/cgi-bin/webscr`;
    },
    control: sim.control,
    controlToken: sim.controlToken,
    async mount(app) {
      // Before the server waits for requests in flight: a request the simulator was told to hang never ends by itself.
      app.addHook('preClose', async () => sim.stopFaults());
      await app.register(async (scope) => {
        sim.prepareScope(scope, '');
        sim.registerRoutes(scope, { api: true, pages: false }, { loopbackOnly: true });
      });
      await app.register(
        async (scope) => {
          sim.prepareScope(scope, SIMULATOR_MOUNT_PATH);
          // The server may listen on every interface: the control API (it forges "genuine" IPNs) answers loopback callers only.
          sim.registerRoutes(scope, { api: false, pages: true }, { loopbackOnly: true });
        },
        { prefix: SIMULATOR_MOUNT_PATH },
      );
    },
    listening(urls) {
      localUrl = urls.localUrl;
      publicBaseUrl = urls.publicBaseUrl;
      sim.resume();
    },
    close: () => sim.close(),
  };
}
