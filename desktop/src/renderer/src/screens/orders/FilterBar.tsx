import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { CUSTOMER_TYPES, ORDER_STATUSES, SUPPORTED_CURRENCIES, type Currency, type CustomerType, type OrderStatus } from '@orders/shared';
import { Dropdown } from '../../components/Dropdown';
import { STATUS_LABELS, filterChips, removeFilter, toMinor, type OrderFilters } from '../../filters';

export interface FilterBarProps {
  filters: OrderFilters;
  onChange(filters: OrderFilters): void;
}

/** Free text is applied this long after the last keystroke (or at once on Enter). */
const TEXT_DEBOUNCE_MS = 350;

function withValue<K extends keyof OrderFilters>(filters: OrderFilters, key: K, value: OrderFilters[K] | '' | undefined): OrderFilters {
  const next = { ...filters };
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0 && key !== 'status')) delete next[key];
  else next[key] = value as OrderFilters[K];
  return next;
}

/**
 * Every filter the search takes, with the active ones repeated as removable chips. Selects and
 * dates apply at once; text fields on Enter, blur, or (search) after a short pause.
 */
export function FilterBar({ filters, onChange }: FilterBarProps) {
  const ids = useId();
  const [q, setQ] = useState(filters.q ?? '');
  const [customerId, setCustomerId] = useState(filters.customerId ?? '');
  const [amountMin, setAmountMin] = useState(filters.amountMin ?? '');
  const [amountMax, setAmountMax] = useState(filters.amountMax ?? '');

  // The URL is the source of truth: follow it when a chip is removed or Back is pressed.
  useEffect(() => setQ(filters.q ?? ''), [filters.q]);
  useEffect(() => setCustomerId(filters.customerId ?? ''), [filters.customerId]);
  useEffect(() => setAmountMin(filters.amountMin ?? ''), [filters.amountMin]);
  useEffect(() => setAmountMax(filters.amountMax ?? ''), [filters.amountMax]);

  useEffect(() => {
    if (q.trim() === (filters.q ?? '')) return;
    const timer = setTimeout(() => onChange(withValue(filters, 'q', q.trim())), TEXT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, filters, onChange]);

  const minInvalid = amountMin.trim() !== '' && toMinor(amountMin.trim(), filters.currency) === undefined;
  const maxInvalid = amountMax.trim() !== '' && toMinor(amountMax.trim(), filters.currency) === undefined;

  function applyText() {
    let next = withValue(filters, 'q', q.trim());
    next = withValue(next, 'customerId', customerId.trim());
    if (!minInvalid) next = withValue(next, 'amountMin', amountMin.trim());
    if (!maxInvalid) next = withValue(next, 'amountMax', amountMax.trim());
    const changed = (['q', 'customerId', 'amountMin', 'amountMax'] as const).some((key) => next[key] !== filters[key]);
    if (changed) onChange(next);
  }

  const onEnter = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      applyText();
    }
  };

  function toggleStatus(status: OrderStatus, checked: boolean) {
    const selected = checked ? [...filters.status, status] : filters.status.filter((s) => s !== status);
    onChange({ ...filters, status: ORDER_STATUSES.filter((s) => selected.includes(s)) });
  }

  const chips = filterChips(filters);

  return (
    <section className="filter-bar" aria-label="Filters">
      <div className="filter-row">
        <div className="field field-search">
          <label htmlFor={`${ids}-q`} className="sr-only">
            Search
          </label>
          <input
            id={`${ids}-q`}
            type="search"
            placeholder="Search order id, PAY-…, sale id or payer email"
            value={q}
            maxLength={200}
            onChange={(event) => setQ(event.target.value)}
            onKeyDown={onEnter}
          />
        </div>

        <Dropdown label={<>Status{filters.status.length ? <span className="count">{filters.status.length}</span> : null}</>}>
          <fieldset className="checklist">
            <legend className="sr-only">Order status</legend>
            {ORDER_STATUSES.map((status) => (
              <label key={status} className="check">
                <input type="checkbox" checked={filters.status.includes(status)} onChange={(event) => toggleStatus(status, event.target.checked)} />
                <span className={`dot status-${status}`} aria-hidden="true" />
                {STATUS_LABELS[status]}
              </label>
            ))}
          </fieldset>
        </Dropdown>

        <div className="field field-dates">
          <label htmlFor={`${ids}-from`}>Created</label>
          <input
            id={`${ids}-from`}
            type="date"
            aria-label="Created from"
            value={filters.from ?? ''}
            max={filters.to}
            onChange={(event) => onChange(withValue(filters, 'from', event.target.value))}
          />
          <span aria-hidden="true">→</span>
          <input
            id={`${ids}-to`}
            type="date"
            aria-label="Created to"
            value={filters.to ?? ''}
            min={filters.from}
            onChange={(event) => onChange(withValue(filters, 'to', event.target.value))}
          />
        </div>

        <div className="field field-customer">
          <label htmlFor={`${ids}-ctype`}>Customer</label>
          <select
            id={`${ids}-ctype`}
            aria-label="Customer type"
            value={filters.customerType ?? ''}
            onChange={(event) => onChange(withValue(filters, 'customerType', event.target.value as CustomerType | ''))}
          >
            <option value="">Any type</option>
            {CUSTOMER_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
          <input
            aria-label="Customer id"
            placeholder="Customer id"
            value={customerId}
            maxLength={200}
            onChange={(event) => setCustomerId(event.target.value)}
            onKeyDown={onEnter}
            onBlur={applyText}
          />
        </div>

        <div className="field field-amount">
          <label htmlFor={`${ids}-min`}>Amount</label>
          <input
            id={`${ids}-min`}
            aria-label="Minimum amount"
            inputMode="decimal"
            placeholder="min"
            value={amountMin}
            aria-invalid={minInvalid}
            title={minInvalid ? `Not an amount in ${filters.currency ?? 'a 2-decimal currency'}` : undefined}
            onChange={(event) => setAmountMin(event.target.value)}
            onKeyDown={onEnter}
            onBlur={applyText}
          />
          <span aria-hidden="true">–</span>
          <input
            aria-label="Maximum amount"
            inputMode="decimal"
            placeholder="max"
            value={amountMax}
            aria-invalid={maxInvalid}
            title={maxInvalid ? `Not an amount in ${filters.currency ?? 'a 2-decimal currency'}` : undefined}
            onChange={(event) => setAmountMax(event.target.value)}
            onKeyDown={onEnter}
            onBlur={applyText}
          />
          <select
            aria-label="Currency"
            value={filters.currency ?? ''}
            onChange={(event) => onChange(withValue(filters, 'currency', event.target.value as Currency | ''))}
          >
            <option value="">Any currency</option>
            {SUPPORTED_CURRENCIES.map((currency) => (
              <option key={currency} value={currency}>
                {currency}
              </option>
            ))}
          </select>
        </div>
      </div>

      {chips.length > 0 ? (
        <ul className="chips" aria-label="Active filters">
          {chips.map((chip) => (
            <li key={chip.key} className="chip">
              <span>{chip.label}</span>
              <button type="button" className="chip-remove" aria-label={`Remove filter ${chip.label}`} onClick={() => onChange(removeFilter(filters, chip.key))}>
                ×
              </button>
            </li>
          ))}
          <li>
            <button type="button" className="link-button" onClick={() => onChange({ status: [] })}>
              Clear all
            </button>
          </li>
        </ul>
      ) : null}
    </section>
  );
}
