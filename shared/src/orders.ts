/** What the order procedures return (`orders.*`), and the order part of the back office's rows. */
import type { Currency } from './money.js';
import type { Customer } from './schemas.js';
import type { OrderStatus } from './status.js';

export interface OrderLineDto {
  sku: string;
  name: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  currency: Currency;
}

/** An order without its lines: each item of `orders.list`. */
export interface OrderSummary {
  id: string;
  /** Sequential, for people: shown as `#1001`. The id stays the unguessable key. */
  number: number;
  customer: Customer;
  /** The customer's email and display name as the calling service gave them to `orders.create`. */
  customerEmail: string | null;
  customerName: string | null;
  status: OrderStatus;
  total: number;
  currency: Currency;
  refundedAmount: number;
  paymentStatus: string | null;
  /** The PayPal sale id once paid. */
  paymentTransactionId: string | null;
  createdAt: string;
  updatedAt: string;
  paidAt: string | null;
}

/** `orders.get`, `orders.create`, `orders.getToPay`. */
export interface OrderDto extends OrderSummary {
  /** The frozen snapshot once paid; before that, the lines at the prices quoted at checkout. */
  lines: OrderLineDto[];
  linesFrozen: boolean;
}
