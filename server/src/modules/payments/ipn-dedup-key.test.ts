import { describe, expect, it } from 'vitest';
import { ipnDedupKey } from './ipn-notifications.js';

describe('ipnDedupKey', () => {
  it("keeps a payment's key: its txn_id and status (the keys stored before stay comparable)", () => {
    expect(ipnDedupKey({ txn_id: '61E67681CH3238416', payment_status: 'Completed', resend: 'true' })).toBe('ipn:61E67681CH3238416:Completed');
  });

  it('tells apart messages without a txn_id or status (subscriptions, profiles); the same one resent is the same', () => {
    const signup = { txn_type: 'subscr_signup', subscr_id: 'I-1A2B3C4D5E6F', payer_email: 'buyer@example.com' };
    const cancel = { txn_type: 'subscr_cancel', subscr_id: 'I-1A2B3C4D5E6F', payer_email: 'buyer@example.com' };
    const profile = { txn_type: 'recurring_payment_profile_created', recurring_payment_id: 'I-9Z8Y7X6W5V4U' };
    const keys = [signup, cancel, profile].map(ipnDedupKey);
    expect(new Set(keys).size).toBe(3);
    expect(ipnDedupKey({ ...signup, resend: 'true' })).toBe(keys[0]);
  });

  it('tells apart two disputes on one sale by their case', () => {
    const dispute = { txn_type: 'new_case', txn_id: '61E67681CH3238416', case_type: 'chargeback' };
    expect(ipnDedupKey({ ...dispute, case_id: 'PP-D-1001' })).not.toBe(ipnDedupKey({ ...dispute, case_id: 'PP-D-1002' }));
  });

  it('keys a payment status as before whether or not a case rides along (a Reversed with its case_id)', () => {
    const reversed = { txn_id: '5TY2345678901234A', payment_status: 'Reversed', parent_txn_id: '61E67681CH3238416' };
    expect(ipnDedupKey({ ...reversed, case_id: 'PP-D-1001', case_type: 'chargeback' })).toBe('ipn:5TY2345678901234A:Reversed');
  });

  it('fits the column however long the txn_id is (it failed the job on every retry)', () => {
    const key = ipnDedupKey({ txn_id: 'X'.repeat(300), payment_status: 'Completed' });
    expect(key.length).toBeLessThanOrEqual(200);
    expect(key).toBe(ipnDedupKey({ txn_id: 'X'.repeat(300), payment_status: 'Completed' }));
    expect(key).not.toBe(ipnDedupKey({ txn_id: 'X'.repeat(301), payment_status: 'Completed' }));
  });
});
