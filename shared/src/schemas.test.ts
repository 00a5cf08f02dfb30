import { describe, expect, it } from 'vitest';
import { createOrderInput } from './schemas.js';

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
