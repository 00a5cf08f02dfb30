import { useCallback, useEffect, useMemo, useState } from 'react';
import { useApi, useServices } from '../../context';
import { describeError } from '../../api/errors';
import { useOrderSearch } from '../../api/queries';
import { EmptyState } from '../../components/States';
import { useToast } from '../../components/Toasts';
import { hasFilters, orderQueryString, parseOrderQuery, toSearchFilter, type OrderFilters, type OrderSort } from '../../filters';
import { navigate, useSearch } from '../../router';
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

export function exportFileName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `orders-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}.csv`;
}

/** Streams `backoffice.orders.exportCsv` for the current filter and sort into a file. */
export function useCsvExport(filters: OrderFilters, sort: OrderSort) {
  const api = useApi();
  const { platform } = useServices();
  const toast = useToast();
  const [exporting, setExporting] = useState(false);
  const start = useCallback(async () => {
    if (exporting) return;
    setExporting(true);
    try {
      const chunks = await api.backoffice.orders.exportCsv.query({ ...toSearchFilter(filters), sort: sort.sort, direction: sort.direction });
      const outcome = await platform.saveCsv(exportFileName(), chunks);
      if (outcome.saved) toast.show('success', `Exported ${(outcome.bytes / 1024).toFixed(outcome.bytes < 10_240 ? 1 : 0)} KB to ${outcome.location}`);
    } catch (error) {
      toast.show('error', `Export failed: ${describeError(error)}`);
    } finally {
      setExporting(false);
    }
  }, [api, exporting, filters, platform, sort, toast]);
  return { exporting, start };
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
  const csv = useCsvExport(filters, sort);
  const rows = useMemo(() => search.data?.pages.flatMap((page) => page.items) ?? [], [search.data]);
  const total = search.data?.pages[0]?.total;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = search;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const openOrder = useCallback((orderId: string) => {
    lastOpenedOrderId = orderId;
    navigate({ name: 'order', orderId });
  }, []);
  const startExport = csv.start;
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
          <button type="button" className="button" onClick={() => void csv.start()} disabled={csv.exporting} title="Export every order matching the current filter as CSV">
            {csv.exporting ? 'Exporting…' : 'Export CSV'}
          </button>
        </div>
      </header>
      <FilterBar filters={filters} onChange={setFilters} />
      <OrdersTable
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
