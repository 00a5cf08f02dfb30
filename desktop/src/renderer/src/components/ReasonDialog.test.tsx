import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ReasonDialog } from './ReasonDialog';

function setup(overrides: Partial<Parameters<typeof ReasonDialog>[0]> = {}) {
  const onSubmit = vi.fn<(reason: string) => Promise<unknown>>().mockResolvedValue(undefined);
  const onCancel = vi.fn();
  render(<ReasonDialog title="Cancel order" confirmLabel="Cancel order" onSubmit={onSubmit} onCancel={onCancel} {...overrides} />);
  return { onSubmit: (overrides.onSubmit as typeof onSubmit | undefined) ?? onSubmit, onCancel, user: userEvent.setup() };
}

const confirmButton = () => screen.getAllByRole('button', { name: 'Cancel order' }).find((b) => b.getAttribute('type') === 'submit')!;

describe('ReasonDialog', () => {
  it('is a labelled modal dialog with the reason field focused', () => {
    setup();
    const dialog = screen.getByRole('dialog', { name: 'Cancel order' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(screen.getByLabelText(/reason/i));
  });

  it('refuses to submit without a reason', async () => {
    const { onSubmit, user } = setup();
    await user.click(confirmButton());
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toMatch(/reason is required/i);
    expect(screen.getByLabelText(/reason/i).getAttribute('aria-invalid')).toBe('true');
    // Whitespace and two letters are not a reason either.
    await user.type(screen.getByLabelText(/reason/i), '   ab   ');
    await user.click(confirmButton());
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('submits the trimmed reason', async () => {
    const { onSubmit, user } = setup();
    await user.type(screen.getByLabelText(/reason/i), '  customer asked by email  ');
    await user.click(confirmButton());
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith('customer asked by email');
  });

  it('cancels with the Cancel button and with Escape, submitting nothing', async () => {
    const { onSubmit, onCancel, user } = setup();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledTimes(1);
    await user.type(screen.getByLabelText(/reason/i), 'half a thought');
    await user.keyboard('{Escape}');
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows the server’s refusal and stays open; no double submit while it runs', async () => {
    let reject!: (error: Error) => void;
    const onSubmit = vi.fn(() => new Promise((_resolve, rejectPromise) => (reject = rejectPromise)));
    const { user } = setup({ onSubmit, describeError: (error) => `Refused: ${(error as Error).message}` });
    await user.type(screen.getByLabelText(/reason/i), 'duplicate order');
    await user.click(confirmButton());
    expect(screen.getByRole('button', { name: 'Working…' }).hasAttribute('disabled')).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Working…' }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    reject(new Error('order is already paid'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Refused: order is already paid'));
    expect(confirmButton().hasAttribute('disabled')).toBe(false);
    expect(screen.getByRole('dialog')).toBeTruthy();
  });

  it('checks extra fields with validate before submitting', async () => {
    const { onSubmit, user } = setup({ validate: () => 'Enter an amount between 0 and $25.00.' });
    await user.type(screen.getByLabelText(/reason/i), 'partial refund');
    await user.click(confirmButton());
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toBe('Enter an amount between 0 and $25.00.');
  });
});
