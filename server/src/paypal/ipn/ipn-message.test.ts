import { describe, expect, it } from 'vitest';
import { parseIpn } from './ipn-message.js';

const parse = (body: string | Buffer) => parseIpn(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);

describe('parseIpn', () => {
  it('decodes + as a space and %XX as a byte, in upper and lower case hex', () => {
    expect(parse('first_name=Jos%C3%A9+Mar%c3%ada&charset=UTF-8&item_name=A%2BB%26C%3D')).toEqual({
      first_name: 'José María',
      charset: 'UTF-8',
      item_name: 'A+B&C=',
    });
  });

  it("reads bytes with the message's own charset, windows-1252 when it names none", () => {
    expect(parse('mc_gross=10.00&memo=%80+%E9t%E9').memo).toBe('€ été');
    expect(parse('charset=windows-1252&memo=%80').memo).toBe('€');
    expect(parse('charset=ISO-8859-1&memo=%E9').memo).toBe('é');
    // A charset no decoder knows falls back to windows-1252.
    expect(parse('charset=x-unknown&memo=%80').memo).toBe('€');
  });

  it('keeps a % without two hex digits as it is, anywhere in the value', () => {
    expect(parse('a=100%&b=%zz&c=%4&d=%&e=%%41&f=50%25').a).toBe('100%');
    expect(parse('a=100%&b=%zz&c=%4&d=%&e=%%41&f=50%25')).toMatchObject({ b: '%zz', c: '%4', d: '%', e: '%A', f: '50%' });
  });

  it('takes raw non-ASCII bytes as they came, through the charset', () => {
    const body = Buffer.concat([Buffer.from('charset=UTF-8&name='), Buffer.from('Zoë', 'utf8')]);
    expect(parse(body).name).toBe('Zoë');
  });

  it('keeps the first of repeated keys, empty values and keys without "=", and hostile keys as plain data', () => {
    const fields = parse('txn_id=1&txn_id=2&&empty=&flag&__proto__=x&constructor=y');
    expect(fields.txn_id).toBe('1');
    expect(fields.empty).toBe('');
    expect(fields.flag).toBe('');
    expect(fields.__proto__).toBe('x');
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(fields.constructor).toBe('y');
  });

  it('agrees with decodeURIComponent on UTF-8 messages of every printable and encoded character', () => {
    const text = Array.from({ length: 0x250 }, (_, i) => String.fromCodePoint(i + 0x20)).join('') + '€😀';
    const encoded = encodeURIComponent(text).replace(/%20/g, '+');
    expect(parse(`charset=UTF-8&v=${encoded}`).v).toBe(text);
  });
});
