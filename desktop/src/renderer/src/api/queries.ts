import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import type {
  BackofficeOrderRow,
  DashboardInput,
  DiscrepancyKind,
  OrderChangeEvent,
  OrderSearchResult,
  ReconciliationPage,
} from '@orders/shared';
import { useApi } from '../context';
import { toSearchFilter, type OrderFilters, type OrderSort } from '../filters';

/** One page of the virtualised table; the server caps it at 500. */
export const ORDER_PAGE_SIZE = 100;

export const queryKeys = {
  orders: ['orders'] as const,
  orderSearch: (filters: OrderFilters, sort: OrderSort) => ['orders', 'search', filters, sort] as const,
  orderDetail: (orderId: string) => ['orders', 'detail', orderId] as const,
  reconciliation: ['reconciliation'] as const,
  dashboard: ['dashboard'] as const,
  reconciliationSummary: ['reconciliation', 'summary'] as const,
  reconciliationList: (kind: DiscrepancyKind | undefined) => ['reconciliation', 'list', kind ?? 'all'] as const,
  staff: ['admin', 'staff'] as const,
  apiKeys: ['admin', 'api-keys'] as const,
};

export function useOrderSearch(filters: OrderFilters, sort: OrderSort) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.orderSearch(filters, sort),
    queryFn: ({ pageParam, signal }) =>
      api.backoffice.orders.search.query(
        { ...toSearchFilter(filters), sort: sort.sort, direction: sort.direction, limit: ORDER_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
        { signal },
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: OrderSearchResult) => last.nextCursor ?? undefined,
    // Changing a filter keeps the old rows on screen until the new ones arrive: no flash of empty.
    placeholderData: keepPreviousData,
  });
}

export function useOrderDetail(orderId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.orderDetail(orderId),
    queryFn: ({ signal }) => api.backoffice.orders.get.query({ orderId }, { signal }),
  });
}

export function useReconciliationSummary(enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.reconciliationSummary,
    queryFn: ({ signal }) => api.backoffice.reconciliation.summary.query(undefined, { signal }),
    enabled,
    refetchInterval: 60_000,
  });
}

export function useDiscrepancies(kind: DiscrepancyKind | undefined) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.reconciliationList(kind),
    queryFn: ({ pageParam, signal }) =>
      api.backoffice.reconciliation.list.query({ ...(kind ? { kind } : {}), limit: 100, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: ReconciliationPage) => last.nextCursor ?? undefined,
  });
}

/** How long the last dashboard took to answer: live.ts spaces the dashboard's live refetches by it. */
export const dashboardTiming = { lastAnswerMs: 0 };

/** The dashboard; refetched when the live feed reports order changes (throttled in live.ts) and every minute (backlog, lag). */
export function useDashboard(input: DashboardInput, enabled = true) {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKeys.dashboard, input] as const,
    queryFn: async ({ signal }) => {
      const started = performance.now();
      const dashboard = await api.backoffice.dashboard.query(input, { signal });
      dashboardTiming.lastAnswerMs = performance.now() - started;
      return dashboard;
    },
    enabled,
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
}

export function useStaffList() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.staff, queryFn: ({ signal }) => api.backoffice.staff.list.query(undefined, { signal }) });
}

export function useApiKeys() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.apiKeys, queryFn: ({ signal }) => api.backoffice.apiKeys.list.query(undefined, { signal }) });
}

/** After any staff action on orders: the lists, the detail and the queue may all have moved. */
export function refreshAfterOrderAction(queryClient: QueryClient): Promise<void> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: queryKeys.orders }),
    queryClient.invalidateQueries({ queryKey: queryKeys.reconciliation }),
  ]).then(() => undefined);
}

export function useOrderActions() {
  const api = useApi();
  const queryClient = useQueryClient();
  const onSuccess = () => refreshAfterOrderAction(queryClient);
  return {
    resync: useMutation({ mutationFn: (input: { attemptId: string; reason: string }) => api.backoffice.payments.resync.mutate(input), onSuccess }),
    cancel: useMutation({ mutationFn: (input: { orderId: string; reason: string }) => api.backoffice.orders.cancel.mutate(input), onSuccess }),
    refund: useMutation({
      mutationFn: (input: { orderId: string; reason: string; amount?: number }) => api.backoffice.payments.refund.mutate(input),
      onSuccess,
    }),
    refundDuplicate: useMutation({
      mutationFn: (input: { attemptId: string; reason: string }) => api.backoffice.payments.refundDuplicate.mutate(input),
      onSuccess,
    }),
    resolve: useMutation({
      mutationFn: (input: { discrepancyId: string; reason: string }) => api.backoffice.orders.resolve.mutate(input),
      onSuccess,
    }),
  };
}

type SearchPages = InfiniteData<OrderSearchResult, string | undefined>;

/** Puts a live status change into every cached search page that holds the order. */
export function patchOrderInSearches(queryClient: QueryClient, event: OrderChangeEvent): boolean {
  let found = false;
  queryClient.setQueriesData<SearchPages>({ queryKey: ['orders', 'search'] }, (data) => {
    if (!data) return data;
    let changed = false;
    const pages = data.pages.map((page) => {
      if (!page.items.some((row) => row.id === event.orderId)) return page;
      changed = true;
      return {
        ...page,
        items: page.items.map((row): BackofficeOrderRow => (row.id === event.orderId ? { ...row, status: event.status, updatedAt: event.at } : row)),
      };
    });
    if (!changed) return data;
    found = true;
    return { ...data, pages };
  });
  return found;
}
