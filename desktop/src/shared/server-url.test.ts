import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_URL, ServerUrlError, normalizeServerUrl } from './server-url.js';

describe('normalizeServerUrl', () => {
  it('accepts http(s) URLs and drops the trailing slash', () => {
    expect(normalizeServerUrl(DEFAULT_SERVER_URL)).toBe('http://127.0.0.1:4000');
    expect(normalizeServerUrl('  https://orders.example.com/  ')).toBe('https://orders.example.com');
    expect(normalizeServerUrl('https://example.com/orders/')).toBe('https://example.com/orders');
    expect(normalizeServerUrl('HTTP://LOCALHOST:4000')).toBe('http://localhost:4000');
  });

  it.each([
    ['', /enter the server address/i],
    ['localhost:4000', /http/i],
    ['not a url', /not a URL/i],
    ['file:///etc/passwd', /http/i],
    ['javascript:alert(1)', /http/i],
    ['https://user:pw@example.com', /user name or password/i],
    ['https://example.com/?x=1', /query/i],
    ['https://example.com/#frag', /fragment/i],
  ])('refuses %j with a readable message', (input, message) => {
    expect(() => normalizeServerUrl(input)).toThrow(ServerUrlError);
    expect(() => normalizeServerUrl(input)).toThrow(message);
  });
});
