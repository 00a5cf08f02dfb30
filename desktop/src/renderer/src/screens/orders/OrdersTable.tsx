import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type SortingState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { BackofficeOrderRow } from '@orders/shared';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { EmptyState, ErrorState, Spinner } from '../../components/States';
import type { OrderSort, SortColumn } from '../../filters';
import { money } from '../../format';

export const ROW_HEIGHT = 44;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 30;

const column = createColumnHelper<BackofficeOrderRow>();

const columns = [
  column.accessor('status', { header: 'Status', cell: (info) => <StatusBadge status={info.getValue()} />, enableSorting: false }),
  column.accessor('number', {
    header: 'Order',
    cell: (info) => (
      <span className="mono order-number" title={`Order id ${info.row.original.id}`}>
        #{info.getValue()}
      </span>
    ),
    enableSorting: false,
  }),
  column.accessor('customer', {
    header: 'Customer',
    cell: (info) => (
      <span className="customer" title={`${info.getValue().type}: ${info.getValue().id}`}>
        <span className={`customer-type customer-${info.getValue().type}`}>{info.getValue().type === 'user' ? 'user' : 'anon'}</span>
        <span className="truncate">{info.getValue().id}</span>
      </span>
    ),
    enableSorting: false,
  }),
  column.accessor('total', {
    header: 'Total',
    cell: (info) => {
      const row = info.row.original;
      return (
        <span className="amount">
          <span className="money">{money(row.total, row.currency)}</span>
          {row.refundedAmount > 0 ? <span className="refunded">−{money(row.refundedAmount, row.currency)} refunded</span> : null}
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
    cell: (info) => (info.getValue() ? <span className="truncate">{info.getValue()}</span> : <span className="muted">—</span>),
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
}

/**
 * The orders list: a TanStack Table whose rows are virtualised (only what is visible is in the DOM)
 * and which asks for the next keyset page as the end comes into view. Keyboard: ↑/↓ move,
 * PageUp/PageDown jump, Home/End, Enter opens.
 */
export function OrdersTable(props: OrdersTableProps) {
  const { rows, sort, onSortChange, onOpen, hasMore, loadingMore, onLoadMore, loading, error, onRetry, empty } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [activeId, setActiveId] = useState<string | null>(props.initialActiveId ?? null);
  const activeIndex = activeId ? rows.findIndex((row) => row.id === activeId) : -1;

  const sorting = useMemo<SortingState>(() => [{ id: SORT_COLUMN_IDS[sort.sort], desc: sort.direction === 'desc' }], [sort]);
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: (row) => row.id,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    enableSortingRemoval: false,
    state: { sorting },
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
      ArrowUp: () => moveTo(activeIndex <= 0 ? 0 : activeIndex - 1),
      PageDown: () => moveTo(activeIndex + page),
      PageUp: () => moveTo(activeIndex - page),
      Home: () => moveTo(0),
      End: () => moveTo(rows.length - 1),
      Enter: () => {
        if (activeIndex >= 0) onOpen(rows[activeIndex]!.id);
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
      <div className="grid-row grid-header" role="row">
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
              const style = { transform: `translateY(${item.start}px)`, height: ROW_HEIGHT };
              if (!row) {
                return (
                  <div key="loader" className="grid-row grid-loader" style={style} role="row">
                    <span className="spinner" aria-hidden="true" /> Loading more orders…
                  </div>
                );
              }
              const active = row.index === activeIndex;
              return (
                <div
                  key={row.id}
                  id={`order-row-${row.id}`}
                  role="row"
                  aria-rowindex={row.index + 1}
                  aria-selected={active}
                  data-order-id={row.id}
                  className={`grid-row${active ? ' active' : ''}`}
                  style={style}
                  onClick={() => {
                    setActiveId(row.id);
                    onOpen(row.id);
                  }}
                >
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
