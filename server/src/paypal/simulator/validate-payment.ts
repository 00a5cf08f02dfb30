import { isSupportedCurrency, toDecimalString, type Currency } from '@orders/shared';
import { parseAmount } from './amounts.js';
import { malformedRequest, validationError, type ErrorDetail } from './errors.js';

export interface PaymentItem {
  name: string;
  sku?: string;
  price: number;
  quantity: number;
}

/** A create-payment request that passed PayPal's checks, amounts already in minor units. */
export interface ValidPaymentRequest {
  currency: Currency;
  total: number;
  /** Echoed back in responses, normalised the way PayPal formats amounts. */
  amountDetails?: Record<string, string>;
  items: PaymentItem[];
  description?: string;
  custom?: string;
  invoiceNumber?: string;
  notifyUrl?: string;
  returnUrl: string;
  cancelUrl: string;
}

// Every detail field PayPal adds up to the total; shipping_discount is the one that subtracts.
const ADDED_DETAILS = ['subtotal', 'shipping', 'tax', 'handling_fee', 'insurance', 'gift_wrap'] as const;
const SUBTRACTED_DETAILS = ['shipping_discount'] as const;
const TEXT_LIMIT = 127;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Throws PayPal's VALIDATION_ERROR with every problem found, like PayPal does, or returns the request. */
export function validateCreatePayment(body: unknown): ValidPaymentRequest {
  if (!isRecord(body)) throw malformedRequest();
  const issues: ErrorDetail[] = [];
  const issue = (field: string, text: string) => issues.push({ field, issue: text });

  if (body.intent !== 'sale') {
    issue('intent', body.intent === undefined ? 'Required field missing' : 'Only intent "sale" is supported');
  }
  if (!isRecord(body.payer) || body.payer.payment_method !== 'paypal') {
    issue('payer.payment_method', 'Only payment_method "paypal" is supported');
  }

  const redirects = isRecord(body.redirect_urls) ? body.redirect_urls : {};
  for (const key of ['return_url', 'cancel_url'] as const) {
    if (redirects[key] === undefined) issue(`redirect_urls.${key}`, 'Required field missing');
    else if (!isHttpUrl(redirects[key])) issue(`redirect_urls.${key}`, 'Value is invalid');
  }

  const transactions = body.transactions;
  if (!Array.isArray(transactions) || transactions.length === 0) {
    issue('transactions', 'Required field missing');
    throw validationError(issues);
  }
  if (transactions.length > 1) issue('transactions', 'Only single payment transaction currently supported');
  const tx: unknown = transactions[0];
  if (!isRecord(tx) || !isRecord(tx.amount)) {
    issue('transactions[0].amount', 'Required field missing');
    throw validationError(issues);
  }

  const currency = tx.amount.currency;
  if (typeof currency !== 'string' || !isSupportedCurrency(currency)) {
    issue('transactions[0].amount.currency', 'Currency code is invalid or is not currently supported');
    throw validationError(issues);
  }

  const totalParse = parseAmount(tx.amount.total, currency);
  const total = totalParse.ok ? totalParse.minor : undefined;
  if (!totalParse.ok) issue('transactions[0].amount.total', totalParse.issue);
  else if (totalParse.minor === 0) issue('transactions[0].amount.total', 'Must be greater than zero');

  const texts = { description: tx.description, custom: tx.custom, invoice_number: tx.invoice_number };
  for (const [field, value] of Object.entries(texts)) {
    if (value === undefined) continue;
    if (typeof value !== 'string') issue(`transactions[0].${field}`, 'Value must be a string');
    else if (value.length > TEXT_LIMIT) issue(`transactions[0].${field}`, `Length must be at most ${TEXT_LIMIT}`);
  }
  if (tx.notify_url !== undefined && !isHttpUrl(tx.notify_url)) issue('transactions[0].notify_url', 'Value is invalid');

  const { subtotal, amountDetails } = checkDetails(tx.amount.details, currency, total, issue);
  const items = checkItems(tx.item_list, currency, subtotal ?? total, issue);

  if (issues.length > 0 || total === undefined) throw validationError(issues);
  return {
    currency,
    total,
    ...(amountDetails ? { amountDetails } : {}),
    items,
    ...(typeof tx.description === 'string' ? { description: tx.description } : {}),
    ...(typeof tx.custom === 'string' ? { custom: tx.custom } : {}),
    ...(typeof tx.invoice_number === 'string' ? { invoiceNumber: tx.invoice_number } : {}),
    ...(typeof tx.notify_url === 'string' ? { notifyUrl: tx.notify_url } : {}),
    returnUrl: redirects.return_url as string,
    cancelUrl: redirects.cancel_url as string,
  };
}

function checkDetails(
  details: unknown,
  currency: Currency,
  total: number | undefined,
  issue: (field: string, text: string) => void,
): { subtotal?: number; amountDetails?: Record<string, string> } {
  if (details === undefined) return {};
  if (!isRecord(details)) {
    issue('transactions[0].amount.details', 'Value is invalid');
    return {};
  }
  const amountDetails: Record<string, string> = {};
  let sum = 0;
  let allValid = true;
  for (const key of [...ADDED_DETAILS, ...SUBTRACTED_DETAILS]) {
    if (details[key] === undefined) continue;
    const parsed = parseAmount(details[key], currency);
    if (!parsed.ok) {
      issue(`transactions[0].amount.details.${key}`, parsed.issue);
      allValid = false;
      continue;
    }
    amountDetails[key] = toDecimalString(parsed.minor, currency);
    sum += (SUBTRACTED_DETAILS as readonly string[]).includes(key) ? -parsed.minor : parsed.minor;
  }
  if (allValid && total !== undefined && sum !== total) {
    issue(
      'transactions[0].amount',
      'Transaction amount details (subtotal, tax, shipping) must add up to specified amount total',
    );
  }
  const subtotal = details.subtotal === undefined ? undefined : parseAmount(details.subtotal, currency);
  return { ...(subtotal?.ok ? { subtotal: subtotal.minor } : {}), amountDetails };
}

function checkItems(
  itemList: unknown,
  currency: Currency,
  expectedSum: number | undefined,
  issue: (field: string, text: string) => void,
): PaymentItem[] {
  if (itemList === undefined) return [];
  if (!isRecord(itemList) || !Array.isArray(itemList.items)) {
    issue('transactions[0].item_list.items', 'Value is invalid');
    return [];
  }
  const items: PaymentItem[] = [];
  let allValid = true;
  itemList.items.forEach((raw: unknown, index) => {
    const field = `transactions[0].item_list.items[${index}]`;
    if (!isRecord(raw)) {
      issue(field, 'Value is invalid');
      allValid = false;
      return;
    }
    const name = raw.name;
    if (typeof name !== 'string' || name === '' || name.length > TEXT_LIMIT) {
      issue(`${field}.name`, 'Required field missing or longer than 127');
      allValid = false;
    }
    if (raw.sku !== undefined && (typeof raw.sku !== 'string' || raw.sku.length > TEXT_LIMIT)) {
      issue(`${field}.sku`, 'Value is invalid');
      allValid = false;
    }
    if (raw.currency !== currency) {
      issue(`${field}.currency`, 'Currency must match the transaction currency');
      allValid = false;
    }
    const price = parseAmount(raw.price, currency);
    if (!price.ok) {
      issue(`${field}.price`, price.issue);
      allValid = false;
    }
    // PayPal accepts the quantity as a number or a string of digits.
    const quantity = typeof raw.quantity === 'string' && /^\d{1,10}$/.test(raw.quantity) ? Number(raw.quantity) : raw.quantity;
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1) {
      issue(`${field}.quantity`, 'Value is invalid');
      allValid = false;
    }
    if (allValid && price.ok && typeof name === 'string' && typeof quantity === 'number') {
      items.push({ name, ...(typeof raw.sku === 'string' ? { sku: raw.sku } : {}), price: price.minor, quantity });
    }
  });
  const sum = items.reduce((acc, item) => acc + item.price * item.quantity, 0);
  if (allValid && expectedSum !== undefined && sum !== expectedSum) {
    issue(
      'transactions[0].item_list.items',
      'Item amount must add up to specified amount subtotal (or total if amount details not specified)',
    );
  }
  return items;
}
