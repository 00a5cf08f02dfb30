import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { OrdersTable, type OrdersTableProps } from './OrdersTable';
import { orderRow, orderRows } from '../../test/fixtures';
import type { OrderSort } from '../../filters';

function renderTable(overrides: Partial<OrdersTableProps> = {}) {
  const props: OrdersTableProps = {
    rows: [],
    sort: { sort: 'created', direction: 'desc' },
    onSortChange: vi.fn(),
    onOpen: vi.fn(),
    hasMore: false,
    loadingMore: false,
    onLoadMore: vi.fn(),
    ...overrides,
  };
  const view = render(<OrdersTable {...props} />);
  return { ...view, props };
}

const dataRows = () => screen.getAllByRole('row').filter((row) => row.hasAttribute('data-order-id'));

describe('OrdersTable', () => {
  it('renders one row per order with its status badge, money in the order currency and times', () => {
    const rows = [
      orderRow({ status: 'paid', total: 2500, currency: 'USD' }),
      orderRow({ status: 'partially_refunded', total: 1500, currency: 'JPY', refundedAmount: 500 }),
      orderRow({ status: 'pending', total: 1050, currency: 'EUR', externalId: null, paymentTransactionId: null, payerEmail: null }),
    ];
    renderTable({ rows });
    const [usd, jpy, eur] = dataRows();
    expect(within(usd!).getByText('Paid')).toBeTruthy();
    expect(within(usd!).getByText('$25.00')).toBeTruthy();
    expect(within(usd!).getByText('PAY-' + rows[0]!.externalId!.slice(4))).toBeTruthy();
    expect(within(jpy!).getByText('Partially refunded')).toBeTruthy();
    expect(within(jpy!).getByText('¥1,500')).toBeTruthy();
    expect(within(jpy!).getByText('−¥500 refunded')).toBeTruthy();
    expect(within(eur!).getByText('Pending')).toBeTruthy();
    expect(within(eur!).getByText('€10.50')).toBeTruthy();
    // Relative time on screen, the exact one in the tooltip.
    const time = within(usd!).getByText(/ago|just now/);
    expect(time.tagName).toBe('TIME');
    expect(time.getAttribute('title')).toContain(rows[0]!.createdAt);
  });

  it('keeps only the visible rows in the DOM', () => {
    renderTable({ rows: orderRows(2000) });
    const rendered = dataRows().length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    expect(screen.getByRole('grid').getAttribute('aria-rowcount')).toBe('2000');
  });

  it('moves with ↑/↓, Home/End and opens the selected order with Enter', async () => {
    const user = userEvent.setup();
    const rows = orderRows(50);
    const { props } = renderTable({ rows });
    const grid = screen.getByRole('grid');
    await user.click(grid);
    // Clicking the grid itself opens nothing; focus selects the first row.
    grid.focus();
    const selected = () => dataRows().find((row) => row.getAttribute('aria-selected') === 'true')?.getAttribute('data-order-id');
    expect(selected()).toBe(rows[0]!.id);
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(selected()).toBe(rows[2]!.id);
    expect(grid.getAttribute('aria-activedescendant')).toBe(`order-row-${rows[2]!.id}`);
    await user.keyboard('{ArrowUp}');
    expect(selected()).toBe(rows[1]!.id);
    await user.keyboard('{Enter}');
    expect(props.onOpen).toHaveBeenLastCalledWith(rows[1]!.id);
    await user.keyboard('{End}');
    // The virtualiser scrolls on the next frame; then the last row is in the DOM, selected.
    await waitFor(() => expect(selected()).toBe(rows[49]!.id));
    await user.keyboard('{ArrowDown}');
    expect(selected()).toBe(rows[49]!.id);
    await user.keyboard('{Home}');
    await waitFor(() => expect(selected()).toBe(rows[0]!.id));
  });

  it('comes back with the order it opened selected and in view', async () => {
    const rows = orderRows(300);
    renderTable({ rows, initialActiveId: rows[200]!.id });
    await waitFor(() => expect(dataRows().find((row) => row.getAttribute('aria-selected') === 'true')?.getAttribute('data-order-id')).toBe(rows[200]!.id));
  });

  it('opens an order on click', async () => {
    const user = userEvent.setup();
    const rows = orderRows(3);
    const { props } = renderTable({ rows });
    await user.click(within(dataRows()[1]!).getByText(rows[1]!.customer.id));
    expect(props.onOpen).toHaveBeenCalledWith(rows[1]!.id);
  });

  it('sorts by created and total, both directions', async () => {
    const user = userEvent.setup();
    const onSortChange = vi.fn<(sort: OrderSort) => void>();
    const { rerender, props } = renderTable({ rows: orderRows(3), onSortChange });
    expect(screen.getByRole('columnheader', { name: /created/i }).getAttribute('aria-sort')).toBe('descending');
    await user.click(screen.getByRole('button', { name: /created/i }));
    expect(onSortChange).toHaveBeenLastCalledWith({ sort: 'created', direction: 'asc' });
    await user.click(screen.getByRole('button', { name: /total/i }));
    expect(onSortChange).toHaveBeenLastCalledWith({ sort: 'total', direction: 'desc' });
    rerender(<OrdersTable {...props} sort={{ sort: 'total', direction: 'asc' }} />);
    expect(screen.getByRole('columnheader', { name: /total/i }).getAttribute('aria-sort')).toBe('ascending');
    expect(screen.getByRole('columnheader', { name: /created/i }).getAttribute('aria-sort')).toBe('none');
  });

  it('asks for the next page when the end of the loaded rows comes into view', () => {
    const onLoadMore = vi.fn();
    renderTable({ rows: orderRows(5), hasMore: true, onLoadMore });
    expect(onLoadMore).toHaveBeenCalled();
    expect(screen.getByText(/loading more orders/i)).toBeTruthy();
  });

  it('does not ask for more while far from the end', () => {
    const onLoadMore = vi.fn();
    renderTable({ rows: orderRows(300), hasMore: true, onLoadMore });
    expect(onLoadMore).not.toHaveBeenCalled();
  });

  it('shows loading, error and empty states', async () => {
    const user = userEvent.setup();
    const onRetry = vi.fn();
    const { rerender, props } = renderTable({ loading: true });
    expect(screen.getByRole('status').textContent).toMatch(/loading orders/i);
    rerender(<OrdersTable {...props} loading={false} error="Cannot reach the Orders server." onRetry={onRetry} />);
    expect(screen.getByRole('alert').textContent).toContain('Cannot reach the Orders server.');
    await user.click(screen.getByRole('button', { name: /try again/i }));
    expect(onRetry).toHaveBeenCalled();
    rerender(<OrdersTable {...props} loading={false} empty={<p>Nothing here</p>} />);
    expect(screen.getByText('Nothing here')).toBeTruthy();
  });
});
