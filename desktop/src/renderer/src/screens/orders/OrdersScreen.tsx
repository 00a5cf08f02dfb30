import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../../api/errors';
import { useOrderSearch } from '../../api/queries';
import { EmptyState } from '../../components/States';
import { hasFilters, orderQueryString, parseOrderQuery, toSearchFilter, type OrderFilters, type OrderSort } from '../../filters';
import { navigate, useSearch } from '../../router';
import { BulkBar } from './BulkBar';
import { ColumnChooser } from './ColumnChooser';
import { ORDER_COLUMNS, useHiddenColumns, type OrderColumnId } from './columns';
import { useCsvExport } from './csv-export';
import { FilterBar } from './FilterBar';
import { OrdersTable } from './OrdersTable';

/** The order opened last, selected again when the list comes back. */
let lastOpenedOrderId: string | null = null;

/** Fired by the app menu's "Export CSV…". */
export const EXPORT_CSV_EVENT = 'orders:export-csv';

/** Filters and sort, read from and written to the query string. */
export function useUrlOrderQuery() {
  const [search, setSearch] = useSearch();
  const { filters, sort } = useMemo(() => parseOrderQuery(search), [search]);
  const setFilters = useCallback((next: OrderFilters) => setSearch(orderQueryString(next, sort)), [setSearch, sort]);
  const setSort = useCallback((next: OrderSort) => setSearch(orderQueryString(filters, next)), [setSearch, filters]);
  return { filters, sort, setFilters, setSort };
}

function countLabel(total: { value: number; exact: boolean } | undefined): string {
  if (!total) return '';
  const n = total.value.toLocaleString('en-US');
  if (!total.exact) return `about ${n} orders`;
  return `${n} ${total.value === 1 ? 'order' : 'orders'}`;
}

export function OrdersScreen() {
  const { filters, sort, setFilters, setSort } = useUrlOrderQuery();
  const search = useOrderSearch(filters, sort);
  const csv = useCsvExport();
  const rows = useMemo(() => search.data?.pages.flatMap((page) => page.items) ?? [], [search.data]);
  // One keyboard flow: `/`, type, ↓ into the results, ↑/↓ to choose, Enter opens (↑ on the first row goes back).
  const searchRef = useRef<HTMLInputElement>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const [hiddenColumns, toggleColumn, resetColumns] = useHiddenColumns();
  const chosenColumns = useMemo(() => ORDER_COLUMNS.map((c) => c.id).filter((id) => !hiddenColumns.includes(id)), [hiddenColumns]);
  const [shownColumns, setShownColumns] = useState<OrderColumnId[]>(chosenColumns);
  const squeezed = chosenColumns.filter((id) => !shownColumns.includes(id));

  // Checked rows, for bulk actions. A new filter is a new list: what was checked is no longer in view.
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const filterKey = orderQueryString(filters);
  useEffect(() => setSelected(new Set()), [filterKey]);
  const selectedRows = useMemo(() => rows.filter((row) => selected.has(row.id)), [rows, selected]);
  const clearSelection = useCallback(() => setSelected(new Set()), []);
  const total = search.data?.pages[0]?.total;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = search;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const openOrder = useCallback((orderId: string) => {
    lastOpenedOrderId = orderId;
    navigate({ name: 'order', orderId });
  }, []);
  const startExport = useCallback(() => csv.start({ ...toSearchFilter(filters), sort: sort.sort, direction: sort.direction }), [csv, filters, sort]);
  useEffect(() => {
    const onMenuExport = () => void startExport();
    window.addEventListener(EXPORT_CSV_EVENT, onMenuExport);
    return () => window.removeEventListener(EXPORT_CSV_EVENT, onMenuExport);
  }, [startExport]);

  return (
    <div className="screen screen-orders">
      <header className="screen-header">
        <div>
          <h1>Orders</h1>
          <p className="subtle" aria-live="polite">
            {search.isPending ? 'Loading…' : countLabel(total)}
            {search.isFetching && !search.isPending ? <span className="spinner small" aria-label="Refreshing" /> : null}
          </p>
        </div>
        <div className="header-actions">
          <ColumnChooser hidden={hiddenColumns} squeezed={squeezed} onToggle={toggleColumn} onReset={resetColumns} />
          <button type="button" className="button" onClick={() => void startExport()} disabled={csv.exporting} title="Export every order matching the current filter as CSV">
            {csv.exporting ? 'Exporting…' : 'Export CSV'}
          </button>
        </div>
      </header>
      <FilterBar filters={filters} onChange={setFilters} searchRef={searchRef} onToResults={() => gridRef.current?.focus()} />
      <BulkBar selected={selectedRows} onClear={clearSelection} />
      <OrdersTable
        gridRef={gridRef}
        onLeaveTop={() => searchRef.current?.focus()}
        columns={chosenColumns}
        onColumnsFit={setShownColumns}
        selected={selected}
        onSelectedChange={setSelected}
        rows={rows}
        sort={sort}
        onSortChange={setSort}
        onOpen={openOrder}
        hasMore={Boolean(hasNextPage)}
        loadingMore={isFetchingNextPage}
        onLoadMore={loadMore}
        initialActiveId={lastOpenedOrderId}
        loading={search.isPending}
        error={search.isError ? describeError(search.error, 'load') : null}
        onRetry={() => void search.refetch()}
        empty={
          hasFilters(filters) ? (
            <EmptyState title="No orders match these filters">
              <button type="button" className="button" onClick={() => setFilters({ status: [] })}>
                Clear filters
              </button>
            </EmptyState>
          ) : (
            <EmptyState title="No orders yet">
              <span>New orders appear here as they are placed.</span>
            </EmptyState>
          )
        }
      />
    </div>
  );
}
