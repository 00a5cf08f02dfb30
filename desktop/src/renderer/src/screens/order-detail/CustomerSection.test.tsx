import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { CustomerSection } from './CustomerSection';
import { orderRow } from '../../test/fixtures';

describe('CustomerSection', () => {
  it('says "No other orders" without a link to an empty list, and links to the others when there are some', () => {
    const order = orderRow({ customer: { type: 'anonymous', id: 'anon-1' } });
    const { unmount } = render(<CustomerSection order={order} customerOrderCount={0} />);
    expect(screen.getByText('No other orders')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'show all' })).toBeNull();
    unmount();
    render(<CustomerSection order={order} customerOrderCount={2} />);
    expect(screen.getByText(/^2 other orders —/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'show all' })).toBeTruthy();
  });
});
