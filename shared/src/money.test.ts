import { describe, expect, it } from 'vitest';
import {
  SUPPORTED_CURRENCIES,
  ZERO_DECIMAL_CURRENCIES,
  formatMoney,
  maxMinorAmount,
  minorUnitDigits,
  parseDecimalString,
  toDecimalString,
  type Currency,
} from './money.js';

/** Intl puts non-breaking spaces between symbol and number; compare with plain ones. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('minor units per currency', () => {
  it('JPY, HUF and TWD have none; the rest have two', () => {
    expect([...ZERO_DECIMAL_CURRENCIES].sort()).toEqual(['HUF', 'JPY', 'TWD']);
    expect(minorUnitDigits('JPY')).toBe(0);
    expect(minorUnitDigits('USD')).toBe(2);
    expect(maxMinorAmount('JPY')).toBe(9_999_999);
    expect(maxMinorAmount('USD')).toBe(999_999_999);
  });
});

describe('toDecimalString', () => {
  it.each<[number, Currency, string]>([
    [1999, 'USD', '19.99'],
    [5, 'USD', '0.05'],
    [0, 'USD', '0.00'],
    [100, 'EUR', '1.00'],
    [1050, 'GBP', '10.50'],
    [999_999_999, 'USD', '9999999.99'],
    [1500, 'JPY', '1500'],
    [0, 'JPY', '0'],
    [150000, 'HUF', '150000'],
    [30, 'TWD', '30'],
  ])('%i %s → %j', (minor, currency, expected) => {
    expect(toDecimalString(minor, currency)).toBe(expected);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2])('refuses %d', (minor) => {
    expect(() => toDecimalString(minor, 'USD')).toThrow(RangeError);
    expect(() => toDecimalString(minor, 'JPY')).toThrow(RangeError);
  });
});

describe('parseDecimalString', () => {
  it.each<[string, Currency, number]>([
    ['19.99', 'USD', 1999],
    ['19.9', 'USD', 1990],
    ['19', 'USD', 1900],
    ['0.01', 'USD', 1],
    ['0.00', 'EUR', 0],
    [' 19.99 ', 'USD', 1999],
    ['9999999.99', 'USD', 999_999_999],
    ['1500', 'JPY', 1500],
    ['1500', 'HUF', 1500],
    ['30', 'TWD', 30],
    // PayPal sends whole yen, but a zero fraction is the same amount.
    ['1500.00', 'JPY', 1500],
    ['1500.0', 'HUF', 1500],
    // Refunds and reversals arrive negative.
    ['-10.00', 'USD', -1000],
    ['-0.50', 'EUR', -50],
    ['-1500', 'JPY', -1500],
  ])('%j %s → %i', (text, currency, expected) => {
    expect(parseDecimalString(text, currency)).toBe(expected);
  });

  it.each<[string, Currency]>([
    ['1500.50', 'JPY'],
    ['1500.5', 'HUF'],
    ['0.01', 'TWD'],
    ['1.999', 'USD'],
    ['', 'USD'],
    ['   ', 'USD'],
    ['abc', 'USD'],
    ['19.99 USD', 'USD'],
    ['$19.99', 'USD'],
    ['1,000.00', 'USD'],
    ['1.000,00', 'EUR'],
    ['1e3', 'USD'],
    ['0x10', 'USD'],
    ['.50', 'USD'],
    ['5.', 'USD'],
    ['+5.00', 'USD'],
    ['--5.00', 'USD'],
    ['- 5.00', 'USD'],
    ['NaN', 'USD'],
    ['Infinity', 'USD'],
    ['١٢٣', 'JPY'],
    ['1234567890', 'JPY'],
    ['12345678901.00', 'USD'],
  ])('%j %s → null', (text, currency) => {
    expect(parseDecimalString(text, currency)).toBeNull();
  });

  it('round-trips toDecimalString for every currency', () => {
    const amounts = [0, 1, 9, 10, 99, 100, 101, 1999, 123_456, 9_999_999];
    for (const currency of SUPPORTED_CURRENCIES) {
      for (const minor of [...amounts, maxMinorAmount(currency)]) {
        expect(parseDecimalString(toDecimalString(minor, currency), currency)).toBe(minor);
      }
    }
  });

  it('never goes through floating point: 0.29 USD is 29, not 28.999…', () => {
    expect(parseDecimalString('0.29', 'USD')).toBe(29);
    expect(parseDecimalString('1.15', 'USD')).toBe(115);
    expect(parseDecimalString('4.35', 'USD')).toBe(435);
  });
});

describe('formatMoney', () => {
  it.each<[number, Currency, string | undefined, string]>([
    [1999, 'USD', undefined, '$19.99'],
    [0, 'USD', undefined, '$0.00'],
    [5, 'USD', undefined, '$0.05'],
    [999_999_999, 'USD', undefined, '$9,999,999.99'],
    [-1000, 'USD', undefined, '-$10.00'],
    [1500, 'JPY', undefined, '¥1,500'],
    [150000, 'HUF', undefined, 'HUF 150,000'],
    [1500, 'TWD', undefined, 'NT$1,500'],
    [123456, 'EUR', 'de-DE', '1.234,56 €'],
  ])('%i %s (%s) → %j', (minor, currency, locale, expected) => {
    expect(plain(formatMoney(minor, currency, locale))).toBe(expected);
  });

  it('shows no fraction digits for zero-decimal currencies', () => {
    for (const currency of ZERO_DECIMAL_CURRENCIES) expect(formatMoney(1500, currency)).not.toMatch(/[.,]\d{2}$/);
  });
});
