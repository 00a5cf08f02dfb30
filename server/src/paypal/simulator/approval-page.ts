import { formatMoney } from '@orders/shared';
import type { SimPayment } from './store.js';
import { escapeHtml, htmlHead } from '../../http/html.js';

export const DECISION_PATH = '/checkoutnow/decision';
/** Relative to the approval page (…/cgi-bin/webscr), so it holds wherever the simulator is mounted. */
const DECISION_ACTION = `..${DECISION_PATH}`;

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f5f7fa; color: #1a1a1a; margin: 0; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem;
         box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { font-size: 1.2rem; margin: 0 0 .25rem; } .merchant { color: #555; margin: 0 0 1.5rem; }
  table { width: 100%; border-collapse: collapse; margin-bottom: 1rem; }
  td { padding: .4rem 0; border-bottom: 1px solid #eee; } td.num { text-align: right; white-space: nowrap; }
  .total { font-size: 1.3rem; font-weight: 600; text-align: right; margin: 1rem 0 1.5rem; }
  form { margin: .5rem 0; } button { width: 100%; padding: .8rem; border-radius: 24px; font-size: 1rem;
         cursor: pointer; border: 1px solid #0070ba; }
  .approve { background: #0070ba; color: #fff; } .decline { background: #fff; color: #b00020; border-color: #b00020; }
  .cancel { background: #fff; color: #0070ba; } .onward { color: #0070ba; font-weight: 600; } .note { font-size: .8rem; color: #777; text-align: center; }`;

function page(title: string, body: string): string {
  return `${htmlHead(title)}<style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** The buyer's review page: what they pay whom, with the three outcomes a PayPal checkout can have. */
export function renderApprovalPage(payment: SimPayment, merchant: string): string {
  const { request } = payment;
  const money = (minor: number) => escapeHtml(formatMoney(minor, request.currency));
  const rows = request.items
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.name)}</td><td class="num">${item.quantity} ×</td><td class="num">${money(item.price)}</td></tr>`,
    )
    .join('');
  const button = (action: string, label: string) =>
    `<form method="post" action="${DECISION_ACTION}">
      <input type="hidden" name="token" value="${escapeHtml(payment.token)}">
      <input type="hidden" name="action" value="${action}">
      <button class="${action}" type="submit">${label}</button></form>`;
  return page(
    'PayPal Checkout (simulator)',
    `<h1>Pay with PayPal</h1>
    <p class="merchant">to ${escapeHtml(merchant)}${request.description ? ` — ${escapeHtml(request.description)}` : ''}</p>
    ${rows ? `<table>${rows}</table>` : ''}
    <p class="total">Total ${money(request.total)}</p>
    ${button('approve', 'Pay Now')}
    ${button('decline', 'Pay with a card that will be declined')}
    ${button('cancel', 'Cancel and return to merchant')}
    <p class="note">PayPal simulator — no real money moves.</p>`,
  );
}

/** A page that says why there is nothing to decide, with, when there is one, the way back to the merchant. */
export function renderMessagePage(title: string, message: string, onward?: { href: string; label: string }): string {
  const link = onward ? `<p><a class="onward" href="${escapeHtml(onward.href)}">${escapeHtml(onward.label)}</a></p>` : '';
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${link}`);
}
