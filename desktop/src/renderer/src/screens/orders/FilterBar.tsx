import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { CUSTOMER_TYPES, ORDER_STATUSES, SUPPORTED_CURRENCIES, type Currency, type OrderStatus } from '@orders/shared';
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

/** A text field's draft. The URL is the source of truth: the draft follows it when a chip is removed or Back is pressed. */
function useDraft(value: string | undefined): [string, (draft: string) => void] {
  const [draft, setDraft] = useState(value ?? '');
  useEffect(() => setDraft(value ?? ''), [value]);
  return [draft, setDraft];
}

/** A select of one filter's values, with "any" (no filter) first. */
function AnyOfSelect<T extends string>(props: { id?: string; label: string; anyLabel: string; options: readonly T[]; value: T | undefined; onChange(value: T | ''): void }) {
  return (
    <select id={props.id} aria-label={props.label} value={props.value ?? ''} onChange={(event) => props.onChange(event.target.value as T | '')}>
      <option value="">{props.anyLabel}</option>
      {props.options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );
}

/** A bound of the amount filter, typed in major units; marked invalid (and applied as nothing) when it is not an amount in the currency. */
function AmountInput(props: {
  id?: string;
  label: string;
  placeholder: string;
  value: string;
  invalid: boolean;
  currency: Currency | undefined;
  onChange(value: string): void;
  onKeyDown(event: KeyboardEvent<HTMLInputElement>): void;
  onBlur(): void;
}) {
  return (
    <input
      id={props.id}
      aria-label={props.label}
      inputMode="decimal"
      placeholder={props.placeholder}
      value={props.value}
      aria-invalid={props.invalid}
      title={props.invalid ? `Not an amount in ${props.currency ?? 'a 2-decimal currency'}` : undefined}
      onChange={(event) => props.onChange(event.target.value)}
      onKeyDown={props.onKeyDown}
      onBlur={props.onBlur}
    />
  );
}

/**
 * Every filter the search takes, with the active ones repeated as removable chips. Selects and
 * dates apply at once; text fields on Enter, blur, or (search) after a short pause.
 */
export function FilterBar({ filters, onChange }: FilterBarProps) {
  const ids = useId();
  const [q, setQ] = useDraft(filters.q);
  const [customerId, setCustomerId] = useDraft(filters.customerId);
  const [amountMin, setAmountMin] = useDraft(filters.amountMin);
  const [amountMax, setAmountMax] = useDraft(filters.amountMax);

  useEffect(() => {
    if (q.trim() === (filters.q ?? '')) return;
    const timer = setTimeout(() => onChange(withValue(filters, 'q', q.trim())), TEXT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, filters, onChange]);

  const notAnAmount = (text: string) => text.trim() !== '' && toMinor(text.trim(), filters.currency) === undefined;
  const minInvalid = notAnAmount(amountMin);
  const maxInvalid = notAnAmount(amountMax);

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

  const amountField = { currency: filters.currency, onKeyDown: onEnter, onBlur: applyText };

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
            placeholder="Search #number, order id, PAY-…, sale id or payer email"
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
          <AnyOfSelect
            id={`${ids}-ctype`}
            label="Customer type"
            anyLabel="Any type"
            options={CUSTOMER_TYPES}
            value={filters.customerType}
            onChange={(value) => onChange(withValue(filters, 'customerType', value))}
          />
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
          <AmountInput id={`${ids}-min`} label="Minimum amount" placeholder="min" value={amountMin} invalid={minInvalid} onChange={setAmountMin} {...amountField} />
          <span aria-hidden="true">–</span>
          <AmountInput label="Maximum amount" placeholder="max" value={amountMax} invalid={maxInvalid} onChange={setAmountMax} {...amountField} />
          <AnyOfSelect
            label="Currency"
            anyLabel="Any currency"
            options={SUPPORTED_CURRENCIES}
            value={filters.currency}
            onChange={(value) => onChange(withValue(filters, 'currency', value))}
          />
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
