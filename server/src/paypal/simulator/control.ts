import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FailNextOptions, FaultInjector, FaultRule } from './faults.js';
import type { IpnDispatcher, IpnLogEntry, IpnMode } from './ipn-dispatcher.js';
import type { DispatchMode } from './notification-dispatcher.js';
import type { BuyerAction, SimPayment, SimRefund, SimSale, SimulatorStore } from './store.js';
import type { WebhookDispatcher, WebhookLogEntry, WebhookRegistration } from './webhook-dispatcher.js';

export interface SimulatorState {
  pendingSales: boolean;
  buyer: SimulatorStore['buyer'];
  payments: SimPayment[];
  sales: SimSale[];
  refunds: SimRefund[];
  latencyMs: number;
  pendingFailures: FaultRule[];
  ipnMode: IpnMode;
  webhooks: WebhookRegistration[];
  webhookMode: DispatchMode;
}

/** Test and demo levers; the same operations are served as JSON under /_sim/* for other processes. */
export interface SimulatorControl {
  failNext(options: FailNextOptions): void;
  setLatency(ms: number): void;
  setPendingSales(enabled: boolean): void;
  /** Plays the buyer on the approval page; returns where PayPal would send the browser. */
  approve(paymentId: string, action: BuyerAction): { redirectUrl: string };
  completePendingSale(saleId: string): void;
  denySale(saleId: string): void;
  reverseSale(saleId: string): void;
  cancelReversal(saleId: string): void;
  setIpnMode(mode: Partial<IpnMode>): void;
  flushIpns(): void;
  /** Posts an arbitrary IPN and registers it as genuine, so _notify-validate answers VERIFIED. */
  sendIpn(fields: Record<string, string>, notifyUrl: string): IpnLogEntry;
  /** Resolves when every released IPN has been accepted or given up on. */
  settleIpns(): Promise<void>;
  ipnLog(): IpnLogEntry[];
  /** Adds a webhook listening to every event, or points the webhook `id` at `url`; returns its id. */
  registerWebhook(url: string, id?: string): { id: string };
  setWebhookMode(mode: Partial<DispatchMode>): void;
  flushWebhooks(): void;
  /** Posts an arbitrary event to every registered webhook as a genuine transmission, so verification answers SUCCESS. */
  sendWebhook(event: Record<string, unknown>): WebhookLogEntry[];
  /** Resolves when every released webhook has been accepted or given up on. */
  settleWebhooks(): Promise<void>;
  webhookLog(): WebhookLogEntry[];
  getState(): SimulatorState;
  reset(): void;
}

export function createControl(store: SimulatorStore, faults: FaultInjector, ipn: IpnDispatcher, webhooks: WebhookDispatcher): SimulatorControl {
  return {
    failNext: (options) => faults.failNext(options),
    setLatency: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('latency must be a non-negative number of ms');
      faults.latencyMs = ms;
    },
    setPendingSales: (enabled) => {
      store.pendingSales = enabled;
    },
    approve: (paymentId, action) => ({ redirectUrl: store.decide(paymentId, action) }),
    completePendingSale: (saleId) => void store.completePendingSale(saleId),
    denySale: (saleId) => void store.denySale(saleId),
    reverseSale: (saleId) => void store.reverseSale(saleId),
    cancelReversal: (saleId) => void store.cancelReversal(saleId),
    setIpnMode: (mode) => ipn.setMode(mode),
    flushIpns: () => ipn.flush(),
    sendIpn: (fields, notifyUrl) => ipn.send(fields, notifyUrl),
    settleIpns: () => ipn.settle(),
    ipnLog: () => ipn.entries(),
    registerWebhook: (url, id) => ({ id: webhooks.register(url, id === undefined ? {} : { id }).id }),
    setWebhookMode: (mode) => webhooks.setMode(mode),
    flushWebhooks: () => webhooks.flush(),
    sendWebhook: (event) => webhooks.send(event),
    settleWebhooks: () => webhooks.settle(),
    webhookLog: () => webhooks.entries(),
    getState: () => ({
      ...store.snapshot(),
      ...faults.snapshot(),
      ipnMode: ipn.getMode(),
      webhooks: webhooks.registered(),
      webhookMode: webhooks.getMode(),
    }),
    reset: () => {
      store.reset();
      faults.reset();
      ipn.reset();
      webhooks.reset();
    },
  };
}

const saleActions = {
  complete: 'completePendingSale',
  deny: 'denySale',
  reverse: 'reverseSale',
  'cancel-reversal': 'cancelReversal',
} as const satisfies Record<string, keyof SimulatorControl>;

const schemas = {
  approve: z.object({ paymentId: z.string().min(1), action: z.enum(['approve', 'decline', 'cancel']) }),
  failNext: z.object({
    count: z.number().int().min(1),
    status: z.union([z.literal(500), z.literal(503)]).optional(),
    path: z.string().startsWith('/').optional(),
    mode: z.enum(['status', 'reset', 'hang']).optional(),
  }),
  latency: z.object({ ms: z.number().min(0) }),
  pendingSales: z.object({ enabled: z.boolean() }),
  saleParams: z.object({ saleId: z.string().min(1), action: z.enum(Object.keys(saleActions) as [keyof typeof saleActions]) }),
  dispatchMode: z.object({
    duplicates: z.number().int().min(0).optional(),
    outOfOrder: z.boolean().optional(),
    paused: z.boolean().optional(),
  }),
  sendIpn: z.object({ fields: z.record(z.string(), z.string()), notifyUrl: z.url({ protocol: /^https?$/ }) }),
  registerWebhook: z.object({ url: z.url({ protocol: /^https?$/ }), id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional() }),
  sendWebhook: z.object({ event: z.record(z.string(), z.unknown()) }),
};

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether an Authorization header carries `token` as its bearer credential; compared in constant time. */
export function hasControlToken(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S{1,512})$/i.exec(header ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

const isLoopback = (address: string | undefined) =>
  address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));

/**
 * The control API over HTTP (JSON), for a test driving a simulator that runs in another process.
 * It approves payments and makes IPNs "genuine", so every call needs `Authorization: Bearer <token>`
 * (the token the simulator was started with). Checked on the route Fastify matched, after decoding.
 */
export function registerControlRoutes(parent: FastifyInstance, control: SimulatorControl, token: string, options: { loopbackOnly: boolean } = { loopbackOnly: false }): void {
  // A scope of its own: these hooks see only the control routes, whatever prefix the simulator is under.
  void parent.register(async (app) => {
    app.addHook('onRequest', async (req, reply) => {
      if (options.loopbackOnly && !isLoopback(req.socket.remoteAddress)) return reply.code(403).send({ error: 'the simulator control API answers loopback callers only' });
      if (!hasControlToken(req.headers.authorization, token)) return reply.code(401).send({ error: 'the simulator control API needs its token' });
    });
    app.post('/_sim/approve', async (req) => {
      const { paymentId, action } = schemas.approve.parse(req.body);
      return control.approve(paymentId, action);
    });
    app.post('/_sim/fail-next', async (req, reply) => {
      control.failNext(schemas.failNext.parse(req.body));
      return reply.code(204).send();
    });
    app.post('/_sim/latency', async (req, reply) => {
      control.setLatency(schemas.latency.parse(req.body).ms);
      return reply.code(204).send();
    });
    app.post('/_sim/pending-sales', async (req, reply) => {
      control.setPendingSales(schemas.pendingSales.parse(req.body).enabled);
      return reply.code(204).send();
    });
    app.post('/_sim/sales/:saleId/:action', async (req, reply) => {
      const { saleId, action } = schemas.saleParams.parse(req.params);
      control[saleActions[action]](saleId);
      return reply.code(204).send();
    });
    app.post('/_sim/ipn/mode', async (req, reply) => {
      control.setIpnMode(schemas.dispatchMode.parse(req.body));
      return reply.code(204).send();
    });
    app.post('/_sim/ipn/flush', async (_req, reply) => {
      control.flushIpns();
      return reply.code(204).send();
    });
    app.post('/_sim/ipn/send', async (req) => {
      const { fields, notifyUrl } = schemas.sendIpn.parse(req.body);
      return control.sendIpn(fields, notifyUrl);
    });
    app.post('/_sim/ipn/settle', async (_req, reply) => {
      await control.settleIpns();
      return reply.code(204).send();
    });
    app.get('/_sim/ipn/log', async () => control.ipnLog());
    app.post('/_sim/webhooks', async (req) => {
      const { url, id } = schemas.registerWebhook.parse(req.body);
      return control.registerWebhook(url, id);
    });
    app.post('/_sim/webhooks/mode', async (req, reply) => {
      control.setWebhookMode(schemas.dispatchMode.parse(req.body));
      return reply.code(204).send();
    });
    app.post('/_sim/webhooks/flush', async (_req, reply) => {
      control.flushWebhooks();
      return reply.code(204).send();
    });
    app.post('/_sim/webhooks/send', async (req) => control.sendWebhook(schemas.sendWebhook.parse(req.body).event));
    app.post('/_sim/webhooks/settle', async (_req, reply) => {
      await control.settleWebhooks();
      return reply.code(204).send();
    });
    app.get('/_sim/webhooks/log', async () => control.webhookLog());
    app.get('/_sim/state', async () => control.getState());
    app.post('/_sim/reset', async (_req, reply) => {
      control.reset();
      return reply.code(204).send();
    });
  });
}
