import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from 'react';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type SortingState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { CUSTOMER_TYPE_LABELS, type BackofficeOrderRow } from '@orders/shared';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { EmptyState, ErrorState, Spinner } from '../../components/States';
import { measureOnResize } from '../../components/resize';
import type { OrderSort, SortColumn } from '../../filters';
import { ORDER_COLUMNS, columnsThatFit, gridTemplate, type OrderColumnId } from './columns';
import { money } from '../../format';

export const ROW_HEIGHT = 44;
const NO_SELECTION: ReadonlySet<string> = new Set();
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 30;

const column = createColumnHelper<BackofficeOrderRow>();

const columns = [
  column.accessor('number', {
    header: 'Order',
    cell: (info) => (
      <span className="mono order-number" title={`Order id ${info.row.original.id}`}>
        #{info.getValue()}
      </span>
    ),
    enableSorting: false,
  }),
  column.accessor('status', { header: 'Status', cell: (info) => <StatusBadge status={info.getValue()} />, enableSorting: false }),
  column.accessor('customer', {
    header: 'Customer',
    cell: (info) => {
      const row = info.row.original;
      const { type, id } = info.getValue();
      // The name (or email) the shop gave at order creation first, its customer id beneath. An anonymous
      // customer has none: PayPal's payer is the person who bought (and what a search by name found,
      // where the Payer column has no room). The id alone when there is neither.
      const payer = type === 'anonymous' && !row.customerName && !row.customerEmail ? (row.payerName ?? row.payerEmail) : null;
      const known = row.customerName ?? row.customerEmail ?? payer;
      const title = [`${CUSTOMER_TYPE_LABELS[type]}: ${id}`, row.customerName, row.customerEmail, payer ? `PayPal payer ${payer}` : null].filter(Boolean).join(' · ');
      const badge = <span className={`customer-type customer-${type}`}>{CUSTOMER_TYPE_LABELS[type]}</span>;
      // With a name, the name has the column's whole width and the kind and id go beneath it.
      return known ? (
        <span className="two-lines" title={title}>
          <span className="truncate">{known}</span>
          <span className="customer secondary">
            {badge}
            <span className="truncate muted">{id}</span>
          </span>
        </span>
      ) : (
        <span className="customer" title={title}>
          {badge}
          <span className="truncate">{id}</span>
        </span>
      );
    },
    enableSorting: false,
  }),
  column.accessor('total', {
    header: 'Total',
    cell: (info) => {
      const row = info.row.original;
      const total = money(row.total, row.currency);
      const refunded = row.refundedAmount > 0 ? `−${money(row.refundedAmount, row.currency)} refunded` : null;
      return (
        <span className="amount" title={refunded ? `${total} · ${refunded}` : total}>
          <span className="money">{total}</span>
          {refunded ? <span className="refunded">{refunded}</span> : null}
        </span>
      );
    },
  }),
  column.display({
    id: 'paypal',
    header: 'PayPal',
    cell: (info) => {
      const row = info.row.original;
      if (!row.externalId && !row.paymentTransactionId) return <span className="muted">—</span>;
      return (
        <span className="paypal-ids">
          {row.externalId ? <span className="mono truncate" title={`Payment ${row.externalId}`}>{row.externalId}</span> : null}
          {row.paymentTransactionId ? (
            <span className="mono truncate muted" title={`Sale ${row.paymentTransactionId}`}>
              sale {row.paymentTransactionId}
            </span>
          ) : null}
        </span>
      );
    },
  }),
  column.accessor('payerEmail', {
    header: 'Payer',
    cell: (info) => {
      const { payerName, payerEmail } = info.row.original;
      if (!payerEmail && !payerName) return <span className="muted">—</span>;
      // PayPal's payer: the name they gave PayPal, their email beneath.
      return (
        <span className="two-lines" title={[payerName, payerEmail].filter(Boolean).join(' · ')}>
          <span className="truncate">{payerName ?? payerEmail}</span>
          {payerName && payerEmail ? <span className="truncate muted secondary">{payerEmail}</span> : null}
        </span>
      );
    },
    enableSorting: false,
  }),
  column.accessor('createdAt', { header: 'Created', cell: (info) => <Time value={info.getValue()} /> }),
];

const SORT_COLUMN_IDS: Record<SortColumn, string> = { created: 'createdAt', total: 'total' };

export interface OrdersTableProps {
  rows: BackofficeOrderRow[];
  sort: OrderSort;
  onSortChange(sort: OrderSort): void;
  onOpen(orderId: string): void;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore(): void;
  loading?: boolean;
  error?: string | null;
  onRetry?: () => void;
  /** Shown when there are no rows (and no loading or error). */
  empty?: ReactNode;
  /** Accessible name of the grid. */
  label?: string;
  /** The row to select (and scroll to) when the table appears: the order last opened, on return. */
  initialActiveId?: string | null;
  /** The columns the user chose (default: all); those that do not fit the width are left out. */
  columns?: readonly OrderColumnId[];
  /** Told which chosen columns the width left out, so the column chooser can say so. */
  onColumnsFit?(shown: OrderColumnId[]): void;
  /** Checked rows (by order id), for bulk actions. */
  selected?: ReadonlySet<string>;
  onSelectedChange?(selected: Set<string>): void;
  /** The grid itself, for the search box to hand it the keyboard (↓). */
  gridRef?: RefObject<HTMLDivElement | null>;
  /** ↑ on the first row: the keyboard goes back to where it came from (the search box). */
  onLeaveTop?(): void;
}

const ALL_COLUMNS = ORDER_COLUMNS.map((c) => c.id);

/** The width the rows get (the scroll container's, without its scrollbar), followed as the window resizes. */
function useContentWidth(ref: RefObject<HTMLDivElement | null>): { width: number | null; scrollbar: number } {
  const [size, setSize] = useState<{ width: number | null; scrollbar: number }>({ width: null, scrollbar: 0 });
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => {
      const scrollbar = element.offsetWidth > element.clientWidth ? element.offsetWidth - element.clientWidth : 0;
      setSize((current) => (current.width === element.clientWidth && current.scrollbar === scrollbar ? current : { width: element.clientWidth, scrollbar }));
    };
    return measureOnResize([element], measure);
  }, [ref]);
  return size;
}

/**
 * The orders list: a TanStack Table whose rows are virtualised (only what is visible is in the DOM)
 * and which asks for the next keyset page as the end comes into view. Keyboard: ↑/↓ move,
 * PageUp/PageDown jump, Home/End, Enter opens.
 */
export function OrdersTable(props: OrdersTableProps) {
  const { rows, sort, onSortChange, onOpen, hasMore, loadingMore, onLoadMore, loading, error, onRetry, empty, onColumnsFit, onSelectedChange } = props;
  const selected = props.selected ?? NO_SELECTION;
  const ownGridRef = useRef<HTMLDivElement>(null);
  const scrollRef = props.gridRef ?? ownGridRef;
  const content = useContentWidth(scrollRef);
  const chosen = props.columns ?? ALL_COLUMNS;
  const shown = useMemo(() => (content.width === null ? [...chosen] : columnsThatFit(chosen, content.width)), [chosen, content.width]);
  const shownKey = shown.join(',');
  useEffect(() => onColumnsFit?.(shownKey.split(',') as OrderColumnId[]), [shownKey, onColumnsFit]);
  const template = gridTemplate(shown);
  /** Where a shift-click range starts: the row checked or unchecked last. */
  const anchor = useRef<number | null>(null);
  const [activeId, setActiveId] = useState<string | null>(props.initialActiveId ?? null);
  const activeIndex = activeId ? rows.findIndex((row) => row.id === activeId) : -1;
  // New results while the grid has the keyboard (the search box handed it over before they came):
  // their first row is the active one, so Enter opens what is on screen.
  useEffect(() => {
    if (activeIndex < 0 && rows.length > 0 && document.activeElement === scrollRef.current) setActiveId(rows[0]!.id);
  }, [activeIndex, rows, scrollRef]);

  const sorting = useMemo<SortingState>(() => [{ id: SORT_COLUMN_IDS[sort.sort], desc: sort.direction === 'desc' }], [sort]);
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: (row) => row.id,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    enableSortingRemoval: false,
    state: { sorting, columnVisibility: Object.fromEntries(ALL_COLUMNS.map((id) => [id, shown.includes(id)])) },
  });
  const tableRows = table.getRowModel().rows;

  const virtualizer = useVirtualizer({
    count: tableRows.length + (hasMore ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastVisible = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (hasMore && !loadingMore && lastVisible >= tableRows.length - PREFETCH_ROWS) onLoadMore();
  }, [hasMore, loadingMore, lastVisible, tableRows.length, onLoadMore]);

  // Back from an order: the row it came from is where it was, selected.
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || activeIndex < 0) return;
    restored.current = true;
    virtualizer.scrollToIndex(activeIndex, { align: 'center' });
  }, [activeIndex, virtualizer]);

  function toggleSort(columnName: SortColumn) {
    if (sort.sort === columnName) onSortChange({ sort: columnName, direction: sort.direction === 'desc' ? 'asc' : 'desc' });
    else onSortChange({ sort: columnName, direction: 'desc' });
  }

  function toggleRow(index: number, event: MouseEvent<HTMLInputElement> | KeyboardEvent<HTMLDivElement>) {
    const row = rows[index];
    if (!row || !onSelectedChange) return;
    const check = !selected.has(row.id);
    const next = new Set(selected);
    // Shift-click: every row from the last one clicked to this one takes this one's new state.
    const from = event.shiftKey && anchor.current !== null && anchor.current < rows.length ? anchor.current : index;
    for (let i = Math.min(from, index); i <= Math.max(from, index); i++) {
      if (check) next.add(rows[i]!.id);
      else next.delete(rows[i]!.id);
    }
    anchor.current = index;
    onSelectedChange(next);
  }

  const selectedOnScreen = rows.reduce((n, row) => n + (selected.has(row.id) ? 1 : 0), 0);
  const allSelected = rows.length > 0 && selectedOnScreen === rows.length;

  function toggleAll() {
    if (!onSelectedChange) return;
    anchor.current = null;
    onSelectedChange(allSelected ? new Set() : new Set(rows.map((row) => row.id)));
  }

  function moveTo(index: number) {
    if (rows.length === 0) return;
    const clamped = Math.max(0, Math.min(rows.length - 1, index));
    setActiveId(rows[clamped]!.id);
    virtualizer.scrollToIndex(clamped, { align: 'auto' });
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);
    const moves: Record<string, () => void> = {
      ArrowDown: () => moveTo(activeIndex + 1),
      ArrowUp: () => (activeIndex <= 0 && props.onLeaveTop ? props.onLeaveTop() : moveTo(activeIndex <= 0 ? 0 : activeIndex - 1)),
      PageDown: () => moveTo(activeIndex + page),
      PageUp: () => moveTo(activeIndex - page),
      Home: () => moveTo(0),
      End: () => moveTo(rows.length - 1),
      Enter: () => {
        if (activeIndex >= 0) onOpen(rows[activeIndex]!.id);
      },
      ' ': () => {
        if (activeIndex >= 0) toggleRow(activeIndex, event);
      },
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      move();
    }
  }

  const headerGroup = table.getHeaderGroups()[0]!;
  let body: ReactNode;
  if (error && rows.length === 0) body = <ErrorState message={error} {...(onRetry ? { onRetry } : {})} />;
  else if (loading && rows.length === 0) body = <Spinner label="Loading orders…" />;
  else if (rows.length === 0) body = empty ?? <EmptyState title="No orders" />;

  return (
    <div className="orders-table" data-testid="orders-table">
      <div className="grid-row grid-header" role="row" style={{ gridTemplateColumns: template, paddingRight: 16 + content.scrollbar }}>
        <div role="columnheader" className="cell cell-select">
          {onSelectedChange ? (
            <input
              type="checkbox"
              aria-label={allSelected ? 'Unselect all' : `Select all ${rows.length} orders on screen`}
              checked={allSelected}
              ref={(box) => {
                if (box) box.indeterminate = selectedOnScreen > 0 && !allSelected;
              }}
              disabled={rows.length === 0}
              onChange={toggleAll}
            />
          ) : null}
        </div>
        {headerGroup.headers.map((header) => {
          const sortKey = (Object.keys(SORT_COLUMN_IDS) as SortColumn[]).find((key) => SORT_COLUMN_IDS[key] === header.column.id);
          const sorted = sortKey && sort.sort === sortKey ? sort.direction : undefined;
          return (
            <div
              key={header.id}
              role="columnheader"
              className={`cell cell-${header.column.id}`}
              aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : sortKey ? 'none' : undefined}
            >
              {sortKey ? (
                <button type="button" className={`sort-button${sorted ? ' sorted' : ''}`} onClick={() => toggleSort(sortKey)}>
                  {flexRender(header.column.columnDef.header, header.getContext())}
                  <span className="sort-indicator" aria-hidden="true">
                    {sorted === 'asc' ? '↑' : sorted === 'desc' ? '↓' : '↕'}
                  </span>
                </button>
              ) : (
                flexRender(header.column.columnDef.header, header.getContext())
              )}
            </div>
          );
        })}
      </div>
      <div
        ref={scrollRef}
        className="grid-body"
        role="grid"
        aria-label={props.label ?? 'Orders'}
        aria-rowcount={rows.length}
        aria-busy={loading || loadingMore}
        aria-activedescendant={activeIndex >= 0 ? `order-row-${rows[activeIndex]!.id}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onFocus={() => {
          if (activeIndex < 0 && rows.length > 0) setActiveId(rows[0]!.id);
        }}
      >
        {body ?? (
          <div className="grid-spacer" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const row = tableRows[item.index];
              const style = { transform: `translateY(${item.start}px)`, height: ROW_HEIGHT, gridTemplateColumns: template };
              if (!row) {
                return (
                  <div key="loader" className="grid-row grid-loader" style={style} role="row">
                    <span className="spinner" aria-hidden="true" /> Loading more orders…
                  </div>
                );
              }
              const active = row.index === activeIndex;
              const checked = selected.has(row.id);
              return (
                <div
                  key={row.id}
                  id={`order-row-${row.id}`}
                  role="row"
                  aria-rowindex={row.index + 1}
                  aria-selected={active}
                  data-order-id={row.id}
                  className={`grid-row${active ? ' active' : ''}${checked ? ' checked' : ''}`}
                  style={style}
                  onClick={() => {
                    setActiveId(row.id);
                    onOpen(row.id);
                  }}
                >
                  {/* A click beside the checkbox does not open the order either. */}
                  <div role="gridcell" className="cell cell-select" onClick={(event) => event.stopPropagation()}>
                    {onSelectedChange ? (
                      <input
                        type="checkbox"
                        aria-label={`Select order #${row.original.number}`}
                        checked={checked}
                        onChange={() => undefined}
                        onClick={(event) => toggleRow(row.index, event)}
                      />
                    ) : null}
                  </div>
                  {row.getVisibleCells().map((cell) => (
                    <div key={cell.id} role="gridcell" className={`cell cell-${cell.column.id}`}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
