import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { AttemptDto, OrderAction } from '@orders/shared';
import { orderRow } from '../../test/fixtures';
import { OrderHeader } from './OrderHeader';

const attempt = { id: '0193a5c2-7b1e-7000-8000-00000000a001', externalId: 'PAY-1' } as AttemptDto;

function setup(allowedActions: OrderAction[], status: 'pending' | 'paid' = 'pending') {
  const onAction = vi.fn();
  const order = orderRow({ status, refundedAmount: 0 });
  render(<OrderHeader order={order} attempts={[attempt]} allowedActions={allowedActions} role="operator" onAction={onAction} />);
  const button = (name: RegExp) => screen.getByRole('button', { name }) as HTMLButtonElement;
  return { onAction, order, button, user: userEvent.setup() };
}

describe('OrderHeader', () => {
  it('opens exactly the actions the server allows, whatever the order status or role would suggest', async () => {
    // A paid order the server (for some reason of its own) lets this member cancel: the app does not second-guess it.
    const { button, onAction, order, user } = setup(['cancel'], 'paid');
    expect(button(/cancel order/i).disabled).toBe(false);
    expect(button(/refund/i).disabled).toBe(true);
    expect(button(/re-sync/i).disabled).toBe(true);
    await user.click(button(/cancel order/i));
    expect(onAction).toHaveBeenCalledWith({ type: 'cancel', orderId: order.id });
  });

  it('greys out an action the server does not list, saying why', () => {
    const { button } = setup(['resync', 'note']);
    expect(button(/cancel order/i).disabled).toBe(true);
    expect(button(/cancel order/i).title).toBe('Not available for a pending order with your operator role');
    expect(button(/re-sync/i).disabled).toBe(false);
  });
});
