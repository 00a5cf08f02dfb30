import { describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FilterBar, TEXT_DEBOUNCE_MS } from './FilterBar';
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
      'Customer: Anonymous · cart-7',
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

    await user.click(screen.getByRole('button', { name: 'More filters' }));
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
      'Customer: User · buyer-42',
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

  it('↓ in the search box searches the typed text at once and hands the keyboard to the results', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    const onToResults = vi.fn();
    render(<FilterBar filters={{ status: [] }} onChange={onChange} onToResults={onToResults} />);
    await user.type(screen.getByRole('searchbox'), 'amelia{ArrowDown}');
    // Before the typing pause: the text is searched now, not after it.
    expect(onChange).toHaveBeenCalledWith({ status: [], q: 'amelia' });
    expect(onToResults).toHaveBeenCalledTimes(1);
  });

  it('searches as you type: one search after the typing pauses, with the last text', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<FilterBar filters={{ status: [] }} onChange={onChange} />);
    const started = performance.now();
    await user.type(screen.getByRole('searchbox'), '#10');
    // Typing is faster than the pause: nothing searched for "#" or "#1".
    expect(onChange).not.toHaveBeenCalled();
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(TEXT_DEBOUNCE_MS);
    expect(onChange).toHaveBeenCalledWith({ status: [], q: '#10' });
    await new Promise((resolve) => setTimeout(resolve, TEXT_DEBOUNCE_MS * 2));
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('focuses the search on "/" (not while typing elsewhere), and Escape empties it', async () => {
    const user = userEvent.setup();
    startAt('/?q=PAY-1');
    await user.click(screen.getByRole('button', { name: 'More filters' }));
    const search = screen.getByRole('searchbox') as HTMLInputElement;
    const customer = screen.getByLabelText('Customer id') as HTMLInputElement;
    await user.click(customer);
    await user.keyboard('a/b');
    expect(customer.value).toBe('a/b');
    expect(document.activeElement).toBe(customer);
    await user.click(document.body);
    await user.keyboard('/');
    expect(document.activeElement).toBe(search);
    expect(search.value).toBe('PAY-1');
    await user.keyboard('{Escape}');
    expect(search.value).toBe('');
    expect(params().has('q')).toBe(false);
    // (the customer id was applied when its field lost focus)
    expect(chipLabels()).toEqual(['Customer: a/b']);
  });

  it('does not apply an amount that is not one, and marks the field', async () => {
    const user = userEvent.setup();
    startAt('/?currency=JPY');
    const min = screen.getByLabelText('Minimum amount');
    await user.type(min, '12.5{Enter}');
    expect(params().has('min')).toBe(false);
    expect(min.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert').textContent).toBe('Not an amount in JPY: “12.5” (not applied)');
  });

  it('an invalid amount replaces the old one: the old bound is not left silently applied', async () => {
    const user = userEvent.setup();
    startAt('/?currency=USD&min=10&max=50');
    expect(chipLabels()).toContain('Amount 10–50 USD');
    const min = screen.getByLabelText('Minimum amount');
    await user.clear(min);
    await user.type(min, '1O{Enter}');
    expect(params().has('min')).toBe(false);
    expect(params().get('max')).toBe('50');
    expect(chipLabels()).toContain('Amount ≤ 50 USD');
    expect(screen.getByRole('alert').textContent).toMatch(/Not an amount in USD: “1O”/);
    // Fixed, it applies and the message goes.
    await user.clear(min);
    await user.type(min, '10.25{Enter}');
    expect(params().get('min')).toBe('10.25');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('a minimum above the maximum is applied as typed, and says that no order can match (the list only said "No orders match")', async () => {
    const user = userEvent.setup();
    startAt('/?currency=USD&max=10');
    const min = screen.getByLabelText('Minimum amount');
    await user.type(min, '50{Enter}');
    expect(params().get('min')).toBe('50');
    expect(screen.getByRole('alert').textContent).toBe('The minimum is above the maximum: no order can match');
    await user.clear(min);
    await user.type(min, '5{Enter}');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('a start date after the end date (a link can carry one) is applied as given, and says that no order can match', async () => {
    const user = userEvent.setup();
    startAt('/?from=2026-11-20&to=2026-11-10');
    const from = screen.getByLabelText('Created from') as HTMLInputElement;
    const to = screen.getByLabelText('Created to') as HTMLInputElement;
    expect(params().get('from')).toBe('2026-11-20');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toBe('The start date is after the end date: no order can match');
    expect(from.getAttribute('aria-invalid')).toBe('true');
    expect(to.getAttribute('aria-describedby')).toBe(alert.id);
    // The same day at both ends is one day, not crossed.
    await user.clear(to);
    await user.type(to, '2026-11-20');
    expect(params().get('to')).toBe('2026-11-20');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(from.getAttribute('aria-invalid')).toBeNull();
  });

  it('amounts need a currency: disabled with a hint under "Any currency", and cleared when it is chosen again', async () => {
    const user = userEvent.setup();
    startAt('/?min=10');
    await user.click(screen.getByRole('button', { name: 'More filters' }));
    const min = screen.getByLabelText('Minimum amount') as HTMLInputElement;
    const max = screen.getByLabelText('Maximum amount') as HTMLInputElement;
    // A URL from before the rule: the amount without a currency is not applied at all.
    expect(chipLabels()).toEqual([]);
    expect(min.disabled).toBe(true);
    expect(max.disabled).toBe(true);
    expect(document.getElementById(min.getAttribute('aria-describedby')!)?.textContent).toBe('Choose a currency first');
    await user.selectOptions(screen.getByLabelText('Currency'), 'EUR');
    expect(min.disabled).toBe(false);
    await user.type(min, '5{Enter}');
    expect(params().get('min')).toBe('5');
    await user.selectOptions(screen.getByLabelText('Currency'), '');
    expect(params().has('min')).toBe(false);
    expect(params().has('currency')).toBe(false);
    expect(min.disabled).toBe(true);
    expect(min.value).toBe('');
  });

  it('customer and amount are behind "More filters": closed until asked for, open when the URL has one, values kept while closed', async () => {
    const user = userEvent.setup();
    const { unmount } = startAt('/?status=paid#/orders');
    const more = screen.getByRole('button', { name: 'More filters' });
    expect(more.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByLabelText('Customer id')).toBeNull();
    expect(screen.getByLabelText('Created from')).toBeTruthy();
    await user.click(more);
    expect(more.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByRole('group', { name: 'More filters' })).toBeTruthy();
    await user.type(screen.getByLabelText('Customer id'), 'buyer-7{Enter}');
    await user.selectOptions(screen.getByLabelText('Currency'), 'USD');
    // Closed again: the filters still apply, their chips stay, the button counts them.
    await user.click(screen.getByRole('button', { name: /^More filters/ }));
    expect(screen.queryByLabelText('Customer id')).toBeNull();
    expect(params().get('cid')).toBe('buyer-7');
    expect(chipLabels()).toEqual(['Status: Paid', 'Customer: buyer-7', 'Currency: USD']);
    expect(screen.getByRole('button', { name: /^More filters/ }).textContent).toBe('More filters2');
    await user.click(screen.getByRole('button', { name: /^More filters/ }));
    expect((screen.getByLabelText('Customer id') as HTMLInputElement).value).toBe('buyer-7');
    unmount();

    // A screen that starts with one of them (a reload, a link) shows it at once.
    startAt('/?ctype=anonymous#/orders');
    expect(screen.getByRole('button', { name: /^More filters/ }).getAttribute('aria-expanded')).toBe('true');
    expect((screen.getByLabelText('Customer type') as HTMLSelectElement).value).toBe('anonymous');
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
