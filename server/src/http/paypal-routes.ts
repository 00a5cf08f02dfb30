import type { FastifyInstance, FastifyReply } from 'fastify';
import { ORDER_STATUSES } from '@orders/shared';
import { DomainError, fromDatabaseError, httpStatusOf } from '../errors.js';
import { isUuid } from '../ids.js';
import type { Logger } from '../logger.js';
import { escapeHtml, htmlHead } from './html.js';
import { buyerPageDetail, buyerPageTitle, isHeldSale } from '../modules/payments/buyer-return.js';
import type { PaymentsService, ReturnResult } from '../modules/payments/payments.service.js';

/** IPN bodies are a few KB; PayPal never sends more than this. */
const IPN_BODY_LIMIT = 64 * 1024;

/** The buyer's page stops refreshing once the order has left `pending`. */
const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set(ORDER_STATUSES.filter((status) => status !== 'pending'));

/** A return that was not executed: the buyer learns why, and that nothing was charged through it. */
const REFUSED_TITLES: Record<NonNullable<ReturnResult['refused']>, string> = {
  already_paid: 'This order is already paid',
  order_cancelled: 'This order was cancelled',
  replaced: 'This payment link was replaced',
  cancelled_by_buyer: 'You cancelled this payment',
  expired: 'This payment link expired',
  declined: 'This payment was declined',
};

/** A sale PayPal reviews can take days: its page looks again less often. */
const HELD_REFRESH_SECONDS = 30;

/** The buyer's status page, shown after PayPal: a small page that tells the buyer where their payment stands, refreshing until final. */
function statusPage(result: ReturnResult | { title: string; message: string }, statusUrl?: string): string {
  const isResult = 'orderStatus' in result;
  const refused = isResult ? result.refused : undefined;
  const final = !isResult || refused !== undefined || FINAL_ORDER_STATUSES.has(result.orderStatus) || result.attemptStatus === 'cancelled';
  const title = refused ? REFUSED_TITLES[refused] : isResult ? buyerPageTitle(result) : result.title;
  const detail = isResult && refused
    ? `${result.message.charAt(0).toUpperCase()}${result.message.slice(1)}. ${buyerPageDetail(result)}`
    : isResult
      ? buyerPageDetail(result)
      : result.message;
  // The buyer is shown the order's number (#1002), never its id: the id is for machines (the shop's redirect).
  const detailHtml = escapeHtml(detail);
  // A refusal is not handed to the shop as this payment's outcome (sendOutcome), but the buyer is not
  // left on it either: the shop's own page, with the order's status as it is now, is one click away.
  const onward = isResult && refused && result.redirectTo ? result.redirectTo : undefined;
  return `${htmlHead(title)}
${!final && statusUrl ? `<meta http-equiv="refresh" content="${isResult && isHeldSale(result) ? HELD_REFRESH_SECONDS : 2};url=${escapeHtml(statusUrl)}">` : ''}
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { display: grid; place-items: center; min-height: 100vh; margin: 0; }
  main { max-width: 28rem; margin: 1rem; padding: 2rem; border-radius: 12px; border: 1px solid #8884; text-align: center; }
  h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
  p { color: #666; margin: .25rem 0; }
  p.onward { margin-top: 1rem; } a { color: #0b5cad; }
  @media (max-width: 420px) { main { padding: 1.25rem; } }
</style></head>
<body><main><h1 data-testid="payment-title">${escapeHtml(title)}</h1><p data-testid="payment-detail">${detailHtml}</p>
${!final ? '<p>This page refreshes by itself.</p>' : ''}${onward ? `<p class="onward"><a data-testid="payment-onward" href="${escapeHtml(onward)}">Return to the shop</a></p>` : ''}</main></body></html>`;
}

function sendHtml(reply: FastifyReply, status: number, html: string) {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
    .send(html);
}

function sendOutcome(reply: FastifyReply, result: ReturnResult) {
  // A refused return is shown here, not handed to the shop's page as if it were this payment's outcome.
  if (result.redirectTo && !result.refused) return reply.redirect(result.redirectTo, 303);
  return sendHtml(reply, 200, statusPage(result, `/paypal/status/${result.attemptId}`));
}

/**
 * The buyer's page for a refusal: a link naming no payment; a link that cannot pay (incomplete, or one
 * PayPal would not execute: not approved, or approved by another PayPal account), where reloading
 * cannot help and nothing was charged through it; PayPal not answering, which a reload may get past.
 */
const ERROR_PAGES = {
  NOT_FOUND: { title: 'Payment not found', message: 'This link does not match any payment.' },
  BAD_REQUEST: {
    title: 'This payment link cannot be used',
    message: 'It is incomplete, or PayPal did not accept it (not approved, or approved by another PayPal account). Nothing was charged through it: pay again from your order in the shop.',
  },
  UNAVAILABLE: { title: 'We could not confirm your payment yet', message: 'PayPal did not answer us. Please reload this page in a moment.' },
};

function sendError(reply: FastifyReply, logger: Logger, error: unknown) {
  // A value PostgreSQL refuses (a malformed uuid, a NUL byte, an over-long id) names no payment, never a 500.
  if (!(error instanceof DomainError) && fromDatabaseError(error)?.code === 'BAD_REQUEST') error = new DomainError('NOT_FOUND', 'payment not found');
  if (error instanceof DomainError) {
    if (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST') return sendHtml(reply, httpStatusOf(error.code), statusPage(ERROR_PAGES[error.code]));
    return sendHtml(reply, 502, statusPage(ERROR_PAGES.UNAVAILABLE));
  }
  logger.error({ err: error }, 'PayPal browser route failed');
  return sendHtml(reply, 500, statusPage({ title: 'Something went wrong', message: 'Please reload this page in a moment.' }));
}

const one = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** PayPal's payment ids (PAY-…), payer ids and EC tokens: what the gateway accepts in a URL path. */
const PAYPAL_ID = /^[A-Za-z0-9-]{1,64}$/;
/** A query value that is present but cannot be one of PayPal's ids names no payment of ours. */
const malformed = (value: string | undefined) => value !== undefined && !PAYPAL_ID.test(value);

export async function registerPaypalRoutes(app: FastifyInstance, payments: PaymentsService, logger: Logger) {
  await app.register(async (scope) => {
    // The IPN body is kept as the exact bytes received: verification posts them back unchanged.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: IPN_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    scope.post('/paypal/ipn', { bodyLimit: IPN_BODY_LIMIT }, async (request, reply) => {
      if (!Buffer.isBuffer(request.body) || request.body.length === 0) return reply.status(400).send();
      await payments.receiveIpn(request.body);
      // PayPal wants 200 with an empty body; anything else makes it resend.
      return reply.status(200).send();
    });
  });

  app.get('/paypal/return', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const [paymentId, payerId, token] = [one(query.paymentId), one(query.PayerID), one(query.token)];
    // Checked before anything is stored or sent to PayPal: a made-up PayerID must not fail someone's order.
    if (malformed(paymentId) || malformed(payerId) || malformed(token)) return sendError(reply, logger, new DomainError('NOT_FOUND', 'payment not found'));
    try {
      const result = await payments.handleReturn({ paymentId, payerId, token });
      return sendOutcome(reply, result);
    } catch (error) {
      return sendError(reply, logger, error);
    }
  });

  app.get('/paypal/cancel', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const [attemptId, token] = [one(query.attemptId), one(query.token)];
    if (!attemptId || !isUuid(attemptId) || malformed(token)) return sendError(reply, logger, new DomainError('NOT_FOUND', 'payment not found'));
    try {
      return sendOutcome(reply, await payments.handleCancel({ attemptId, token }));
    } catch (error) {
      return sendError(reply, logger, error);
    }
  });

  app.get('/paypal/status/:attemptId', async (request, reply) => {
    const { attemptId } = request.params as { attemptId: string };
    if (!isUuid(attemptId)) return sendError(reply, logger, new DomainError('NOT_FOUND', 'payment not found'));
    try {
      const result = await payments.attemptStatus(attemptId);
      return sendHtml(reply, 200, statusPage(result, `/paypal/status/${attemptId}`));
    } catch (error) {
      return sendError(reply, logger, error);
    }
  });
}
