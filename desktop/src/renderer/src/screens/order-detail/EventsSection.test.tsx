import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { EventsSection, type EventView } from './EventsSection';

const RECEIVED = '2026-11-30T14:00:08.100Z';

function event(overrides: Partial<EventView>): EventView {
  return {
    id: 'evt-1',
    source: 'ipn',
    attemptId: 'att-1',
    externalId: 'PAY-1',
    txnId: '23OSN7ENZ2H12QMU4',
    parentTxnId: null,
    providerStatus: 'Completed',
    amount: 5500,
    currency: 'USD',
    verification: 'verified',
    processing: 'processed',
    outcome: null,
    flagKind: null,
    raw: null,
    payload: null,
    createdAt: RECEIVED,
    processedAt: null,
    ...overrides,
  };
}

describe('EventsSection', () => {
  it('says how long after its arrival a queued notification was processed (the IPN first to arrive can be processed after the API answer behind it), and nothing for one not processed yet or applied as it arrived', () => {
    render(
      <EventsSection
        events={[
          event({ id: 'ipn', processedAt: '2026-11-30T14:00:09.300Z', outcome: 'already applied' }),
          event({ id: 'api', source: 'provider', verification: 'not_applicable', createdAt: '2026-11-30T14:00:08.200Z', processedAt: '2026-11-30T14:00:08.201Z' }),
          event({ id: 'webhook', source: 'webhook', createdAt: '2026-11-30T14:00:08.300Z', processedAt: '2026-11-30T14:00:08.350Z' }),
          event({ id: 'waiting', processing: 'received', processedAt: null }),
        ]}
      />,
    );
    const items = screen.getAllByRole('listitem');
    expect(within(items[0]!).getByText('in 1.2 s').getAttribute('title')).toMatch(/^processed 30 Nov 2026, \d\d:00:09/);
    expect(within(items[1]!).queryByText(/^in /)).toBeNull();
    expect(within(items[2]!).getByText('in 50 ms')).toBeTruthy();
    expect(within(items[3]!).queryByText(/^in /)).toBeNull();
  });

  it("heads each message with what PayPal said: its status, or an IPN's txn_type when it has none (a case opened), never the source's name twice", () => {
    render(
      <EventsSection
        events={[
          event({ id: 'sale' }),
          event({ id: 'case', providerStatus: null, amount: null, raw: 'case_id=PP-D-1001&case_type=chargeback&txn_type=new_case&txn_id=23OSN7ENZ2H12QMU4' }),
          event({ id: 'webhook', source: 'webhook', providerStatus: 'CUSTOMER.DISPUTE.CREATED', amount: null }),
          event({ id: 'bare', providerStatus: null, amount: null, raw: 'txn_id=23OSN7ENZ2H12QMU4' }),
          event({ id: 'return', source: 'return', providerStatus: null, amount: null, verification: 'not_applicable', outcome: 'buyer returned from PayPal' }),
        ]}
      />,
    );
    const heads = screen.getAllByRole('listitem').map((item) => item.querySelector('strong')?.textContent ?? null);
    expect(heads).toEqual(['Completed', 'new_case', 'CUSTOMER.DISPUTE.CREATED', '(no status)', null]);
    expect(within(screen.getAllByRole('listitem')[4]!).getByText('Buyer return')).toBeTruthy();
  });

  it('links a duplicate to the message it repeats when that one is listed too, and brings it into focus', () => {
    const first = '019aa4a2-7c1e-7d2a-9a3b-5f0e8c2d1b01';
    const elsewhere = '019aa4a2-7c1e-7d2a-9a3b-5f0e8c2d1b99';
    render(
      <EventsSection
        events={[
          event({ id: first, source: 'webhook', providerStatus: 'CUSTOMER.DISPUTE.CREATED', processing: 'flagged' }),
          event({ id: 'repeat', processing: 'duplicate', outcome: `already processed as webhook event ${first}` }),
          event({ id: 'unlisted', processing: 'duplicate', outcome: `already processed as IPN event ${elsewhere}` }),
        ]}
      />,
    );
    const items = screen.getAllByRole('listitem');
    const link = within(items[1]!).getByRole('button', { name: first });
    expect(items[1]!.querySelector('.event-outcome')!.textContent).toBe(`already processed as webhook event ${first}`);
    fireEvent.click(link);
    expect(document.activeElement).toBe(items[0]);
    // An event not on this page stays text.
    expect(within(items[2]!).queryByRole('button')).toBeNull();
    expect(within(items[2]!).getByText(`already processed as IPN event ${elsewhere}`)).toBeTruthy();
  });
});
