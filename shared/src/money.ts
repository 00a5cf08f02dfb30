/**
 * Money is integer minor units beside an ISO 4217 currency everywhere inside Orders.
 * PayPal speaks decimal strings; these helpers are the one place that converts, and they
 * know which currencies have no minor unit (PayPal rejects "1500.00" for JPY).
 */
export const SUPPORTED_CURRENCIES = [
  'AUD', 'BRL', 'CAD', 'CHF', 'CZK', 'DKK', 'EUR', 'GBP', 'HKD', 'HUF', 'ILS', 'JPY', 'MXN',
  'NOK', 'NZD', 'PHP', 'PLN', 'SEK', 'SGD', 'THB', 'TWD', 'USD',
] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<Currency> = new Set<Currency>(['HUF', 'JPY', 'TWD']);

/** The largest amount PayPal accepts: at most 7 integer digits. */
export const MAX_PAYPAL_MAJOR_UNITS = 9_999_999;

export interface Money {
  amount: number;
  currency: Currency;
}

export function isSupportedCurrency(value: string): value is Currency {
  return (SUPPORTED_CURRENCIES as readonly string[]).includes(value);
}

export function minorUnitDigits(currency: Currency): 0 | 2 {
  return ZERO_DECIMAL_CURRENCIES.has(currency) ? 0 : 2;
}

export function maxMinorAmount(currency: Currency): number {
  return minorUnitDigits(currency) === 0 ? MAX_PAYPAL_MAJOR_UNITS : MAX_PAYPAL_MAJOR_UNITS * 100 + 99;
}

/** 1999 USD → "19.99"; 1500 JPY → "1500". Throws on non-integer or negative input. */
export function toDecimalString(minor: number, currency: Currency): string {
  if (!Number.isSafeInteger(minor) || minor < 0) {
    throw new RangeError(`amount must be a non-negative integer of minor units, got ${minor}`);
  }
  if (minorUnitDigits(currency) === 0) return String(minor);
  const major = Math.floor(minor / 100);
  const cents = minor % 100;
  return `${major}.${String(cents).padStart(2, '0')}`;
}

/**
 * "19.99" USD → 1999; "1500" JPY → 1500. Exact string parsing, never floating point.
 * Returns null for anything PayPal would not send for that currency, so callers treat it as a mismatch.
 */
export function parseDecimalString(value: string, currency: Currency): number | null {
  const trimmed = value.trim();
  const match = /^(-)?(\d{1,9})(?:\.(\d{1,2}))?$/.exec(trimmed);
  if (!match) return null;
  const [, sign, whole, fraction] = match;
  const digits = minorUnitDigits(currency);
  let minor: number;
  if (digits === 0) {
    // PayPal sends "1500" for JPY; tolerate "1500.00" only when the fraction is zero.
    if (fraction !== undefined && Number(fraction) !== 0) return null;
    minor = Number(whole);
  } else {
    minor = Number(whole) * 100 + Number((fraction ?? '0').padEnd(2, '0'));
  }
  return sign ? -minor : minor;
}

export function formatMoney(minor: number, currency: Currency, locale = 'en-US'): string {
  const digits = minorUnitDigits(currency);
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}
