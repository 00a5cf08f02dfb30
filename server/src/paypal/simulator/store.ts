import type { Currency } from '@orders/shared';
import { merchantFee, parseAmount } from './amounts.js';
import {
  instrumentDeclined,
  invalidPayerId,
  paymentAlreadyDone,
  paymentNotApproved,
  refundExceedsAmount,
  resourceNotFound,
  SimulatorControlError,
  transactionAlreadyRefunded,
  transactionRefused,
  validationError,
} from './errors.js';
import { newAccessToken, newCheckoutToken, newPayerId, newPaymentId, newTransactionId } from './ids.js';
import { memoryOnlyJournal, type JournalContents, type SimulatorJournal } from './journal.js';
import type { ValidPaymentRequest } from './validate-payment.js';

export type BuyerAction = 'approve' | 'decline' | 'cancel';
export type SaleState = 'pending' | 'completed' | 'refunded' | 'partially_refunded' | 'denied' | 'reversed';

export interface Buyer {
  payerId: string;
  email: string;
  firstName: string;
  lastName: string;
  countryCode: string;
}

export interface SimPayment {
  id: string;
  token: string;
  /** PayPal keeps a payment `created` through approval; only execute moves it to `approved`. */
  state: 'created' | 'approved';
  request: ValidPaymentRequest;
  buyerDecision?: 'approved' | 'declined' | 'cancelled';
  payerId?: string;
  saleId?: string;
  createTime: string;
  updateTime: string;
}

export interface SimSale {
  id: string;
  paymentId: string;
  state: SaleState;
  reasonCode?: string;
  amount: number;
  currency: Currency;
  fee: number;
  refunded: number;
  refundIds: string[];
  createTime: string;
  updateTime: string;
}

export interface SimRefund {
  id: string;
  saleId: string;
  paymentId: string;
  amount: number;
  currency: Currency;
  fee: number;
  createTime: string;
}

/** What happened to a sale, for the IPN layer to announce. */
export type SaleEvent =
  | { kind: 'sale-created' | 'sale-completed' | 'sale-denied'; sale: SimSale; payment: SimPayment }
  | { kind: 'refunded'; sale: SimSale; payment: SimPayment; refund: SimRefund }
  | { kind: 'reversed' | 'reversal-canceled'; sale: SimSale; payment: SimPayment; txnId: string };

export interface StoredResponse {
  status: number;
  body: unknown;
}

const TOKEN_LIFETIME_SECONDS = 32_400;

/** PayPal's timestamp style: ISO 8601 in UTC without milliseconds. */
export const paypalTime = (date = new Date()) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Account {
  buyer: Buyer;
  merchantId: string;
  pendingSales: boolean;
}

/**
 * All simulated PayPal state of one simulator instance; every instance owns its own. It works on an
 * in-memory copy and tells its journal every change: the default journal keeps nothing, the
 * PostgreSQL one (a simulator inside the server) keeps it across restarts.
 */
export class SimulatorStore {
  readonly buyer: Buyer;
  readonly merchantId: string;
  private pendingSalesOn = false;

  private payments = new Map<string, SimPayment>();
  private paymentsByToken = new Map<string, SimPayment>();
  private sales = new Map<string, SimSale>();
  private refunds = new Map<string, SimRefund>();
  private tokens = new Map<string, number>();
  private idempotent = new Map<string, StoredResponse>();

  constructor(
    private readonly onSaleEvent: (event: SaleEvent) => void,
    private readonly journal: SimulatorJournal = memoryOnlyJournal,
    /** What the journal kept from an earlier run. */
    saved?: JournalContents,
  ) {
    const account = saved?.account[0]?.body as Account | undefined;
    this.buyer = account?.buyer ?? { payerId: newPayerId(), email: 'buyer@example.com', firstName: 'Test', lastName: 'Buyer', countryCode: 'US' };
    this.merchantId = account?.merchantId ?? newPayerId();
    this.pendingSalesOn = account?.pendingSales ?? false;
    if (!account) this.saveAccount();
    for (const { body } of saved?.payment ?? []) {
      const payment = body as SimPayment;
      this.payments.set(payment.id, payment);
      this.paymentsByToken.set(payment.token, payment);
    }
    for (const { body } of saved?.sale ?? []) this.sales.set((body as SimSale).id, body as SimSale);
    for (const { body } of saved?.refund ?? []) this.refunds.set((body as SimRefund).id, body as SimRefund);
    for (const { id, body } of saved?.access_token ?? []) {
      const expiresAt = (body as { expiresAt: number }).expiresAt;
      if (expiresAt > Date.now()) this.tokens.set(id, expiresAt);
    }
    for (const { id, body } of saved?.idempotent_response ?? []) this.idempotent.set(id, body as StoredResponse);
  }

  get pendingSales(): boolean {
    return this.pendingSalesOn;
  }

  set pendingSales(enabled: boolean) {
    this.pendingSalesOn = enabled;
    this.saveAccount();
  }

  /** Resolves once every change so far is as durable as the journal makes it. */
  flush(): Promise<void> {
    return this.journal.flush();
  }

  issueToken(): { token: string; expiresIn: number } {
    const token = newAccessToken();
    const expiresAt = Date.now() + TOKEN_LIFETIME_SECONDS * 1000;
    this.tokens.set(token, expiresAt);
    this.journal.save('access_token', token, { expiresAt });
    return { token, expiresIn: TOKEN_LIFETIME_SECONDS };
  }

  isValidToken(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  /** PayPal-Request-Id: a repeated id gets the first successful answer, never a second effect. */
  recall(key: string): StoredResponse | undefined {
    return this.idempotent.get(key);
  }

  remember(key: string, response: StoredResponse): void {
    this.idempotent.set(key, response);
    this.journal.save('idempotent_response', key, response);
  }

  createPayment(request: ValidPaymentRequest): SimPayment {
    const now = paypalTime();
    const payment: SimPayment = {
      id: newPaymentId(),
      token: newCheckoutToken(),
      state: 'created',
      request,
      createTime: now,
      updateTime: now,
    };
    this.payments.set(payment.id, payment);
    this.paymentsByToken.set(payment.token, payment);
    this.savePayment(payment);
    return payment;
  }

  findPayment(id: string): SimPayment | undefined {
    return this.payments.get(id);
  }

  findPaymentByToken(token: string): SimPayment | undefined {
    return this.paymentsByToken.get(token);
  }

  findSale(id: string): SimSale | undefined {
    return this.sales.get(id);
  }

  findRefund(id: string): SimRefund | undefined {
    return this.refunds.get(id);
  }

  /** The buyer's choice on the approval page; returns where PayPal would redirect the browser. */
  decide(paymentId: string, action: BuyerAction): string {
    const payment = this.payments.get(paymentId);
    if (!payment) throw new SimulatorControlError(404, `unknown payment ${paymentId}`);
    if (payment.state !== 'created') throw new SimulatorControlError(409, `payment ${paymentId} is already executed`);
    payment.updateTime = paypalTime();
    if (action === 'cancel') {
      payment.buyerDecision = 'cancelled';
      this.savePayment(payment);
      const url = new URL(payment.request.cancelUrl);
      url.searchParams.append('token', payment.token);
      return url.toString();
    }
    payment.buyerDecision = action === 'approve' ? 'approved' : 'declined';
    payment.payerId = this.buyer.payerId;
    this.savePayment(payment);
    return this.returnUrlOf(payment)!;
  }

  /** Where PayPal sends the browser back to the merchant once the buyer has decided: the return URL with the payment, its token and the payer. */
  returnUrlOf(payment: SimPayment): string | undefined {
    if (!payment.payerId) return undefined;
    const url = new URL(payment.request.returnUrl);
    url.searchParams.append('paymentId', payment.id);
    url.searchParams.append('token', payment.token);
    url.searchParams.append('PayerID', payment.payerId);
    return url.toString();
  }

  execute(paymentId: string, payerId: unknown): SimPayment {
    const payment = this.payments.get(paymentId);
    if (!payment) throw resourceNotFound();
    if (typeof payerId !== 'string' || payerId === '') {
      throw validationError([{ field: 'payer_id', issue: 'Required field missing' }]);
    }
    if (payment.state === 'approved') throw paymentAlreadyDone();
    if (payment.buyerDecision !== 'approved' && payment.buyerDecision !== 'declined') throw paymentNotApproved();
    if (payerId !== payment.payerId) throw invalidPayerId();
    // PayPal leaves the payment `created` after a decline so the buyer can pick another funding source.
    if (payment.buyerDecision === 'declined') throw instrumentDeclined();

    const now = paypalTime();
    const { total, currency } = payment.request;
    const sale: SimSale = {
      id: newTransactionId(),
      paymentId,
      state: this.pendingSales ? 'pending' : 'completed',
      ...(this.pendingSales ? { reasonCode: 'PAYMENT_REVIEW' } : {}),
      amount: total,
      currency,
      fee: merchantFee(total, currency),
      refunded: 0,
      refundIds: [],
      createTime: now,
      updateTime: now,
    };
    this.sales.set(sale.id, sale);
    payment.state = 'approved';
    payment.saleId = sale.id;
    payment.updateTime = now;
    this.saveSale(sale);
    this.savePayment(payment);
    this.onSaleEvent({ kind: 'sale-created', sale, payment });
    return payment;
  }

  refund(saleId: string, body: unknown): SimRefund {
    const sale = this.sales.get(saleId);
    if (!sale) throw resourceNotFound();
    const remaining = sale.amount - sale.refunded;
    const amount = this.requestedRefundAmount(body, sale.currency) ?? remaining;
    if (sale.state === 'refunded') throw transactionAlreadyRefunded();
    if (sale.state !== 'completed' && sale.state !== 'partially_refunded') throw transactionRefused();
    if (amount > remaining) throw refundExceedsAmount();

    const refund: SimRefund = {
      id: newTransactionId(),
      saleId,
      paymentId: sale.paymentId,
      amount,
      currency: sale.currency,
      fee: Math.round((sale.fee * amount) / sale.amount),
      createTime: paypalTime(),
    };
    this.refunds.set(refund.id, refund);
    sale.refunded += amount;
    sale.refundIds.push(refund.id);
    sale.state = sale.refunded === sale.amount ? 'refunded' : 'partially_refunded';
    sale.updateTime = refund.createTime;
    this.journal.save('refund', refund.id, refund);
    this.saveSale(sale);
    this.onSaleEvent({ kind: 'refunded', sale, payment: this.paymentOf(sale), refund });
    return refund;
  }

  completePendingSale(saleId: string): SimSale {
    const sale = this.saleInState(saleId, ['pending']);
    sale.state = 'completed';
    delete sale.reasonCode;
    this.touch(sale);
    this.onSaleEvent({ kind: 'sale-completed', sale, payment: this.paymentOf(sale) });
    return sale;
  }

  denySale(saleId: string): SimSale {
    const sale = this.saleInState(saleId, ['pending']);
    sale.state = 'denied';
    this.touch(sale);
    this.onSaleEvent({ kind: 'sale-denied', sale, payment: this.paymentOf(sale) });
    return sale;
  }

  /** A buyer's chargeback: the money still held leaves the merchant under a new transaction id. */
  reverseSale(saleId: string): SimSale {
    const sale = this.saleInState(saleId, ['completed', 'partially_refunded']);
    sale.state = 'reversed';
    this.touch(sale);
    this.onSaleEvent({ kind: 'reversed', sale, payment: this.paymentOf(sale), txnId: newTransactionId() });
    return sale;
  }

  cancelReversal(saleId: string): SimSale {
    const sale = this.saleInState(saleId, ['reversed']);
    sale.state = sale.refunded === 0 ? 'completed' : 'partially_refunded';
    this.touch(sale);
    this.onSaleEvent({ kind: 'reversal-canceled', sale, payment: this.paymentOf(sale), txnId: newTransactionId() });
    return sale;
  }

  snapshot() {
    return {
      pendingSales: this.pendingSales,
      buyer: { ...this.buyer },
      payments: [...this.payments.values()].map((p) => structuredClone(p)),
      sales: [...this.sales.values()].map((s) => structuredClone(s)),
      refunds: [...this.refunds.values()].map((r) => structuredClone(r)),
    };
  }

  reset(): void {
    for (const map of [this.payments, this.paymentsByToken, this.sales, this.refunds, this.tokens, this.idempotent]) {
      map.clear();
    }
    this.journal.clear(['payment', 'sale', 'refund', 'access_token', 'idempotent_response']);
    this.pendingSales = false;
  }

  private requestedRefundAmount(body: unknown, currency: Currency): number | undefined {
    if (typeof body !== 'object' || body === null || !('amount' in body) || body.amount === undefined) return undefined;
    const amount = body.amount as { total?: unknown; currency?: unknown } | null;
    if (typeof amount !== 'object' || amount === null) {
      throw validationError([{ field: 'amount', issue: 'Value is invalid' }]);
    }
    if (amount.currency !== currency) {
      throw validationError([{ field: 'amount.currency', issue: `Currency must be ${currency}, the sale's currency` }]);
    }
    const parsed = parseAmount(amount.total, currency);
    if (!parsed.ok) throw validationError([{ field: 'amount.total', issue: parsed.issue }]);
    if (parsed.minor === 0) throw validationError([{ field: 'amount.total', issue: 'Must be greater than zero' }]);
    return parsed.minor;
  }

  private saleInState(saleId: string, allowed: SaleState[]): SimSale {
    const sale = this.sales.get(saleId);
    if (!sale) throw new SimulatorControlError(404, `unknown sale ${saleId}`);
    if (!allowed.includes(sale.state)) {
      throw new SimulatorControlError(409, `sale ${saleId} is ${sale.state}, expected ${allowed.join(' or ')}`);
    }
    return sale;
  }

  private paymentOf(sale: SimSale): SimPayment {
    const payment = this.payments.get(sale.paymentId);
    if (!payment) throw new Error(`sale ${sale.id} lost its payment ${sale.paymentId}`);
    return payment;
  }

  private touch(sale: SimSale): void {
    sale.updateTime = paypalTime();
    this.saveSale(sale);
  }

  private savePayment(payment: SimPayment): void {
    this.journal.save('payment', payment.id, payment);
  }

  private saveSale(sale: SimSale): void {
    this.journal.save('sale', sale.id, sale);
  }

  private saveAccount(): void {
    this.journal.save('account', 'account', { buyer: this.buyer, merchantId: this.merchantId, pendingSales: this.pendingSalesOn } satisfies Account);
  }
}
