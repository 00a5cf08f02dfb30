import { describe, expect, it } from 'vitest';
import { moneyText } from './money-text.js';

describe('moneyText', () => {
  it('writes minor units as the back office shows money, JPY without decimals', () => {
    expect(moneyText(3000, 'USD')).toBe('$30.00');
    expect(moneyText(1800, 'EUR')).toBe('€18.00');
    expect(moneyText(1500, 'JPY')).toBe('¥1,500');
    expect(moneyText(-2500, 'USD')).toBe('-$25.00');
    expect(moneyText(3000, 'XYZ')).toBe('3000 XYZ');
    expect(moneyText(3000, null)).toBe('3000');
  });
});
