import type { FastifyInstance, FastifyReply } from 'fastify';
import { DECISION_PATH, renderApprovalPage, renderMessagePage } from './approval-page.js';
import { SimulatorControlError } from './errors.js';
import type { IpnDispatcher } from './ipn-dispatcher.js';
import type { BuyerAction, SimPayment, SimulatorStore } from './store.js';

export interface WebscrRouteContext {
  store: SimulatorStore;
  ipn: IpnDispatcher;
  merchantName: string;
}

const NOTIFY_VALIDATE_PREFIX = 'cmd=_notify-validate&';
const BUYER_ACTIONS: readonly string[] = ['approve', 'decline', 'cancel'] satisfies BuyerAction[];

const html = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).type('text/html; charset=utf-8').send(body);

/** The browser-facing PayPal pages and the IPN postback, all on PayPal's classic /cgi-bin/webscr. */
export function registerWebscrRoutes(app: FastifyInstance, ctx: WebscrRouteContext): void {
  const { store, ipn } = ctx;
  // An executed payment's pages send the buyer back as approving it did: the merchant's return page says where it stands.
  const alreadyPaid = (payment: SimPayment) => {
    const href = store.returnUrlOf(payment);
    return renderMessagePage('Already paid', 'This payment has already been completed.', href ? { href, label: `Return to ${ctx.merchantName}` } : undefined);
  };

  app.get<{ Querystring: { cmd?: string; token?: string } }>('/cgi-bin/webscr', async (req, reply) => {
    if (req.query.cmd !== '_express-checkout') {
      return html(reply, 400, renderMessagePage('Unsupported request', 'Only cmd=_express-checkout is simulated.'));
    }
    const payment = req.query.token ? store.findPaymentByToken(req.query.token) : undefined;
    if (!payment) {
      return html(reply, 404, renderMessagePage('Checkout not found', 'This checkout session is not valid.'));
    }
    if (payment.state !== 'created') {
      return html(reply, 409, alreadyPaid(payment));
    }
    return html(reply, 200, renderApprovalPage(payment, ctx.merchantName));
  });

  app.post(DECISION_PATH, async (req, reply) => {
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const action = form.get('action') ?? '';
    const payment = store.findPaymentByToken(form.get('token') ?? '');
    if (!payment || !BUYER_ACTIONS.includes(action)) {
      return html(reply, 400, renderMessagePage('Checkout not found', 'This checkout session is not valid.'));
    }
    try {
      return reply.redirect(store.decide(payment.id, action as BuyerAction), 302);
    } catch (error) {
      if (!(error instanceof SimulatorControlError)) throw error;
      // Pay Now pressed again on a page the browser kept (Back): PayPal's own "already paid", not the store's words.
      if (payment.state === 'approved') return html(reply, 409, alreadyPaid(payment));
      return html(reply, error.httpStatus, renderMessagePage('Checkout unavailable', error.message));
    }
  });

  // The raw body arrives as a latin1 string (one char per byte), so this comparison is byte-for-byte.
  app.post('/cgi-bin/webscr', async (req, reply) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const genuine = body.startsWith(NOTIFY_VALIDATE_PREFIX) && ipn.isGenuine(body.slice(NOTIFY_VALIDATE_PREFIX.length));
    return reply.type('text/plain; charset=utf-8').send(genuine ? 'VERIFIED' : 'INVALID');
  });
}
