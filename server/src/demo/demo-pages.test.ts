import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ORDER_SCRIPT, renderOrderPage } from './demo-pages.js';

/*
 * The demo order page's script, run as the browser would run it, against a small stand-in for its
 * page: the elements it writes to, fetch answering what /demo/api/orders/:id answers, and a clock we
 * advance by hand (what it scheduled is what it would poll).
 */

const ORDER_ID = '01a22e4f-4a14-7149-a5b2-97ae38c4ff14';

type Answer = { status: number; body: unknown };

function orderPage(answers: Answer[], search = '') {
  type Element = { textContent: string; hidden: boolean; disabled: boolean; className: string; dataset: Record<string, string>; listeners: Record<string, () => Promise<void>>; addEventListener(type: string, listener: () => Promise<void>): void };
  const elements = new Map<string, Element>();
  const element = (selector: string) => {
    if (!elements.has(selector)) {
      const created: Element = {
        textContent: '', hidden: false, disabled: false, className: '', dataset: selector === '[data-order-id]' ? { orderId: ORDER_ID } : {}, listeners: {},
        addEventListener: (type, listener) => void (created.listeners[type] = listener),
      };
      elements.set(selector, created);
    }
    return elements.get(selector)!;
  };
  const assigned: string[] = [];
  const timers: { ms: number; run: () => void }[] = [];
  const requests: string[] = [];
  const context = createContext({
    document: { querySelector: element },
    location: { search, assign: (url: string) => void assigned.push(url) },
    URLSearchParams,
    fetch: async (url: string, init?: { method?: string }) => {
      requests.push(init?.method === 'POST' ? `POST ${url}` : url);
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      return { ok: answer.status < 400, status: answer.status, json: async () => answer.body };
    },
    setTimeout: (run: () => void, ms: number) => timers.push({ ms, run }),
    Intl,
    encodeURIComponent,
    Object,
    Error,
    Math,
    JSON,
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const text = (testId: string) => element(`[data-testid=${testId}]`).textContent;
  return {
    requests,
    timers,
    assigned,
    text,
    /** Clicks the element and waits for what the click started. */
    click: async (testId: string) => {
      await element(`[data-testid=${testId}]`).listeners.click!();
      await settle();
    },
    hidden: (testId: string) => element(`[data-testid=${testId}]`).hidden,
    start: async () => {
      runInContext(ORDER_SCRIPT, context);
      await settle();
    },
    /** Runs what the page scheduled (the next look at the order). */
    tick: async () => {
      const next = timers.shift();
      if (!next) throw new Error('nothing scheduled');
      next.run();
      await settle();
    },
  };
}

describe('the demo order page', () => {
  it('opened in a browser that does not own the order (404): says it cannot be shown here, and stops asking', async () => {
    const page = orderPage([{ status: 404, body: { error: 'order not found' } }]);
    await page.start();
    expect(page.requests).toEqual([`/demo/api/orders/${ORDER_ID}`]);
    expect(page.text('order-title')).toBe('This order cannot be shown in this browser');
    expect(page.text('order-note')).toBe('It belongs to the customer who placed it and is shown only in the browser it was ordered from.');
    expect(page.text('order-note')).not.toContain('updates by itself');
    expect(page.hidden('order-status')).toBe(true);
    // Nothing scheduled: the 404 is not polled again.
    expect(page.timers).toEqual([]);
  });

  it('pending, then paid: looks again every second until the status is final, showing the order number', async () => {
    const order = (status: string) => ({ status: 200, body: { id: ORDER_ID, number: 1002, status, total: 4900, currency: 'USD' } });
    const page = orderPage([order('pending'), order('pending'), order('paid')]);
    await page.start();
    expect(page.text('order-title')).toBe('Waiting for your payment…');
    expect(page.text('order-note')).toBe('Not paid yet: pay with PayPal when you are ready. This page updates by itself.');
    expect(page.hidden('order-retry')).toBe(false);
    expect(page.text('order-number')).toBe('#1002');
    expect(page.hidden('order-heading')).toBe(false);
    expect(page.timers.map((t) => t.ms)).toEqual([1000]);
    await page.tick();
    await page.tick();
    expect(page.text('order-title')).toBe('Thank you: your order is paid');
    expect(page.text('order-note')).toBe('Final: nothing more will change here.');
    expect(page.text('order-total')).toBe('Total $49.00');
    expect(page.timers).toEqual([]);
    expect(page.requests).toHaveLength(3);
  });

  it('back from PayPal\'s "Cancel and return" (payment=cancelled): says so, nothing charged, and pays the order again from here', async () => {
    const order = (status: string) => ({ status: 200, body: { id: ORDER_ID, number: 1003, status, total: 1250, currency: 'USD' } });
    const page = orderPage([order('pending'), { status: 200, body: { orderId: ORDER_ID, approvalUrl: 'http://127.0.0.1:9/paypal-sim/approve' } }], '?payment=cancelled&orderId=x&status=pending');
    await page.start();
    expect(page.text('order-title')).toBe('You cancelled the payment');
    expect(page.text('order-note')).toBe('Nothing was charged. Your order is kept: pay for it when you are ready.');
    expect(page.hidden('order-retry')).toBe(false);
    await page.click('order-pay');
    expect(page.requests).toEqual([`/demo/api/orders/${ORDER_ID}`, `POST /demo/api/orders/${ORDER_ID}/pay`]);
    expect(page.assigned).toEqual(['http://127.0.0.1:9/paypal-sim/approve']);
  });

  it('the same cancelled link once the order is paid (another tab paid it): paid, and no button', async () => {
    const page = orderPage([{ status: 200, body: { id: ORDER_ID, number: 1003, status: 'paid', total: 1250, currency: 'USD' } }], '?payment=cancelled');
    await page.start();
    expect(page.text('order-title')).toBe('Thank you: your order is paid');
    expect(page.hidden('order-retry')).toBe(true);
  });

  it('a failed payment (declined): nothing charged, and the order can be paid again from here', async () => {
    const page = orderPage([
      { status: 200, body: { id: ORDER_ID, number: 1003, status: 'failed', total: 1250, currency: 'USD' } },
      { status: 200, body: { orderId: ORDER_ID, approvalUrl: 'http://127.0.0.1:9/paypal-sim/approve' } },
    ]);
    await page.start();
    expect(page.text('order-title')).toBe('The payment failed');
    expect(page.text('order-note')).toBe('Nothing was charged. Your order is kept: you can pay for it again.');
    expect(page.hidden('order-retry')).toBe(false);
    await page.click('order-pay');
    expect(page.assigned).toEqual(['http://127.0.0.1:9/paypal-sim/approve']);
  });

  it('pending without a cancel (back from a replaced or expired link, or Cancel, Back, Pay Now): waits, and the order can be paid from here', async () => {
    const page = orderPage([
      { status: 200, body: { id: ORDER_ID, number: 1003, status: 'pending', paymentStatus: null, total: 1250, currency: 'USD' } },
      { status: 200, body: { orderId: ORDER_ID, approvalUrl: 'http://127.0.0.1:9/paypal-sim/approve' } },
    ]);
    await page.start();
    expect(page.text('order-title')).toBe('Waiting for your payment…');
    expect(page.hidden('order-retry')).toBe(false);
    await page.click('order-pay');
    expect(page.assigned).toEqual(['http://127.0.0.1:9/paypal-sim/approve']);
  });

  it('a sale PayPal holds for review (paymentStatus pending): says the buyer paid and need not pay again, even back from a cancel', async () => {
    const held = { status: 200, body: { id: ORDER_ID, number: 1004, status: 'pending', paymentStatus: 'pending', total: 1250, currency: 'USD' } };
    for (const search of ['', '?payment=cancelled']) {
      const page = orderPage([held], search);
      await page.start();
      expect(page.text('order-title')).toBe('PayPal is reviewing your payment');
      expect(page.text('order-note')).toBe('You paid: PayPal holds the payment for review, which can take a few days. Nothing more is needed from you; this page updates by itself.');
      expect(page.hidden('order-retry')).toBe(true);
      expect(page.timers).toHaveLength(1);
    }
  });

  it('a failure that may pass (the server busy) is tried again, less and less often', async () => {
    const page = orderPage([{ status: 502, body: { error: 'Something went wrong; try again.' } }]);
    await page.start();
    expect(page.text('order-note')).toBe('Could not check the order just now; trying again.');
    await page.tick();
    await page.tick();
    expect(page.timers.map((t) => t.ms)).toEqual([8000]);
  });

  it('shows the buyer no uuid: the id is only in the attribute the script reads', () => {
    const html = renderOrderPage(ORDER_ID);
    expect(html.split(ORDER_ID)).toHaveLength(2);
    expect(html).toContain(`data-order-id="${ORDER_ID}"`);
  });
});
