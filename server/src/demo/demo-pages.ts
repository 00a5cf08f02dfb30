import { formatMoney, type Currency } from '@orders/shared';
import { escapeHtml, htmlHead } from '../http/html.js';

export interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  unitPrice: number;
  currency: Currency;
}

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, sans-serif; color: #1a1a1a; }
  body { margin: 0; background: #f6f5f2; }
  header { background: #233142; color: #fff; padding: 1rem 1.5rem; display: flex; align-items: baseline; gap: 1rem; }
  header h1 { font-size: 1.25rem; margin: 0; } header p { margin: 0; color: #c9d3df; font-size: .9rem; }
  main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; display: grid; gap: 1.5rem; grid-template-columns: 1fr 18rem; }
  @media (max-width: 700px) { main { grid-template-columns: 1fr; } }
  .products { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); align-content: start; }
  .card { background: #fff; border-radius: 10px; padding: 1rem; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
  /* Price and button at the card's foot, level across a row whatever the name's lines. */
  .product { display: flex; flex-direction: column; } .product button { align-self: flex-start; }
  .product h2 { font-size: 1.05rem; margin: 0 0 .25rem; } .product p { color: #555; font-size: .9rem; margin: 0 0 .75rem; flex: 1 0 2.4em; }
  .price { font-weight: 600; margin-bottom: .75rem; }
  button { font: inherit; padding: .55rem .9rem; border-radius: 6px; border: 1px solid #233142; background: #233142; color: #fff; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  .paypal { width: 100%; background: #ffc439; color: #111; border-color: #ffc439; border-radius: 22px; font-weight: 600; padding: .75rem; }
  .cart h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
  .cart ul { list-style: none; padding: 0; margin: 0 0 .75rem; } .cart li { display: flex; justify-content: space-between; padding: .3rem 0; border-bottom: 1px solid #eee; }
  .total { display: flex; justify-content: space-between; font-weight: 600; margin: .5rem 0 1rem; }
  .muted { color: #666; font-size: .85rem; } .error { color: #b00020; }
  .status { text-align: center; grid-column: 1 / -1; max-width: 30rem; margin: 0 auto; }
  .status h2 { font-size: 1.5rem; margin: .25rem 0; } .badge { display: inline-block; padding: .2rem .7rem; border-radius: 999px; background: #eee; font-weight: 600; }
  .badge.paid { background: #d7f5dd; color: #116329; } .badge.pending { background: #fff3cd; color: #7a5b00; }
  .badge.failed, .badge.cancelled { background: #fde2e1; color: #8a1c1c; } a { color: #0b5cad; }`;

function page(title: string, body: string, script: string): string {
  return `${htmlHead(title)}<style>${STYLE}</style></head>
<body><header><h1>Orders demo shop</h1><p>PayPal is simulated: no real money moves.</p></header>
${body}<script type="module" src="${script}"></script></body></html>`;
}

/** The shop: the seeded products, a cart, and "Pay with PayPal" (through the simulator). */
export function renderShopPage(products: readonly DemoProduct[]): string {
  const cards = products
    .map(
      (p) => `<article class="card product" data-sku="${escapeHtml(p.sku)}">
  <h2>${escapeHtml(p.name)}</h2><p>${escapeHtml(p.description)}</p>
  <div class="price">${escapeHtml(formatMoney(p.unitPrice, p.currency))}</div>
  <button type="button" data-add="${escapeHtml(p.sku)}">Add to cart</button></article>`,
    )
    .join('\n');
  return page(
    'Orders demo shop',
    `<main><section class="products" aria-label="Products">${cards}</section>
<aside class="card cart" aria-label="Cart"><h2>Cart</h2><ul data-testid="cart-lines"><li class="muted">Your cart is empty.</li></ul>
<div class="total"><span>Total</span><span data-testid="cart-total">—</span></div>
<button type="button" class="paypal" data-testid="pay" disabled>Pay with PayPal</button>
<p class="muted">After paying you come back to your order's page. The back office shows every order: <a href="/backoffice">/backoffice</a>.</p>
<p class="error" data-testid="shop-error" hidden></p></aside></main>`,
    '/demo/shop.js',
  );
}

/**
 * The customer's order page: its status, updated without a reload until it is final. The buyer is shown the
 * order's number (#1002, filled in once the order is read); its id stays in an attribute, for the script.
 */
export function renderOrderPage(orderId: string): string {
  return page(
    'Your order',
    `<main><section class="card status" data-order-id="${escapeHtml(orderId)}">
<p class="muted" data-testid="order-heading" hidden>Order <strong data-testid="order-number"></strong></p>
<h2 data-testid="order-title">Checking your order…</h2>
<p><span class="badge" data-testid="order-status">…</span></p>
<p data-testid="order-total"></p>
<p class="muted" data-testid="order-note">This page updates by itself.</p>
<p data-testid="order-retry" hidden><button type="button" class="paypal" data-testid="order-pay">Pay with PayPal</button></p>
<p class="error" data-testid="order-error" hidden></p>
<p><a href="/demo">Back to the shop</a> · <a href="/backoffice">Back office</a></p></section></main>`,
    '/demo/order.js',
  );
}

const SHARED_SCRIPT = `
const money = (minor, currency) => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(minor / 10 ** (new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits));
async function call(path, body) {
  const response = await fetch('/demo/api/' + path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(answer.error || 'Something went wrong'), { status: response.status });
  return answer;
}`;

export const SHOP_SCRIPT = `${SHARED_SCRIPT}
const lines = document.querySelector('[data-testid=cart-lines]');
const total = document.querySelector('[data-testid=cart-total]');
const pay = document.querySelector('[data-testid=pay]');
const error = document.querySelector('[data-testid=shop-error]');
function showError(e) { error.hidden = false; error.textContent = e.message; }
function showCart(cart) {
  lines.replaceChildren();
  pay.textContent = 'Pay with PayPal';
  if (cart && cart.items.length === 0 && cart.waiting) {
    // The last cart became an order that is not paid yet (back from PayPal): pay it, or look at it.
    const li = document.createElement('li'); li.dataset.testid = 'waiting-order';
    const link = document.createElement('a'); link.href = cart.waiting.url; link.textContent = 'Order #' + cart.waiting.number;
    const text = document.createElement('span'); text.append(link, ' is waiting for payment.');
    li.append(text); lines.append(li);
    total.textContent = money(cart.waiting.total, cart.waiting.currency);
    pay.textContent = 'Pay for order #' + cart.waiting.number; pay.disabled = false; return;
  }
  if (!cart || cart.items.length === 0) {
    const empty = document.createElement('li'); empty.className = 'muted'; empty.textContent = 'Your cart is empty.'; lines.append(empty);
    total.textContent = '—'; pay.disabled = true; return;
  }
  for (const item of cart.items) {
    const li = document.createElement('li');
    const name = document.createElement('span'); name.textContent = item.quantity + ' × ' + item.name;
    const price = document.createElement('span'); price.textContent = money(item.unitPrice * item.quantity, cart.currency);
    li.append(name, price); lines.append(li);
  }
  total.textContent = money(cart.total, cart.currency); pay.disabled = false;
}
for (const button of document.querySelectorAll('[data-add]')) {
  button.addEventListener('click', async () => {
    button.disabled = true; error.hidden = true;
    try { showCart(await call('cart/add', { sku: button.dataset.add })); } catch (e) { showError(e); } finally { button.disabled = false; }
  });
}
pay.addEventListener('click', async () => {
  pay.disabled = true; error.hidden = true;
  try {
    // To PayPal, or, when another tab already paid this cart's order, to that order's page.
    const { approvalUrl, orderUrl } = await call('checkout', {});
    location.assign(approvalUrl ?? orderUrl);
  } catch (e) {
    showError(e);
    // What the cart holds now (another tab may have changed it), not what this page last showed.
    call('cart').then(showCart, () => { pay.disabled = false; });
  }
});
call('cart').then(showCart, showError);`;

/** Seconds between two looks at a pending order; longer after a failed look, up to a minute. */
export const ORDER_POLL = { everyMs: 1000, maxBackoffMs: 60_000 };

/**
 * The order page's script. It looks at the order every second until its status is final. An order this
 * browser cannot see (404: another customer's — opened without the cookie of the browser that ordered it —
 * or none at all) will not become visible by asking again: the page says so and stops.
 */
export const ORDER_SCRIPT = `${SHARED_SCRIPT}
const section = document.querySelector('[data-order-id]');
const orderId = section.dataset.orderId;
const TITLES = { pending: 'Waiting for your payment…', paid: 'Thank you: your order is paid', failed: 'The payment failed', cancelled: 'This order was cancelled', refunded: 'This order was refunded', partially_refunded: 'Part of this order was refunded' };
const el = (id) => document.querySelector('[data-testid=' + id + ']');
const show = (id, text) => { el(id).textContent = text; };
// Back from PayPal's "Cancel and return": the shop's cancel URL says so. Nothing was charged and the
// order is still there to pay, here, while it is pending.
const cancelled = new URLSearchParams(location.search).get('payment') === 'cancelled';
const pay = el('order-pay');
pay.addEventListener('click', async () => {
  pay.disabled = true; el('order-error').hidden = true;
  try {
    // To PayPal, or, when another tab paid the order meanwhile, to its page as it is now.
    const { approvalUrl, orderUrl } = await call('orders/' + encodeURIComponent(orderId) + '/pay', {});
    location.assign(approvalUrl ?? orderUrl);
  } catch (e) {
    el('order-error').hidden = false; el('order-error').textContent = e.message; pay.disabled = false;
  }
});
let failures = 0;
async function refresh() {
  let final = false;
  try {
    const order = await call('orders/' + encodeURIComponent(orderId));
    failures = 0;
    show('order-title', TITLES[order.status] || order.status);
    const badge = el('order-status');
    badge.textContent = order.status.replace('_', ' '); badge.className = 'badge ' + order.status;
    show('order-total', 'Total ' + money(order.total, order.currency));
    show('order-number', '#' + order.number);
    el('order-heading').hidden = false;
    final = order.status !== 'pending';
    // A failed payment (declined, a held sale denied) charged nothing, and Orders takes a new payment
    // for the order: the buyer can pay again from here (the page said "Final" and offered nothing).
    const failed = order.status === 'failed';
    // A sale PayPal holds for review (paymentStatus pending): the buyer paid, and must not pay again.
    const held = order.status === 'pending' && order.paymentStatus === 'pending';
    // Any other unpaid order can be paid from here: the buyer may be back from a cancelled, replaced or
    // expired link (found from outside: Cancel, Back, Pay Now left them on "Waiting…" with no button).
    // Paying here supersedes a link open in another tab, whose return is then refused: never two charges.
    const retry = (!final && !held) || failed;
    if (retry && !failed && cancelled) show('order-title', 'You cancelled the payment');
    if (held) show('order-title', 'PayPal is reviewing your payment');
    show('order-note', failed ? 'Nothing was charged. Your order is kept: you can pay for it again.' : final ? 'Final: nothing more will change here.' : held ? 'You paid: PayPal holds the payment for review, which can take a few days. Nothing more is needed from you; this page updates by itself.' : cancelled ? 'Nothing was charged. Your order is kept: pay for it when you are ready.' : 'Not paid yet: pay with PayPal when you are ready. This page updates by itself.');
    el('order-retry').hidden = !retry;
  } catch (e) {
    if (e.status === 404) {
      final = true;
      show('order-title', 'This order cannot be shown in this browser');
      el('order-status').hidden = true;
      show('order-note', 'It belongs to the customer who placed it and is shown only in the browser it was ordered from.');
    } else {
      failures += 1;
      show('order-title', e.message);
      show('order-note', 'Could not check the order just now; trying again.');
    }
  }
  if (!final) setTimeout(refresh, Math.min(${ORDER_POLL.everyMs} * 2 ** failures, ${ORDER_POLL.maxBackoffMs}));
}
refresh();`;
