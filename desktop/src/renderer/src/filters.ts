import {
  CUSTOMER_TYPE_LABELS,
  CUSTOMER_TYPES,
  ORDER_STATUSES,
  SUPPORTED_CURRENCIES,
  parseDecimalString,
  type Currency,
  type CustomerType,
  type OrderOrdering,
  type OrderSearchFilter,
  type OrderStatus,
} from '@orders/shared';

/** The orders screen's filters as the user typed them; the URL query string is their home. */
export interface OrderFilters {
  status: OrderStatus[];
  /** YYYY-MM-DD, local time, inclusive. */
  from?: string;
  /** YYYY-MM-DD, local time, inclusive (the whole day). */
  to?: string;
  /** `from` and `to` are UTC days, not local ones (the dashboard's links: its days are UTC). */
  utc?: boolean;
  customerType?: CustomerType;
  customerId?: string;
  /**
   * Major units as typed ("10.50"), converted with the currency's minor digits. Only with a
   * currency: totals are compared in minor units, and 1000 minor units of JPY and of USD are not
   * the same amount, so "any currency" has no amount filter.
   */
  amountMin?: string;
  amountMax?: string;
  currency?: Currency;
  q?: string;
}

/** The table's sort, as the URL keeps it: the server's ordering. */
export type OrderSort = OrderOrdering;
export type SortColumn = OrderOrdering['sort'];
export const DEFAULT_SORT: OrderSort = { sort: 'created', direction: 'desc' };

export const STATUS_LABELS: Record<OrderStatus, string> = {
  pending: 'Pending',
  paid: 'Paid',
  failed: 'Failed',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
  partially_refunded: 'Partially refunded',
};

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(value: string | null): value is string {
  if (!value || !DATE_RE.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(y, m - 1, d);
  return date.getFullYear() === y && date.getMonth() === m - 1 && date.getDate() === d;
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : undefined;
}

function text(value: string | null, max = 200): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : undefined;
}

/** Reads filters and sort from a query string; anything malformed is dropped, never an error. */
export function parseOrderQuery(search: string | URLSearchParams): { filters: OrderFilters; sort: OrderSort } {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const statuses = (params.get('status') ?? '').split(',').filter((s): s is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(s));
  const filters: OrderFilters = { status: ORDER_STATUSES.filter((s) => statuses.includes(s)) };
  const from = params.get('from');
  const to = params.get('to');
  if (isDate(from)) filters.from = from;
  if (isDate(to)) filters.to = to;
  if (params.get('tz') === 'utc' && (filters.from || filters.to)) filters.utc = true;
  const customerType = oneOf(CUSTOMER_TYPES, params.get('ctype'));
  if (customerType) filters.customerType = customerType;
  const customerId = text(params.get('cid'));
  if (customerId) filters.customerId = customerId;
  const currency = oneOf(SUPPORTED_CURRENCIES, params.get('currency'));
  if (currency) filters.currency = currency;
  const min = text(params.get('min'), 20);
  const max = text(params.get('max'), 20);
  if (currency && min !== undefined && toMinor(min, currency) !== undefined) filters.amountMin = min;
  if (currency && max !== undefined && toMinor(max, currency) !== undefined) filters.amountMax = max;
  const q = text(params.get('q'));
  if (q) filters.q = q;
  const sort: OrderSort = {
    sort: oneOf(['created', 'total'] as const, params.get('sort')) ?? DEFAULT_SORT.sort,
    direction: oneOf(['asc', 'desc'] as const, params.get('dir')) ?? DEFAULT_SORT.direction,
  };
  return { filters, sort };
}

/** The inverse of parseOrderQuery; defaults are left out so a plain list has a plain URL. */
export function orderQueryString(filters: OrderFilters, sort: OrderSort = DEFAULT_SORT): string {
  const params = new URLSearchParams();
  if (filters.status.length) params.set('status', filters.status.join(','));
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (filters.utc && (filters.from || filters.to)) params.set('tz', 'utc');
  if (filters.customerType) params.set('ctype', filters.customerType);
  if (filters.customerId) params.set('cid', filters.customerId);
  if (filters.amountMin) params.set('min', filters.amountMin);
  if (filters.amountMax) params.set('max', filters.amountMax);
  if (filters.currency) params.set('currency', filters.currency);
  if (filters.q) params.set('q', filters.q);
  if (sort.sort !== DEFAULT_SORT.sort) params.set('sort', sort.sort);
  if (sort.direction !== DEFAULT_SORT.direction) params.set('dir', sort.direction);
  return params.toString();
}

/** "10.50" → 1050 (USD), "1500" → 1500 (JPY); undefined when it is not an amount in that currency. */
export function toMinor(major: string, currency: Currency): number | undefined {
  const minor = parseDecimalString(major, currency);
  return minor === null || minor < 0 ? undefined : minor;
}

function localDay(date: string, addDays = 0, utc = false): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return (utc ? new Date(Date.UTC(y, m - 1, d + addDays)) : new Date(y, m - 1, d + addDays)).toISOString();
}

/** What the server's search takes: ISO instants ([from, to) in the user's time zone) and minor units. */
export function toSearchFilter(filters: OrderFilters): OrderSearchFilter {
  const out: OrderSearchFilter = {};
  if (filters.status.length) out.status = [...filters.status];
  if (filters.from) out.createdFrom = localDay(filters.from, 0, filters.utc);
  if (filters.to) out.createdTo = localDay(filters.to, 1, filters.utc);
  if (filters.customerType) out.customerType = filters.customerType;
  if (filters.customerId) out.customerId = filters.customerId;
  if (filters.currency) {
    out.currency = filters.currency;
    const min = filters.amountMin ? toMinor(filters.amountMin, filters.currency) : undefined;
    const max = filters.amountMax ? toMinor(filters.amountMax, filters.currency) : undefined;
    if (min !== undefined) out.amountMin = min;
    if (max !== undefined) out.amountMax = max;
  }
  if (filters.q) out.q = filters.q;
  return out;
}

export interface FilterChip {
  /** What removing the chip clears: a whole filter, or one status (`status:paid`). */
  key: string;
  label: string;
}

export function filterChips(filters: OrderFilters): FilterChip[] {
  const chips: FilterChip[] = filters.status.map((status) => ({ key: `status:${status}`, label: `Status: ${STATUS_LABELS[status]}` }));
  const zone = filters.utc ? ' (UTC)' : '';
  if (filters.from && filters.to) chips.push({ key: 'created', label: `Created ${filters.from} → ${filters.to}${zone}` });
  else if (filters.from) chips.push({ key: 'created', label: `Created from ${filters.from}${zone}` });
  else if (filters.to) chips.push({ key: 'created', label: `Created until ${filters.to}${zone}` });
  if (filters.customerType || filters.customerId) {
    chips.push({ key: 'customer', label: `Customer: ${[filters.customerType && CUSTOMER_TYPE_LABELS[filters.customerType], filters.customerId].filter(Boolean).join(' · ')}` });
  }
  const unit = filters.currency ? ` ${filters.currency}` : '';
  if (filters.amountMin && filters.amountMax) chips.push({ key: 'amount', label: `Amount ${filters.amountMin}–${filters.amountMax}${unit}` });
  else if (filters.amountMin) chips.push({ key: 'amount', label: `Amount ≥ ${filters.amountMin}${unit}` });
  else if (filters.amountMax) chips.push({ key: 'amount', label: `Amount ≤ ${filters.amountMax}${unit}` });
  if (filters.currency) chips.push({ key: 'currency', label: `Currency: ${filters.currency}` });
  if (filters.q) chips.push({ key: 'q', label: `Search: “${filters.q}”` });
  return chips;
}

export function removeFilter(filters: OrderFilters, key: string): OrderFilters {
  const next: OrderFilters = { ...filters, status: [...filters.status] };
  if (key.startsWith('status:')) next.status = next.status.filter((s) => `status:${s}` !== key);
  else if (key === 'created') {
    delete next.from;
    delete next.to;
    delete next.utc;
  } else if (key === 'customer') {
    delete next.customerType;
    delete next.customerId;
  } else if (key === 'amount') {
    delete next.amountMin;
    delete next.amountMax;
  } else if (key === 'currency') {
    // Amounts are in the currency: without it they mean nothing.
    delete next.currency;
    delete next.amountMin;
    delete next.amountMax;
  }
  else if (key === 'q') delete next.q;
  return next;
}

export function hasFilters(filters: OrderFilters): boolean {
  return filterChips(filters).length > 0;
}
