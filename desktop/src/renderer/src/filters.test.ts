import { describe, expect, it } from 'vitest';
import { filterChips, orderQueryString, parseOrderQuery, removeFilter, toSearchFilter, type OrderFilters } from './filters';

describe('order filters in the URL', () => {
  it('round-trips every filter and the sort through the query string', () => {
    const filters: OrderFilters = {
      status: ['pending', 'paid'],
      from: '2026-01-01',
      to: '2026-02-28',
      customerType: 'user',
      customerId: 'buyer 42',
      amountMin: '10.50',
      amountMax: '99',
      currency: 'EUR',
      q: 'PAY-1&2',
    };
    const query = orderQueryString(filters, { sort: 'total', direction: 'asc' });
    expect(parseOrderQuery(query)).toEqual({ filters, sort: { sort: 'total', direction: 'asc' } });
  });

  it('leaves defaults out and drops what is malformed', () => {
    expect(orderQueryString({ status: [] })).toBe('');
    const parsed = parseOrderQuery('status=paid,bogus&from=2026-02-30&to=yesterday&ctype=robot&currency=XXX&min=abc&sort=name&dir=up&q=%20%20');
    expect(parsed).toEqual({ filters: { status: ['paid'] }, sort: { sort: 'created', direction: 'desc' } });
  });

  it('converts to the search input: local days as a [from, next day) range, amounts in minor units of the currency', () => {
    const search = toSearchFilter({ status: ['paid'], from: '2026-03-01', to: '2026-03-31', amountMin: '10.5', amountMax: '20', currency: 'USD' });
    expect(search).toMatchObject({ status: ['paid'], amountMin: 1050, amountMax: 2000, currency: 'USD' });
    expect(new Date(search.createdFrom!).getTime()).toBe(new Date(2026, 2, 1).getTime());
    expect(new Date(search.createdTo!).getTime()).toBe(new Date(2026, 3, 1).getTime());
    expect(toSearchFilter({ status: [], amountMin: '1500', currency: 'JPY' }).amountMin).toBe(1500);
  });

  it('never compares amounts across currencies: an amount needs a currency, in the URL and in the search', () => {
    // 1000 means ¥1,000 or $10.00 depending on the order: with "any currency" there is no amount filter.
    expect(toSearchFilter({ status: [], amountMin: '15' })).not.toHaveProperty('amountMin');
    expect(parseOrderQuery('min=10&max=20').filters).toEqual({ status: [] });
    expect(parseOrderQuery('min=10&max=20&currency=USD').filters).toEqual({ status: [], amountMin: '10', amountMax: '20', currency: 'USD' });
    // Removing the currency takes its amounts with it.
    expect(removeFilter({ status: [], amountMin: '10', currency: 'USD' }, 'currency')).toEqual({ status: [] });
  });

  it('describes active filters as chips and removes them one by one', () => {
    const filters: OrderFilters = { status: ['paid', 'failed'], to: '2026-01-31', amountMax: '5', currency: 'EUR', q: 'x' };
    expect(filterChips(filters).map((chip) => chip.label)).toEqual([
      'Status: Paid',
      'Status: Failed',
      'Created until 2026-01-31',
      'Amount ≤ 5 EUR',
      'Currency: EUR',
      'Search: “x”',
    ]);
    expect(removeFilter(filters, 'status:paid').status).toEqual(['failed']);
    expect(removeFilter(filters, 'created')).not.toHaveProperty('to');
    expect(removeFilter(filters, 'amount')).not.toHaveProperty('amountMax');
  });
});
