import { describe, expect, it, vi } from 'vitest';
import { QueryClient, type InfiniteData } from '@tanstack/react-query';
import type { OrderSearchResult } from '@orders/shared';
import { applyOrderChange, dashboardRefreshMs, trailingThrottle } from './live';
import { queryKeys } from './queries';
import { orderRow } from '../test/fixtures';

describe('live order changes', () => {
  it('patches the status of a cached row in every search at once, and asks for the lists to refetch', () => {
    const queryClient = new QueryClient();
    const rows = [orderRow({ status: 'pending' }), orderRow({ status: 'pending' })];
    const page = (items = rows): OrderSearchResult => ({ items, nextCursor: null, total: { value: items.length, exact: true } });
    const keyA = queryKeys.orderSearch({ status: [] }, { sort: 'created', direction: 'desc' });
    const keyB = queryKeys.orderSearch({ status: ['pending'] }, { sort: 'total', direction: 'asc' });
    queryClient.setQueryData<InfiniteData<OrderSearchResult, string | undefined>>(keyA, { pages: [page()], pageParams: [undefined] });
    queryClient.setQueryData<InfiniteData<OrderSearchResult, string | undefined>>(keyB, { pages: [page([rows[1]!])], pageParams: [undefined] });
    const refetchLists = vi.fn();

    applyOrderChange(queryClient, { orderId: rows[1]!.id, status: 'paid', kind: 'updated', at: '2026-11-23T10:00:00.000Z' }, refetchLists);

    const a = queryClient.getQueryData<InfiniteData<OrderSearchResult>>(keyA)!.pages[0]!.items;
    const b = queryClient.getQueryData<InfiniteData<OrderSearchResult>>(keyB)!.pages[0]!.items;
    expect(a.map((row) => row.status)).toEqual(['pending', 'paid']);
    expect(a[0]).toBe(rows[0]);
    expect(b[0]).toMatchObject({ status: 'paid', updatedAt: '2026-11-23T10:00:00.000Z' });
    expect(refetchLists).toHaveBeenCalledOnce();
  });

  it("spaces the dashboard's live refetches by its cost: every 3 s, or ten times its last answer when that is longer", () => {
    expect(dashboardRefreshMs(0)).toBe(3000);
    expect(dashboardRefreshMs(265)).toBe(3000);
    expect(dashboardRefreshMs(1064)).toBe(10_640);
    vi.useFakeTimers();
    try {
      let cost = 0;
      const run = vi.fn();
      const throttle = trailingThrottle(run, () => dashboardRefreshMs(cost));
      throttle.request();
      throttle.request();
      vi.advanceTimersByTime(3000);
      expect(run).toHaveBeenCalledTimes(1);
      // The last answer took a second: the next refetch waits ten.
      cost = 1000;
      throttle.request();
      vi.advanceTimersByTime(9_999);
      expect(run).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(run).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
