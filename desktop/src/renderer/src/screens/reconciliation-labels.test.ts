import { describe, expect, it } from 'vitest';
import { resolveSummary } from './ReconciliationScreen';

describe('resolveSummary', () => {
  it('names the kind once when the detail already starts with it', () => {
    expect(resolveSummary('amount_mismatch', 'amount mismatch: reported 1990 USD, expected 990 USD (update_attempt)')).toBe(
      'Amount mismatch: reported 1990 USD, expected 990 USD (update_attempt)',
    );
  });
  it('prefixes the kind otherwise', () => {
    expect(resolveSummary('stuck_attempt', 'attempt created for 120 minutes')).toMatch(/^Stuck attempt: attempt created for 120 minutes$/);
  });
});
