import { describe, expect, it } from 'vitest';
import { outcomeFromIpn, outcomeFromWebhook, webhookCaseStage } from './outcomes.js';
import { parseWebhookEvent } from './webhook/webhook-event.js';

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

describe('outcomeFromWebhook', () => {
  const dispute = (eventType: string, stage: string | undefined, channel = 'INTERNAL') =>
    parseWebhookEvent(
      Buffer.from(
        JSON.stringify({
          id: 'WH-7Y7254563A4550640-11V2185806837105M',
          event_type: eventType,
          resource: {
            dispute_id: 'PP-D-1001',
            ...(stage ? { dispute_life_cycle_stage: stage } : {}),
            dispute_channel: channel,
            reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
            dispute_amount: { value: '3.00', currency_code: 'USD' },
            disputed_transactions: [{ seller_transaction_id: '7XB10312HX1779514' }],
          },
        }),
      ),
    )!;

  it('lists an update that moves a case to a stage nothing told before, in our words for the stage; any other update needs no action', () => {
    const claim = dispute('CUSTOMER.DISPUTE.UPDATED', 'CHARGEBACK');
    expect(webhookCaseStage(claim)).toEqual({ caseId: 'PP-D-1001', stage: 'claim' });
    expect(outcomeFromWebhook(claim, attempt, true)).toEqual({
      kind: 'mismatch',
      flag: 'dispute_opened',
      reason: 'PayPal moved case PP-D-1001 to claim on sale 7XB10312HX1779514 (MERCHANDISE_OR_SERVICE_NOT_RECEIVED, $3.00 disputed): answer it in PayPal',
    });
    expect(outcomeFromWebhook(dispute('CUSTOMER.DISPUTE.UPDATED', 'PRE_ARBITRATION'), attempt, true)).toMatchObject({ reason: expect.stringMatching(/^PayPal moved case PP-D-1001 to pre-arbitration /) });
    // The stage already listed, an update naming no stage, the case resolved, a sale not ours: nothing listed.
    expect(outcomeFromWebhook(claim, attempt, false)).toBeUndefined();
    expect(webhookCaseStage(dispute('CUSTOMER.DISPUTE.UPDATED', undefined))).toBeUndefined();
    expect(webhookCaseStage(dispute('CUSTOMER.DISPUTE.RESOLVED', 'CHARGEBACK'))).toBeUndefined();
    expect(outcomeFromWebhook(dispute('CUSTOMER.DISPUTE.RESOLVED', 'CHARGEBACK'), attempt, true)).toBeUndefined();
    expect(outcomeFromWebhook(claim, undefined, true)).toBeUndefined();
    // An opening says "opened"; a card chargeback keeps its name.
    expect(outcomeFromWebhook(dispute('CUSTOMER.DISPUTE.CREATED', 'CHARGEBACK', 'EXTERNAL'), attempt, true)).toMatchObject({ reason: expect.stringMatching(/^PayPal opened chargeback PP-D-1001 on sale /) });
  });
});
