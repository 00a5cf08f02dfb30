import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { OrdersTable, type OrdersTableProps } from './OrdersTable';
import { orderRow, orderRows } from '../../test/fixtures';
import type { OrderSort } from '../../filters';
import { formatExact } from '../../format';
import { columnsThatFit, type OrderColumnId } from './columns';

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
/** The id of the row the grid has chosen (aria-selected). */
const selected = () => dataRows().find((row) => row.getAttribute('aria-selected') === 'true')?.getAttribute('data-order-id');

/** The grid clicked (which opens nothing) and given the keyboard, as a person tabbing or clicking into it. */
async function focusGrid(user: ReturnType<typeof userEvent.setup>) {
  const grid = screen.getByRole('grid');
  await user.click(grid);
  grid.focus();
  return grid;
}

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
    // Relative time on screen, the absolute one (with the zone) in the tooltip.
    const time = within(usd!).getByText(/ago|just now/);
    expect(time.tagName).toBe('TIME');
    expect(time.getAttribute('dateTime')).toBe(rows[0]!.createdAt);
    expect(time.getAttribute('title')).toBe(`${formatExact(rows[0]!.createdAt)} (${Intl.DateTimeFormat().resolvedOptions().timeZone})`);
    expect(time.getAttribute('title')).toMatch(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2}:\d{2} \(/);
    // The order number first, its id on hover.
    const cells = within(usd!).getAllByRole('gridcell');
    expect(cells[1]!.textContent).toBe(`#${rows[0]!.number}`);
    expect(within(cells[1]!).getByText(`#${rows[0]!.number}`).getAttribute('title')).toBe(`Order id ${rows[0]!.id}`);
  });

  it("shows the customer's name (or email) from the shop over its id, and PayPal's payer name over their email", () => {
    const rows = [
      orderRow({ customer: { type: 'user', id: 'user-7' }, customerName: 'Ada Lovelace', customerEmail: 'ada@example.com', payerName: 'Ada L', payerEmail: 'ada.pays@example.com' }),
      orderRow({ customer: { type: 'user', id: 'user-8' }, customerName: null, customerEmail: 'grace@example.com', payerName: null, payerEmail: 'grace.pays@example.com' }),
      orderRow({ customer: { type: 'anonymous', id: 'anon-9' }, customerName: null, customerEmail: null, payerName: null, payerEmail: null }),
      orderRow({ customer: { type: 'anonymous', id: 'anon-10' }, customerName: null, customerEmail: null, payerName: 'Alan Turing', payerEmail: 'alan@example.com' }),
      orderRow({ customer: { type: 'user', id: 'user-11' }, customerName: null, customerEmail: null, payerName: 'Someone Else', payerEmail: 'else@example.com' }),
    ];
    renderTable({ rows, columns: ['number', 'customer', 'payerEmail', 'createdAt'] });
    const [named, emailed, bare, guest, account] = dataRows();
    const customer = (row: HTMLElement) => within(row).getAllByRole('gridcell')[2]!;
    const payer = (row: HTMLElement) => within(row).getAllByRole('gridcell')[3]!;
    expect(customer(named!).textContent).toBe('Ada LovelaceUseruser-7');
    expect(within(customer(named!)).getByText('user-7').closest('.secondary')).not.toBeNull();
    expect(customer(named!).querySelector('[title]')!.getAttribute('title')).toBe('User: user-7 · Ada Lovelace · ada@example.com');
    expect(customer(emailed!).textContent).toBe('grace@example.comUseruser-8');
    expect(customer(bare!).textContent).toBe('Anonymousanon-9');
    expect(customer(bare!).querySelector('.secondary')).toBeNull();
    expect(customer(bare!).querySelector('[title]')!.getAttribute('title')).toBe('Anonymous: anon-9');
    expect(payer(named!).textContent).toBe('Ada Lada.pays@example.com');
    expect(within(payer(named!)).getByText('ada.pays@example.com').className).toContain('secondary');
    expect(payer(emailed!).textContent).toBe('grace.pays@example.com');
    expect(payer(bare!).textContent).toBe('—');
    // An anonymous customer is named by PayPal's payer (the tooltip says so); a registered one never is.
    expect(customer(guest!).textContent).toBe('Alan TuringAnonymousanon-10');
    expect(customer(guest!).querySelector('[title]')!.getAttribute('title')).toBe('Anonymous: anon-10 · PayPal payer Alan Turing');
    expect(customer(account!).textContent).toBe('Useruser-11');
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
    // Clicking the grid itself opens nothing; focus selects the first row.
    const grid = await focusGrid(user);
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

  it('↑ on the first row gives the keyboard back; new rows while it has the keyboard select their first', async () => {
    const user = userEvent.setup();
    const onLeaveTop = vi.fn();
    const first = orderRows(5);
    const { rerender, props } = renderTable({ rows: first, onLeaveTop });
    await focusGrid(user);
    expect(selected()).toBe(first[0]!.id);
    await user.keyboard('{ArrowDown}{ArrowUp}');
    expect(onLeaveTop).not.toHaveBeenCalled();
    await user.keyboard('{ArrowUp}');
    expect(onLeaveTop).toHaveBeenCalledTimes(1);
    // The search the keyboard came from answers after the grid took it: Enter opens what is on screen.
    const next = orderRows(3);
    rerender(<OrdersTable {...props} rows={next} onLeaveTop={onLeaveTop} />);
    await waitFor(() => expect(selected()).toBe(next[0]!.id));
    await user.keyboard('{Enter}');
    expect(props.onOpen).toHaveBeenLastCalledWith(next[0]!.id);
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

  it('checks rows without opening them: one by one, a shift-click range, all on screen', async () => {
    const user = userEvent.setup();
    const rows = orderRows(20);
    let selected = new Set<string>();
    const onSelectedChange = vi.fn((next: Set<string>) => {
      selected = next;
      view.rerender(<OrdersTable {...view.props} selected={selected} />);
    });
    const view = renderTable({ rows, selected, onSelectedChange });
    const box = (i: number) => screen.getByRole('checkbox', { name: `Select order #${rows[i]!.number}` }) as HTMLInputElement;
    await user.click(box(2));
    expect([...selected]).toEqual([rows[2]!.id]);
    expect(view.props.onOpen).not.toHaveBeenCalled();
    // Shift-click from row 2 to row 5: rows 2..5 checked.
    await user.keyboard('{Shift>}');
    await user.click(box(5));
    await user.keyboard('{/Shift}');
    expect([...selected].sort()).toEqual(rows.slice(2, 6).map((r) => r.id).sort());
    expect(box(4).checked).toBe(true);
    expect(dataRows().find((r) => r.getAttribute('data-order-id') === rows[3]!.id)?.className).toContain('checked');
    // Shift-click back to row 3 unchecks 3..5 (the anchor is row 5, now unchecked).
    await user.click(box(5));
    await user.keyboard('{Shift>}');
    await user.click(box(3));
    await user.keyboard('{/Shift}');
    expect([...selected]).toEqual([rows[2]!.id]);
    // The header box: partly checked now; a click checks every row loaded, another clears.
    const all = screen.getByRole('checkbox', { name: 'Select all 20 orders on screen' }) as HTMLInputElement;
    expect(all.indeterminate).toBe(true);
    await user.click(all);
    expect(selected.size).toBe(20);
    await user.click(screen.getByRole('checkbox', { name: 'Unselect all' }));
    expect(selected.size).toBe(0);
    // Space on the focused grid toggles the active row.
    screen.getByRole('grid').focus();
    await user.keyboard(' ');
    expect([...selected]).toEqual([rows[0]!.id]);
    expect(view.props.onOpen).not.toHaveBeenCalled();
  }, 15_000);

  it('shows the chosen columns only, order number first', () => {
    const chosen: OrderColumnId[] = ['number', 'status', 'createdAt'];
    renderTable({ rows: orderRows(2), columns: chosen });
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent?.replace(/[↑↓↕]/g, ''))).toEqual(['', 'Order', 'Status', 'Created']);
    expect(within(dataRows()[0]!).getAllByRole('gridcell')).toHaveLength(4);
  });
});

describe('columnsThatFit', () => {
  const all = ['number', 'status', 'customer', 'total', 'paypal', 'payerEmail', 'createdAt'] as OrderColumnId[];
  it('keeps every column when there is room, and drops the least important first when there is not', () => {
    expect(columnsThatFit(all, 1400)).toEqual(all);
    // 1024 px window: about 960 px for the rows.
    expect(columnsThatFit(all, 960)).toEqual(['number', 'status', 'customer', 'total', 'paypal', 'createdAt']);
    expect(columnsThatFit(all, 740)).toEqual(['number', 'status', 'customer', 'total', 'createdAt']);
    expect(columnsThatFit(all, 100)).toEqual(['number']);
    // A column the user hid leaves room for the next one.
    expect(columnsThatFit(all.filter((c) => c !== 'paypal'), 960)).toEqual(['number', 'status', 'customer', 'total', 'payerEmail', 'createdAt']);
  });

  it('gives each shown column its own track, in the order the cells are drawn', () => {
    renderTable({ rows: orderRows(1), columns: ['number', 'customer', 'createdAt'] });
    const header = screen.getAllByRole('row')[0]!;
    expect(header.style.gridTemplateColumns).toBe('28px minmax(80px, 0.6fr) minmax(126px, 1.2fr) 120px');
    expect(screen.getAllByRole('columnheader').map((h) => h.className)).toEqual(['cell cell-select', 'cell cell-number', 'cell cell-customer', 'cell cell-createdAt']);
  });
});
