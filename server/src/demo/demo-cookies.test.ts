import { describe, expect, it } from 'vitest';
import { parseCookies } from './demo-shop.js';

describe("the demo shop's cookies", () => {
  it('reads its own percent-encoded values', () => {
    expect(parseCookies('demo_customer=a%20b; other=1')).toEqual({ demo_customer: 'a b', other: '1' });
  });

  it("keeps another application's value that is not percent-encoding, instead of failing the request", () => {
    expect(parseCookies('promo=50%; demo_cart=0193a1b2-0000-7000-8000-000000000001')).toEqual({
      promo: '50%',
      demo_cart: '0193a1b2-0000-7000-8000-000000000001',
    });
  });
});
