import { describe, expect, it } from 'vitest';
import { outcomeFromIpn } from './outcomes.js';

const attempt = { amount: 22_500, currency: 'USD', saleId: null };

describe('outcomeFromIpn', () => {
  it('reads a Completed IPN for what the attempt asked as a capture', () => {
    expect(outcomeFromIpn({ payment_status: 'Completed', mc_gross: '225.00', mc_currency: 'USD', txn_id: '9AB12345CD6789012' }, attempt)).toMatchObject({
      kind: 'completed',
      saleId: '9AB12345CD6789012',
      amount: 22_500,
    });
  });

  // PayPal's chargeback settlement, as a production IPN carries it: money taken from the merchant.
  it('never reads a negative Completed (an adjustment) as a payment', () => {
    const adjustment = {
      txn_type: 'adjustment',
      payment_status: 'Completed',
      mc_gross: '-225.00',
      mc_currency: 'USD',
      reason_code: 'chargeback_settlement',
      parent_txn_id: '9AB12345CD6789012',
      txn_id: '1XY98765ZW4321098',
    };
    const outcome = outcomeFromIpn(adjustment, attempt);
    expect(outcome).toMatchObject({ kind: 'mismatch', flag: 'amount_mismatch' });
    expect(outcome && 'reason' in outcome ? outcome.reason : '').toContain('adjustment, chargeback_settlement');
    expect(outcomeFromIpn({ ...adjustment, payment_status: 'Pending', mc_gross: ' -225.00' }, attempt)).toMatchObject({ kind: 'mismatch' });
  });

  it('reads a case PayPal opened on the sale (new_case) as a dispute for staff, never as money', () => {
    const newCase = { txn_type: 'new_case', case_id: 'PP-623-555-536', case_type: 'chargeback', reason_code: 'unauthorized', txn_id: '7XB10312HX1779514' };
    expect(outcomeFromIpn(newCase, attempt)).toEqual({
      kind: 'mismatch',
      flag: 'dispute_opened',
      reason: 'PayPal opened chargeback PP-623-555-536 on sale 7XB10312HX1779514 (unauthorized): answer it in PayPal',
    });
    // With the disputed amount when PayPal gives it; a status never makes it a payment.
    const withAmount = outcomeFromIpn({ ...newCase, case_type: 'dispute', amount: '85.00', mc_currency: 'USD', payment_status: 'Completed' }, attempt);
    expect(withAmount).toMatchObject({ flag: 'dispute_opened', reason: expect.stringContaining('dispute PP-623-555-536 on sale 7XB10312HX1779514 (unauthorized, $85.00 disputed)') });
    // A case on a sale that is not ours: nothing to flag here (kept as unmatched).
    expect(outcomeFromIpn(newCase, undefined)).toBeUndefined();
  });
});
