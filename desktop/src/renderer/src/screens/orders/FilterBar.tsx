import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { CUSTOMER_TYPE_LABELS, CUSTOMER_TYPES, ORDER_STATUSES, SUPPORTED_CURRENCIES, type OrderStatus } from '@orders/shared';
import { Dropdown } from '../../components/Dropdown';
import { STATUS_LABELS, filterChips, removeFilter, toMinor, type OrderFilters } from '../../filters';

export interface FilterBarProps {
  filters: OrderFilters;
  onChange(filters: OrderFilters): void;
  /** ↓ in the search box: the typed text is searched at once and the results take the keyboard. */
  onToResults?(): void;
  /** The search box, for the results to give the keyboard back (↑ on their first row). */
  searchRef?: RefObject<HTMLInputElement | null>;
}

/** Free text is searched this long after the last keystroke (or at once on Enter): about one pause between words. */
export const TEXT_DEBOUNCE_MS = 200;

function withValue<K extends keyof OrderFilters>(filters: OrderFilters, key: K, value: OrderFilters[K] | '' | undefined): OrderFilters {
  const next = { ...filters };
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0 && key !== 'status')) delete next[key];
  else next[key] = value as OrderFilters[K];
  return next;
}

/**
 * A text field's draft. The URL is the source of truth: the draft follows it when a chip is removed
 * or Back is pressed — except after `keepOnNextChange`, when the field itself removed its value (an
 * invalid amount stays in the box, marked, while its filter is gone).
 */
function useDraft(value: string | undefined): [string, (draft: string) => void, () => void] {
  const [draft, setDraft] = useState(value ?? '');
  const keep = useRef(false);
  useEffect(() => {
    if (keep.current) keep.current = false;
    else setDraft(value ?? '');
  }, [value]);
  const keepOnNextChange = useCallback(() => {
    keep.current = true;
  }, []);
  return [draft, setDraft, keepOnNextChange];
}

/** A select of one filter's values, with "any" (no filter) first. */
function AnyOfSelect<T extends string>(props: {
  id?: string;
  label: string;
  anyLabel: string;
  options: readonly T[];
  optionLabels?: Record<T, string>;
  value: T | undefined;
  onChange(value: T | ''): void;
}) {
  return (
    <select id={props.id} aria-label={props.label} value={props.value ?? ''} onChange={(event) => props.onChange(event.target.value as T | '')}>
      <option value="">{props.anyLabel}</option>
      {props.options.map((option) => (
        <option key={option} value={option}>
          {props.optionLabels?.[option] ?? option}
        </option>
      ))}
    </select>
  );
}

/** A bound of the amount filter, typed in major units of the chosen currency. */
function AmountInput(props: {
  id?: string;
  label: string;
  placeholder: string;
  value: string;
  invalid: boolean;
  disabled: boolean;
  describedBy: string | undefined;
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
      disabled={props.disabled}
      aria-invalid={props.invalid}
      aria-describedby={props.describedBy}
      onChange={(event) => props.onChange(event.target.value)}
      onKeyDown={props.onKeyDown}
      onBlur={props.onBlur}
    />
  );
}

/** True when focus is in a place where `/` is a character, not a shortcut. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** `/` pressed as the search shortcut: not typed into a field, not with a modifier, no dialog open. */
export function isSearchShortcut(event: globalThis.KeyboardEvent): boolean {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return false;
  return !document.querySelector('[role="dialog"]');
}

/**
 * `/` on another screen (App's Shell opens the orders list, then calls this): the search box takes
 * the focus as soon as it is there, or at once when it already is.
 */
let searchFocusPending = false;
const FOCUS_SEARCH_EVENT = 'orders:focus-search';
export function focusOrderSearch(): void {
  searchFocusPending = true;
  window.dispatchEvent(new Event(FOCUS_SEARCH_EVENT));
}

/**
 * Everything the search box matches. Its placeholder says it in short (the whole sentence is cut off
 * in the box at 1024 px); the box's tooltip says it in full.
 */
const SEARCH_HINT =
  'Search by order #number, order id, PayPal payment or sale id, payer or customer (id, email, name), sku or product name';

/** The filters behind "More filters" (their chips' keys): the ones staff reach for less often than text, status and dates. */
const MORE_FILTER_CHIPS: readonly string[] = ['customer', 'currency', 'amount'];

/**
 * Every filter the search takes, with the active ones repeated as removable chips. Selects and
 * dates apply at once; the search box as you type (after a short pause), `/` jumps to it and
 * Escape empties it; the other text fields on Enter or blur.
 *
 * Search, status and dates are always in the bar; customer and amount are one click away ("More
 * filters", with how many of them are active), a second row of the bar while open, so the bar is
 * one row at 1024 px and up. It opens by itself when the screen starts with one of them active (a
 * link from the dashboard, a reload). Their values are kept while it is closed, and their chips stay.
 *
 * Amounts need a currency: totals are compared in minor units, so "≥ 10" over every currency would
 * mean ¥10 for some orders and $10.00 for others. The amount fields stay disabled (with a hint)
 * until a currency is chosen. An amount that does not parse is reported beside the field and its
 * bound is removed from the search, never left applied with the old value.
 */
export function FilterBar({ filters, onChange, onToResults, searchRef: givenSearchRef }: FilterBarProps) {
  const ids = useId();
  const ownSearchRef = useRef<HTMLInputElement>(null);
  const searchRef = givenSearchRef ?? ownSearchRef;
  const chips = filterChips(filters);
  const moreActive = chips.filter((chip) => MORE_FILTER_CHIPS.includes(chip.key)).length;
  const [moreOpen, setMoreOpen] = useState(moreActive > 0);
  // One of them arriving from outside (Back, a link) opens the row, so its value is there to edit.
  const hadMore = useRef(moreActive > 0);
  useEffect(() => {
    if (moreActive > 0 && !hadMore.current) setMoreOpen(true);
    hadMore.current = moreActive > 0;
  }, [moreActive]);
  const [q, setQ] = useDraft(filters.q);
  const [customerId, setCustomerId] = useDraft(filters.customerId);
  const [amountMin, setAmountMin, keepAmountMin] = useDraft(filters.amountMin);
  const [amountMax, setAmountMax, keepAmountMax] = useDraft(filters.amountMax);

  useEffect(() => {
    if (q.trim() === (filters.q ?? '')) return;
    const timer = setTimeout(() => onChange(withValue(filters, 'q', q.trim())), TEXT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, filters, onChange]);

  useEffect(() => {
    const focus = () => {
      searchRef.current?.focus();
      searchRef.current?.select();
    };
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!isSearchShortcut(event)) return;
      event.preventDefault();
      focus();
    };
    const onRequest = () => {
      if (!searchFocusPending || !searchRef.current) return;
      searchFocusPending = false;
      focus();
    };
    onRequest();
    window.addEventListener('keydown', onKey);
    window.addEventListener(FOCUS_SEARCH_EVENT, onRequest);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener(FOCUS_SEARCH_EVENT, onRequest);
    };
  }, []);

  const currency = filters.currency;
  const notAnAmount = (text: string) => currency !== undefined && text.trim() !== '' && toMinor(text.trim(), currency) === undefined;
  const minInvalid = notAnAmount(amountMin);
  const maxInvalid = notAnAmount(amountMax);
  // Both amounts read, the lower above the higher: applied as typed, but no order can match (the list
  // only said "No orders match", found from outside).
  const minMinor = currency && !minInvalid && amountMin.trim() ? toMinor(amountMin.trim(), currency) : undefined;
  const maxMinor = currency && !maxInvalid && amountMax.trim() ? toMinor(amountMax.trim(), currency) : undefined;
  const crossed = minMinor !== undefined && maxMinor !== undefined && minMinor > maxMinor;
  const amountMessage = !currency
    ? 'Choose a currency first'
    : minInvalid || maxInvalid
      ? `Not an amount in ${currency}: ${[minInvalid ? `“${amountMin.trim()}”` : '', maxInvalid ? `“${amountMax.trim()}”` : ''].filter(Boolean).join(', ')} (not applied)`
      : crossed
        ? 'The minimum is above the maximum: no order can match'
        : null;

  function applyText() {
    let next = withValue(filters, 'q', q.trim());
    next = withValue(next, 'customerId', customerId.trim());
    if (currency) {
      next = withValue(next, 'amountMin', minInvalid ? undefined : amountMin.trim());
      next = withValue(next, 'amountMax', maxInvalid ? undefined : amountMax.trim());
      if (minInvalid && filters.amountMin !== undefined) keepAmountMin();
      if (maxInvalid && filters.amountMax !== undefined) keepAmountMax();
    }
    const changed = (['q', 'customerId', 'amountMin', 'amountMax'] as const).some((key) => next[key] !== filters[key]);
    if (changed) onChange(next);
  }

  const onEnter = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      applyText();
    }
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Escape' && q !== '') {
      // Escape empties the box and the search at once (no debounce to wait out).
      event.preventDefault();
      event.stopPropagation();
      setQ('');
      if (filters.q) onChange(withValue(filters, 'q', undefined));
    } else if (event.key === 'ArrowDown' && onToResults) {
      event.preventDefault();
      applyText();
      onToResults();
    } else onEnter(event);
  };

  const amountHintId = `${ids}-amount-hint`;
  // A start after the end (a link can carry one; the inputs' min and max only stop the picker): applied
  // as given, but no order can match, which the list alone only said as "No orders match".
  const datesCrossed = filters.from !== undefined && filters.to !== undefined && filters.from > filters.to;
  const datesHintId = `${ids}-dates-hint`;
  const amountField = { disabled: !currency, describedBy: amountMessage ? amountHintId : undefined, onKeyDown: onEnter, onBlur: applyText };

  function toggleStatus(status: OrderStatus, checked: boolean) {
    const selected = checked ? [...filters.status, status] : filters.status.filter((s) => s !== status);
    onChange({ ...filters, status: ORDER_STATUSES.filter((s) => selected.includes(s)) });
  }

  return (
    <section className="filter-bar" aria-label="Filters">
      <div className="filter-row">
        <div className="field field-search">
          <label htmlFor={`${ids}-q`} className="sr-only">
            Search
          </label>
          <input
            id={`${ids}-q`}
            ref={searchRef}
            type="search"
            placeholder="Order #, ids, payer, customer or sku"
            title={SEARCH_HINT}
            value={q}
            maxLength={200}
            aria-keyshortcuts="/"
            onChange={(event) => setQ(event.target.value)}
            onKeyDown={onSearchKey}
          />
          <kbd className="search-key" aria-hidden="true" title="Press / to search">
            /
          </kbd>
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
            aria-invalid={datesCrossed || undefined}
            aria-describedby={datesCrossed ? datesHintId : undefined}
            value={filters.from ?? ''}
            max={filters.to}
            onChange={(event) => onChange(withValue(filters, 'from', event.target.value))}
          />
          <span aria-hidden="true">→</span>
          <input
            id={`${ids}-to`}
            type="date"
            aria-label="Created to"
            aria-invalid={datesCrossed || undefined}
            aria-describedby={datesCrossed ? datesHintId : undefined}
            value={filters.to ?? ''}
            min={filters.from}
            onChange={(event) => onChange(withValue(filters, 'to', event.target.value))}
          />
        </div>

        <button
          type="button"
          className="button more-filters"
          aria-expanded={moreOpen}
          aria-controls={`${ids}-more`}
          onClick={() => setMoreOpen((open) => !open)}
        >
          More filters{moreActive ? <span className="count">{moreActive}</span> : null}
        </button>
      </div>

      {datesCrossed ? (
        <p id={datesHintId} className="field-error filter-alert" role="alert">
          The start date is after the end date: no order can match
        </p>
      ) : null}

      {moreOpen ? (
        <div className="filter-row filter-more" id={`${ids}-more`} role="group" aria-label="More filters">
          <div className="field field-customer">
            <label htmlFor={`${ids}-ctype`}>Customer</label>
            <AnyOfSelect
              id={`${ids}-ctype`}
              label="Customer type"
              anyLabel="Any type"
              options={CUSTOMER_TYPES}
              optionLabels={CUSTOMER_TYPE_LABELS}
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

          <div className={`field field-amount${amountMessage ? ' has-hint' : ''}`}>
            <label htmlFor={`${ids}-min`}>Amount</label>
            <AnyOfSelect
              label="Currency"
              anyLabel="Any currency"
              options={SUPPORTED_CURRENCIES}
              value={currency}
              onChange={(value) => {
                const next = withValue(filters, 'currency', value);
                if (!value) {
                  delete next.amountMin;
                  delete next.amountMax;
                }
                onChange(next);
              }}
            />
            <AmountInput id={`${ids}-min`} label="Minimum amount" placeholder="min" value={amountMin} invalid={minInvalid} onChange={setAmountMin} {...amountField} />
            <span aria-hidden="true">–</span>
            <AmountInput label="Maximum amount" placeholder="max" value={amountMax} invalid={maxInvalid} onChange={setAmountMax} {...amountField} />
            {amountMessage ? (
              <span id={amountHintId} className={minInvalid || maxInvalid || crossed ? 'field-error' : 'field-hint'} role={minInvalid || maxInvalid || crossed ? 'alert' : undefined}>
                {amountMessage}
              </span>
            ) : null}
          </div>
        </div>
      ) : null}

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
