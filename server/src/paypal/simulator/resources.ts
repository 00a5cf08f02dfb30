import { toDecimalString } from '@orders/shared';
import type { SimPayment, SimRefund, SimSale, SimulatorStore } from './store.js';

/** Renders stored state as PayPal's v1 JSON resources, links pointing back at this simulator. */
export class ResourceRenderer {
  constructor(
    /** Where the REST API is; known only once the server listens, hence read per request. */
    private readonly getBaseUrl: () => string,
    private readonly store: SimulatorStore,
    private readonly receiverEmail: string,
    /** Where buyers' browsers reach the approval pages (the REST API's base unless the simulator is mounted elsewhere). */
    private readonly getPagesUrl: () => string = getBaseUrl,
  ) {}

  approvalUrl(payment: SimPayment): string {
    return `${this.getPagesUrl()}/cgi-bin/webscr?cmd=_express-checkout&token=${payment.token}`;
  }

  payment(payment: SimPayment) {
    const { request } = payment;
    const paymentUrl = `${this.getBaseUrl()}/v1/payments/payment/${payment.id}`;
    const buyer = this.store.buyer;
    const payerKnown = payment.buyerDecision === 'approved' || payment.state === 'approved';
    const sale = payment.saleId ? this.store.findSale(payment.saleId) : undefined;
    const refunds = (sale?.refundIds ?? []).flatMap((id) => {
      const refund = this.store.findRefund(id);
      return refund ? [{ refund: this.refund(refund) }] : [];
    });
    return {
      id: payment.id,
      intent: 'sale',
      state: payment.state,
      cart: payment.token.slice('EC-'.length),
      payer: {
        payment_method: 'paypal',
        ...(payerKnown
          ? {
              status: 'VERIFIED',
              payer_info: {
                email: buyer.email,
                first_name: buyer.firstName,
                last_name: buyer.lastName,
                payer_id: buyer.payerId,
                country_code: buyer.countryCode,
              },
            }
          : {}),
      },
      transactions: [
        {
          amount: {
            total: toDecimalString(request.total, request.currency),
            currency: request.currency,
            ...(request.amountDetails ? { details: request.amountDetails } : {}),
          },
          payee: { merchant_id: this.store.merchantId, email: this.receiverEmail },
          ...(request.description !== undefined ? { description: request.description } : {}),
          ...(request.custom !== undefined ? { custom: request.custom } : {}),
          ...(request.invoiceNumber !== undefined ? { invoice_number: request.invoiceNumber } : {}),
          ...(request.notifyUrl !== undefined ? { notify_url: request.notifyUrl } : {}),
          item_list: {
            items: request.items.map((item) => ({
              name: item.name,
              ...(item.sku !== undefined ? { sku: item.sku } : {}),
              price: toDecimalString(item.price, request.currency),
              currency: request.currency,
              quantity: item.quantity,
            })),
          },
          related_resources: sale ? [{ sale: this.sale(sale) }, ...refunds] : [],
        },
      ],
      create_time: payment.createTime,
      update_time: payment.updateTime,
      links:
        payment.state === 'created'
          ? [
              { href: paymentUrl, rel: 'self', method: 'GET' },
              { href: this.approvalUrl(payment), rel: 'approval_url', method: 'REDIRECT' },
              { href: `${paymentUrl}/execute`, rel: 'execute', method: 'POST' },
            ]
          : [{ href: paymentUrl, rel: 'self', method: 'GET' }],
    };
  }

  sale(sale: SimSale) {
    const saleUrl = `${this.getBaseUrl()}/v1/payments/sale/${sale.id}`;
    return {
      id: sale.id,
      state: sale.state,
      ...(sale.reasonCode ? { reason_code: sale.reasonCode } : {}),
      amount: { total: toDecimalString(sale.amount, sale.currency), currency: sale.currency },
      payment_mode: 'INSTANT_TRANSFER',
      protection_eligibility: 'ELIGIBLE',
      protection_eligibility_type: 'ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE',
      ...(sale.state === 'pending'
        ? {}
        : { transaction_fee: { value: toDecimalString(sale.fee, sale.currency), currency: sale.currency } }),
      parent_payment: sale.paymentId,
      create_time: sale.createTime,
      update_time: sale.updateTime,
      links: [
        { href: saleUrl, rel: 'self', method: 'GET' },
        { href: `${saleUrl}/refund`, rel: 'refund', method: 'POST' },
        { href: `${this.getBaseUrl()}/v1/payments/payment/${sale.paymentId}`, rel: 'parent_payment', method: 'GET' },
      ],
    };
  }

  refund(refund: SimRefund) {
    return {
      id: refund.id,
      state: 'completed',
      amount: { total: toDecimalString(refund.amount, refund.currency), currency: refund.currency },
      sale_id: refund.saleId,
      parent_payment: refund.paymentId,
      create_time: refund.createTime,
      update_time: refund.createTime,
      links: [
        { href: `${this.getBaseUrl()}/v1/payments/refund/${refund.id}`, rel: 'self', method: 'GET' },
        { href: `${this.getBaseUrl()}/v1/payments/payment/${refund.paymentId}`, rel: 'parent_payment', method: 'GET' },
        { href: `${this.getBaseUrl()}/v1/payments/sale/${refund.saleId}`, rel: 'sale', method: 'GET' },
      ],
    };
  }
}
