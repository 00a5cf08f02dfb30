import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validateCreatePayment } from './validate-payment.js';
import { resourceNotFound } from './errors.js';
import type { ResourceRenderer } from './resources.js';
import type { StoredResponse, SimulatorStore } from './store.js';
import { registerWebhookApiRoutes } from './webhook-api.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';

export interface ApiRouteContext {
  store: SimulatorStore;
  renderer: ResourceRenderer;
  webhooks: WebhookDispatcher;
  getBaseUrl: () => string;
  clientId: string;
  clientSecret: string;
}

const sameSecret = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** OAuth2, Payments v1 and Notifications v1, as paypal-rest-sdk calls them. */
export function registerApiRoutes(app: FastifyInstance, ctx: ApiRouteContext): void {
  const { store, renderer } = ctx;

  app.post('/v1/oauth2/token', async (req, reply) => {
    const credentials = basicCredentials(req.headers.authorization);
    if (!credentials || !sameSecret(credentials.id, ctx.clientId) || !sameSecret(credentials.secret, ctx.clientSecret)) {
      return reply.code(401).send({ error: 'invalid_client', error_description: 'Client Authentication failed' });
    }
    const grantType = new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('grant_type');
    if (grantType !== 'client_credentials') {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: `Grant Type is ${grantType ?? 'NULL'}` });
    }
    const { token, expiresIn } = store.issueToken();
    return {
      scope: 'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund',
      access_token: token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: expiresIn,
      nonce: `${new Date().toISOString()}${token.slice(-12)}`,
    };
  });

  // Everything else under /v1 needs a token this instance issued.
  app.register(async (api) => {
    api.addHook('preHandler', async (req, reply) => {
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !store.isValidToken(token)) {
        return reply.code(401).send({ error: 'invalid_token', error_description: 'Token signature verification failed' });
      }
    });

    const createPayment = async (req: FastifyRequest, reply: FastifyReply) =>
      idempotent(req, reply, 'create', () => {
        const payment = store.createPayment(validateCreatePayment(req.body));
        return { status: 201, body: renderer.payment(payment) };
      });
    // paypal-rest-sdk posts to the trailing-slash form; PayPal's documentation uses the bare one.
    api.post('/v1/payments/payment', createPayment);
    api.post('/v1/payments/payment/', createPayment);

    api.get<{ Params: { id: string } }>('/v1/payments/payment/:id', async (req) => {
      const payment = store.findPayment(req.params.id);
      if (!payment) throw resourceNotFound();
      return renderer.payment(payment);
    });

    api.post<{ Params: { id: string } }>('/v1/payments/payment/:id/execute', async (req, reply) =>
      idempotent(req, reply, `execute ${req.params.id}`, () => {
        const payerId = (req.body as { payer_id?: unknown } | undefined)?.payer_id;
        return { status: 200, body: renderer.payment(store.execute(req.params.id, payerId)) };
      }),
    );

    api.get<{ Params: { id: string } }>('/v1/payments/sale/:id', async (req) => {
      const sale = store.findSale(req.params.id);
      if (!sale) throw resourceNotFound();
      return renderer.sale(sale);
    });

    api.post<{ Params: { id: string } }>('/v1/payments/sale/:id/refund', async (req, reply) =>
      idempotent(req, reply, `refund ${req.params.id}`, () => ({
        status: 201,
        body: renderer.refund(store.refund(req.params.id, req.body)),
      })),
    );

    api.get<{ Params: { id: string } }>('/v1/payments/refund/:id', async (req) => {
      const refund = store.findRefund(req.params.id);
      if (!refund) throw resourceNotFound();
      return renderer.refund(refund);
    });

    registerWebhookApiRoutes(api, ctx.webhooks, ctx.getBaseUrl);
  });

  /**
   * PayPal-Request-Id: a retry with the same id gets the first successful answer again instead of
   * acting twice. Failures are not remembered, so a retry after an error is a real second try.
   * Synchronous from lookup to store, so concurrent duplicates cannot both act.
   */
  function idempotent(req: FastifyRequest, reply: FastifyReply, operation: string, act: () => StoredResponse) {
    const requestId = req.headers['paypal-request-id'];
    const key = typeof requestId === 'string' && requestId !== '' ? `${operation} ${requestId}` : undefined;
    const response = (key && store.recall(key)) || act();
    if (key) store.remember(key, response);
    return reply.code(response.status).send(response.body);
  }
}
