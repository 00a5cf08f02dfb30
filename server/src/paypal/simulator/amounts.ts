import { minorUnitDigits, parseDecimalString, toDecimalString, type Currency } from '@orders/shared';

export type AmountParse = { ok: true; minor: number } | { ok: false; issue: string };

/**
 * Parses a PayPal amount string the way PayPal validates it: at most 7 integer digits, and for
 * zero-decimal currencies (HUF, JPY, TWD) no decimal point at all — "1500.00" JPY is rejected.
 */
export function parseAmount(value: unknown, currency: Currency): AmountParse {
  if (typeof value !== 'string') return { ok: false, issue: 'Value must be a string' };
  if (minorUnitDigits(currency) === 0) {
    if (/^\d+\.\d*$/.test(value)) return { ok: false, issue: `Currency ${currency} does not support decimals.` };
    if (!/^\d{1,7}$/.test(value)) return { ok: false, issue: 'Value is invalid (at most 7 digits, no decimals)' };
  } else if (!/^\d{1,7}(\.\d{1,2})?$/.test(value)) {
    return { ok: false, issue: 'Value is invalid (at most 7 digits and 2 decimals)' };
  }
  const minor = parseDecimalString(value, currency);
  return minor === null ? { ok: false, issue: 'Value is invalid' } : { ok: true, minor };
}

/** A signed decimal string: IPN uses negative mc_gross / mc_fee for money leaving the merchant. */
export function signedDecimal(minor: number, currency: Currency): string {
  return minor < 0 ? `-${toDecimalString(-minor, currency)}` : toDecimalString(minor, currency);
}

/** A rough PayPal-like fee (2.9% + a fixed part) so IPNs carry a plausible mc_fee. */
export function merchantFee(amount: number, currency: Currency): number {
  const fixed = minorUnitDigits(currency) === 0 ? 40 : 30;
  return Math.min(amount, Math.round(amount * 0.029) + fixed);
}
