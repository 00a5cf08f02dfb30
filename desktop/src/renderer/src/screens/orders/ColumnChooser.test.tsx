import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ColumnChooser } from './ColumnChooser';
import { readHiddenColumns, useHiddenColumns } from './columns';

function Chooser() {
  const [hidden, toggle, reset] = useHiddenColumns();
  return (
    <>
      <ColumnChooser hidden={hidden} squeezed={['payerEmail']} onToggle={toggle} onReset={reset} />
      <output>{hidden.join(',')}</output>
    </>
  );
}

describe('ColumnChooser', () => {
  it('hides and shows columns, keeps the choice in localStorage, and never hides the order number', async () => {
    localStorage.clear();
    const user = userEvent.setup();
    const view = render(<Chooser />);
    await user.click(screen.getByRole('button', { name: /Columns/ }));
    expect((screen.getByRole('checkbox', { name: 'Order' }) as HTMLInputElement).disabled).toBe(true);
    // A column the window is too narrow for says so.
    expect(screen.getByRole('checkbox', { name: /Payer/ }).parentElement?.textContent).toContain('no room at this width');
    await user.click(screen.getByRole('checkbox', { name: 'PayPal' }));
    await user.click(screen.getByRole('checkbox', { name: 'Customer' }));
    expect(screen.getByRole('status').textContent).toBe('paypal,customer');
    expect(readHiddenColumns()).toEqual(['paypal', 'customer']);

    // A new window starts with the stored choice.
    view.unmount();
    render(<Chooser />);
    expect(screen.getByRole('status').textContent).toBe('paypal,customer');
    await user.click(screen.getByRole('button', { name: /Columns/ }));
    expect((screen.getByRole('checkbox', { name: 'PayPal' }) as HTMLInputElement).checked).toBe(false);
    await user.click(screen.getByRole('checkbox', { name: 'PayPal' }));
    expect(readHiddenColumns()).toEqual(['customer']);
    await user.click(screen.getByRole('button', { name: 'Show all' }));
    expect(readHiddenColumns()).toEqual([]);
  });

  it('ignores a stored value it does not understand', () => {
    localStorage.setItem('orders.table.hiddenColumns.v1', '{"not":"a list"}');
    expect(readHiddenColumns()).toEqual([]);
    localStorage.setItem('orders.table.hiddenColumns.v1', '["number","status","bogus"]');
    expect(readHiddenColumns()).toEqual(['status']);
  });
});
