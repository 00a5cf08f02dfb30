import { describe, expect, it } from 'vitest';
import { createOrderInput, emailAddress } from './schemas.js';

describe('createOrderInput: the customer display name', () => {
  const order = (customerName: string) => ({ customer: { type: 'user', id: 'u-1' }, items: [{ sku: 'MUG', quantity: 1 }], customerName });

  it('refuses a name of invisible characters only (zero-width spaces, direction marks), which staff would see as blank', () => {
    for (const name of ['\u200b\u200b', ' \u200e ', '\u2060\ufeff']) {
      const parsed = createOrderInput.safeParse(order(name));
      expect(parsed.success, JSON.stringify(name)).toBe(false);
      expect(parsed.error?.issues[0]).toMatchObject({ path: ['customerName'], message: expect.stringMatching(/visible character|too small|>=1/i) });
    }
  });

  it('accepts names in any script, trimmed, with joiners inside', () => {
    for (const name of ['Zoë Müller', '李小龙', '  Amelia Robinson ', 'نور\u200cالدين']) {
      expect(createOrderInput.parse(order(name)).customerName).toBe(name.trim());
    }
  });
});

describe('emailAddress: customer and staff emails', () => {
  it('takes internationalised addresses (RFC 6531) as well as ASCII ones', () => {
    for (const email of ['ada@example.com', "o'brien+shop@mail.example.ie", 'zoë@exämple.com', 'josé.garcía@correo.es', '用户@例子.广告', 'user@sub.example.co.uk', 'a@b--c.example', 'ivan@пример.рф', 'a@b.xn--p1ai']) {
      expect(emailAddress.safeParse(email).success, email).toBe(true);
    }
  });

  it('refuses what is not an address: no domain or top-level domain, markup, spaces, invisible characters, bad dots or hyphens, too long', () => {
    for (const email of ['x@y', 'a@b.c', '<a>@b.com', 'a b@c.com', 'ada@example.com\u200b', '\u200bada@example.com', '.a@b.com', 'a.@b.com', 'a..b@c.com', 'a@-b.com', 'a@b-.com', 'a@@b.com', '😀@x.com', `a@${'b'.repeat(250)}.com`]) {
      expect(emailAddress.safeParse(email).success, JSON.stringify(email)).toBe(false);
    }
    // Too long is said once, without running the pattern over the rest.
    expect(emailAddress.safeParse(`a@${'b-'.repeat(20_000)}.com`).error?.issues).toHaveLength(1);
  });
});
