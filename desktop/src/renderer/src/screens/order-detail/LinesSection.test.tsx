import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { BackofficeOrderLine } from '@orders/shared';
import { orderRow } from '../../test/fixtures';
import { LinesSection, refundableQuantity } from './LinesSection';
import { refundSelection } from './RefundLinesDialog';

const line = (overrides: Partial<BackofficeOrderLine>): BackofficeOrderLine => ({
  sku: 'MUG-1',
  name: 'Mug',
  unitPrice: 1250,
  quantity: 2,
  lineTotal: 2500,
  currency: 'USD',
  refundedQuantity: 0,
  refundedAmount: 0,
  pendingRefundQuantity: 0,
  restockedQuantity: 0,
  ...overrides,
});

describe('LinesSection', () => {
  it('shows per line what was refunded, put back in stock and still waiting for PayPal', () => {
    const lines = [
      line({ sku: 'LAMP-1', name: 'Lamp', unitPrice: 3000, quantity: 1, lineTotal: 3000, pendingRefundQuantity: 1 }),
      line({ refundedQuantity: 1, refundedAmount: 1250, restockedQuantity: 1 }),
    ];
    render(<LinesSection order={orderRow({ total: 5500, currency: 'USD' })} lines={lines} frozen onRefundLines={() => {}} />);
    const mug = screen.getByText('MUG-1').closest('tr')!;
    expect(within(mug).getByText('1 of 2 · $12.50')).toBeTruthy();
    expect(within(mug).getByText('1 back in stock')).toBeTruthy();
    const lamp = screen.getByText('LAMP-1').closest('tr')!;
    expect(within(lamp).getByText('1 waiting for PayPal')).toBeTruthy();
    expect(refundableQuantity(lines[0]!)).toBe(0);
    expect(refundableQuantity(lines[1]!)).toBe(1);
  });

  it('offers "Refund lines…" only when allowed and something is left to refund', async () => {
    const onRefundLines = vi.fn();
    const { rerender } = render(<LinesSection order={orderRow()} lines={[line({})]} frozen onRefundLines={onRefundLines} />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Refund lines…' }));
    expect(onRefundLines).toHaveBeenCalledOnce();
    rerender(<LinesSection order={orderRow()} lines={[line({ refundedQuantity: 2, refundedAmount: 2500 })]} frozen onRefundLines={onRefundLines} />);
    expect(screen.queryByRole('button', { name: 'Refund lines…' })).toBeNull();
    rerender(<LinesSection order={orderRow()} lines={[line({})]} frozen />);
    expect(screen.queryByRole('button', { name: 'Refund lines…' })).toBeNull();
    // Unpaid: the cart's lines, no refund column.
    rerender(<LinesSection order={orderRow()} lines={[line({})]} frozen={false} onRefundLines={onRefundLines} />);
    expect(screen.queryByRole('button', { name: 'Refund lines…' })).toBeNull();
    expect(screen.queryByRole('columnheader', { name: 'Refunded' })).toBeNull();
  });
});

describe('refundSelection (the Refund lines dialog)', () => {
  const bulbs = line({ sku: 'BULB-1', unitPrice: 5, quantity: 3, lineTotal: 15, refundedQuantity: 1, refundedAmount: 5 });
  const mug = line({});

  it('totals what the chosen quantities come to', () => {
    expect(refundSelection([bulbs, mug], { 'BULB-1': '2', 'MUG-1': '1' })).toMatchObject({ amount: 2 * 5 + 1250, invalid: undefined });
  });

  it('has no total while a quantity is more than is left of its line, or not a whole number (it showed 9 × the price)', () => {
    for (const wrong of ['9', '1.5', '-1']) {
      const selection = refundSelection([bulbs, mug], { 'BULB-1': wrong, 'MUG-1': '1' });
      expect(selection.invalid?.line.sku, wrong).toBe('BULB-1');
      expect(selection.amount, wrong).toBe(0);
    }
  });
});
