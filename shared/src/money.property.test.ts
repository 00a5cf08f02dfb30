import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_CURRENCIES, maxMinorAmount, minorUnitDigits, parseDecimalString, toDecimalString, type Currency } from './money.js';

const currency = fc.constantFrom(...SUPPORTED_CURRENCIES);
const amountIn = (c: Currency) => fc.integer({ min: 0, max: maxMinorAmount(c) });
const currencyAndAmount = currency.chain((c) => amountIn(c).map((amount) => ({ c, amount })));

describe('money conversion, for every supported currency', () => {
  it('minor units → PayPal string → minor units is the identity', () => {
    fc.assert(
      fc.property(currencyAndAmount, ({ c, amount }) => {
        expect(parseDecimalString(toDecimalString(amount, c), c)).toBe(amount);
      }),
      { numRuns: 2000 },
    );
  });

  it('the string has the currency’s decimals and fits PayPal’s 7-digit limit', () => {
    fc.assert(
      fc.property(currencyAndAmount, ({ c, amount }) => {
        const text = toDecimalString(amount, c);
        const pattern = minorUnitDigits(c) === 0 ? /^\d{1,7}$/ : /^\d{1,7}\.\d{2}$/;
        expect(text).toMatch(pattern);
      }),
      { numRuns: 2000 },
    );
  });

  it('PayPal string → minor units → string is the identity for canonical strings', () => {
    const canonical = currency.chain((c) =>
      fc
        .tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 0, max: 99 }))
        .map(([major, cents]) => ({ c, text: minorUnitDigits(c) === 0 ? String(major) : `${major}.${String(cents).padStart(2, '0')}` })),
    );
    fc.assert(
      fc.property(canonical, ({ c, text }) => {
        const minor = parseDecimalString(text, c);
        expect(minor).not.toBeNull();
        expect(toDecimalString(minor!, c)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('a real fraction in a zero-decimal currency is never accepted', () => {
    const zeroDecimal = fc.constantFrom<Currency>('JPY', 'HUF', 'TWD');
    fc.assert(
      fc.property(zeroDecimal, fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 1, max: 99 }), (c, major, cents) => {
        expect(parseDecimalString(`${major}.${String(cents).padStart(2, '0')}`, c)).toBeNull();
      }),
    );
  });

  it('arbitrary text never throws and never parses to a fraction or NaN', () => {
    fc.assert(
      fc.property(fc.string(), currency, (text, c) => {
        const parsed = parseDecimalString(text, c);
        if (parsed !== null) expect(Number.isSafeInteger(parsed)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
