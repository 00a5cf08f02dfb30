import { describe, expect, it } from 'vitest';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FilterBar } from './FilterBar';
import { useUrlOrderQuery } from './OrdersScreen';

/** The filter bar as the orders screen wires it: state in the URL query string. */
function UrlFilterBar() {
  const { filters, setFilters } = useUrlOrderQuery();
  return <FilterBar filters={filters} onChange={setFilters} />;
}

function startAt(url: string) {
  window.history.replaceState(null, '', url);
  return render(<UrlFilterBar />);
}

const params = () => new URLSearchParams(window.location.search);
const chipLabels = () =>
  within(screen.queryByRole('list', { name: 'Active filters' }) ?? document.createElement('ul'))
    .queryAllByRole('listitem')
    .map((item) => item.querySelector('span')?.textContent)
    .filter(Boolean);

describe('FilterBar', () => {
  it('shows the filters in the URL as chips and form values', () => {
    startAt('/?status=paid,pending&currency=JPY&min=1000&ctype=anonymous&cid=cart-7&from=2026-01-01&to=2026-01-31&q=PAY-123#/orders');
    expect(chipLabels()).toEqual([
      'Status: Pending',
      'Status: Paid',
      'Created 2026-01-01 → 2026-01-31',
      'Customer: anonymous · cart-7',
      'Amount ≥ 1000 JPY',
      'Currency: JPY',
      'Search: “PAY-123”',
    ]);
    expect((screen.getByLabelText('Currency') as HTMLSelectElement).value).toBe('JPY');
    expect((screen.getByLabelText('Created from') as HTMLInputElement).value).toBe('2026-01-01');
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('PAY-123');
  });

  it('removes a chip’s filter from the URL, keeping the rest and the screen (hash)', async () => {
    const user = userEvent.setup();
    startAt('/?status=paid,pending&currency=USD#/orders');
    await user.click(screen.getByRole('button', { name: 'Remove filter Status: Paid' }));
    expect(params().get('status')).toBe('pending');
    expect(params().get('currency')).toBe('USD');
    expect(window.location.hash).toBe('#/orders');
    expect(chipLabels()).toEqual(['Status: Pending', 'Currency: USD']);
    await user.click(screen.getByRole('button', { name: 'Remove filter Currency: USD' }));
    expect(params().has('currency')).toBe(false);
    expect((screen.getByLabelText('Currency') as HTMLSelectElement).value).toBe('');
  });

  it('adds filters from the controls and writes them to the URL', async () => {
    const user = userEvent.setup();
    startAt('/');
    expect(chipLabels()).toEqual([]);
    await user.click(screen.getByText('Status'));
    await user.click(screen.getByRole('checkbox', { name: 'Refunded' }));
    expect(params().get('status')).toBe('refunded');
    await user.click(screen.getByRole('checkbox', { name: 'Pending' }));
    expect(params().get('status')).toBe('pending,refunded');

    await user.selectOptions(screen.getByLabelText('Currency'), 'EUR');
    await user.type(screen.getByLabelText('Minimum amount'), '10.50{Enter}');
    await user.type(screen.getByLabelText('Customer id'), 'buyer-42{Enter}');
    await user.selectOptions(screen.getByLabelText('Customer type'), 'user');
    expect(params().get('currency')).toBe('EUR');
    expect(params().get('min')).toBe('10.50');
    expect(params().get('cid')).toBe('buyer-42');
    expect(params().get('ctype')).toBe('user');

    await user.type(screen.getByLabelText('Created from'), '2026-03-01');
    expect(params().get('from')).toBe('2026-03-01');

    expect(chipLabels()).toEqual([
      'Status: Pending',
      'Status: Refunded',
      'Created from 2026-03-01',
      'Customer: user · buyer-42',
      'Amount ≥ 10.50 EUR',
      'Currency: EUR',
    ]);
  });

  it('applies free text after a pause, or at once on Enter', async () => {
    const user = userEvent.setup();
    startAt('/');
    await user.type(screen.getByRole('searchbox'), 'payer@example.com');
    await waitFor(() => expect(params().get('q')).toBe('payer@example.com'));
    await user.clear(screen.getByRole('searchbox'));
    await user.type(screen.getByRole('searchbox'), 'PAY-9{Enter}');
    expect(params().get('q')).toBe('PAY-9');
  });

  it('does not apply an amount that is not one, and marks the field', async () => {
    const user = userEvent.setup();
    startAt('/?currency=JPY');
    const min = screen.getByLabelText('Minimum amount');
    await user.type(min, '12.5{Enter}');
    expect(params().has('min')).toBe(false);
    expect(min.getAttribute('aria-invalid')).toBe('true');
  });

  it('clears everything with "Clear all"', async () => {
    const user = userEvent.setup();
    startAt('/?status=failed&q=abc&sort=total&dir=asc#/orders');
    await user.click(screen.getByRole('button', { name: 'Clear all' }));
    // Sort is not a filter: it stays.
    expect(window.location.search).toBe('?sort=total&dir=asc');
    expect(chipLabels()).toEqual([]);
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('');
  });

  it('follows the URL when it changes from outside (Back button)', async () => {
    startAt('/?status=paid');
    act(() => {
      window.history.pushState(null, '', '/?status=failed');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(chipLabels()).toEqual(['Status: Failed']);
  });
});
