import { describe, expect, it } from 'vitest';
import { parseWebhookEvent } from '../../paypal/webhook/webhook-event.js';
import { earlierIpnKeys, ipnDedupKey } from './ipn-notifications.js';
import { webhookDedupKey } from './webhooks.service.js';

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

  it("keys a case's opening as its webhook does, stage for stage; other stages and other channels' unknown names never meet", () => {
    const opened = (caseType: string) => ipnDedupKey({ txn_type: 'new_case', txn_id: '61E67681CH3238416', case_id: 'PP-D-1001', case_type: caseType });
    const webhook = (stage: string, channel?: string) =>
      webhookDedupKey(
        parseWebhookEvent(
          Buffer.from(
            JSON.stringify({
              id: `WH-${stage}-${channel ?? 'none'}`,
              event_type: 'CUSTOMER.DISPUTE.CREATED',
              resource: { dispute_id: 'PP-D-1001', dispute_life_cycle_stage: stage, ...(channel ? { dispute_channel: channel } : {}), disputed_transactions: [{ seller_transaction_id: '61E67681CH3238416' }] },
            }),
          ),
        )!,
      );
    expect(opened('dispute')).toBe(webhook('INQUIRY', 'INTERNAL'));
    expect(opened('complaint')).toBe(webhook('CHARGEBACK', 'INTERNAL'));
    expect(opened('chargeback')).toBe(webhook('CHARGEBACK', 'EXTERNAL'));
    // A case_type named like an object's own member is a name of its own too.
    expect(opened('constructor')).toBe('dispute:PP-D-1001:ipn-constructor');
    const stages = [opened('dispute'), opened('complaint'), opened('chargeback'), opened('something_new'), opened('constructor'), webhook('CHARGEBACK'), webhook('PRE_ARBITRATION', 'INTERNAL'), webhook('SOMETHING_NEW', 'INTERNAL')];
    expect(new Set(stages).size).toBe(stages.length);
    // Other webhooks keep their event id; what an opening was stored under before stays a duplicate's match.
    expect(webhookDedupKey(parseWebhookEvent(Buffer.from(JSON.stringify({ id: 'WH-1', event_type: 'CUSTOMER.DISPUTE.UPDATED', resource: { dispute_id: 'PP-D-1001' } })))!)).toBe('webhook:WH-1');
    expect(earlierIpnKeys({ txn_type: 'new_case', txn_id: '61E67681CH3238416', case_id: 'PP-D-1001', case_type: 'chargeback' })).toEqual(['ipn:61E67681CH3238416::case:PP-D-1001:chargeback']);
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
