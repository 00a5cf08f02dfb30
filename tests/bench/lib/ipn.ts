import { randomBytes } from 'node:crypto';
import { toDecimalString, type Currency } from '@orders/shared';

export const RECEIVER_EMAIL = 'merchant@orders.example';

/**
 * A Completed IPN for an approved attempt, with the variables and order PayPal (and the
 * simulator's ipnFieldsFor) use. `invoice` is the attempt id, as Orders sends it at payment.create.
 */
export function completedIpn(target: { orderId: string; attemptId: string; amount: number; currency: string }, txnId: string): Record<string, string> {
  const currency = target.currency as Currency;
  return {
    mc_gross: toDecimalString(target.amount, currency),
    protection_eligibility: 'Eligible',
    payer_id: 'BENCHPAYER001',
    payment_date: '10:12:59 Nov 23, 2026 PST',
    payment_status: 'Completed',
    charset: 'UTF-8',
    first_name: 'Bench',
    last_name: 'Buyer',
    mc_fee: toDecimalString(Math.round(target.amount * 0.029) + 30, currency),
    notify_version: '3.9',
    custom: target.orderId,
    payer_status: 'verified',
    business: RECEIVER_EMAIL,
    verify_sign: randomBytes(24).toString('base64url'),
    payer_email: 'bench.buyer@example.com',
    txn_id: txnId,
    payment_type: 'instant',
    receiver_email: RECEIVER_EMAIL,
    receiver_id: 'BENCHMERCHANT',
    txn_type: 'express_checkout',
    invoice: target.attemptId,
    mc_currency: currency,
    residence_country: 'US',
    test_ipn: '1',
    ipn_track_id: randomBytes(6).toString('hex'),
  };
}

/** 17 characters, like PayPal's sale ids; `prefix` marks the phase so its events can be found. */
export const txnIdFor = (prefix: string, i: number) => `${prefix}${String(i).padStart(17 - prefix.length, '0')}`;
