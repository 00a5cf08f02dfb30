import { describe, expect, it } from 'vitest';
import { isUuid, isUuidIgnoringCase, UUID_SOURCE } from './ids.js';

describe('uuids', () => {
  const id = '0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b';

  it('isUuid: lower case only, whole text', () => {
    expect(isUuid(id)).toBe(true);
    expect(isUuid(id.toUpperCase())).toBe(false);
    expect(isUuid(`${id} `)).toBe(false);
    expect(isUuid(id.replaceAll('-', ''))).toBe(false);
    expect(isUuid(`x${id}`)).toBe(false);
  });

  it('isUuidIgnoringCase: either case, whole text', () => {
    expect(isUuidIgnoringCase(id.toUpperCase())).toBe(true);
    expect(isUuidIgnoringCase(`${id}0`)).toBe(false);
  });

  it('UUID_SOURCE composes (unanchored)', () => {
    expect(new RegExp(`^order:${UUID_SOURCE}$`).test(`order:${id}`)).toBe(true);
  });
});
