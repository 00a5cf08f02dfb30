import { useEffect, useState } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { OrderChangeEvent } from '@orders/shared';
import { useApi } from '../context';
import { errorCode } from './errors';
import { dashboardTiming, patchOrderInSearches, queryKeys } from './queries';

export type LiveState = 'connecting' | 'live' | 'offline';

/** Calls `run` at most once per `ms` (read at each request), always once more after the last request. */
export function trailingThrottle(run: () => void, ms: number | (() => number)) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    request() {
      timer ??= setTimeout(
        () => {
          timer = undefined;
          run();
        },
        typeof ms === 'function' ? ms() : ms,
      );
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** What to do with one change: patch what is on screen now, refetch what may have moved. */
export function applyOrderChange(queryClient: QueryClient, event: OrderChangeEvent, refetchLists: () => void): void {
  patchOrderInSearches(queryClient, event);
  void queryClient.invalidateQueries({ queryKey: queryKeys.orderDetail(event.orderId) });
  // A new order, or one that changed status, may enter or leave a filtered list: refetch (throttled).
  refetchLists();
}

const RETRY_MS = 5000;
/** The shortest wait between two refetches of the dashboard that order changes cause. */
export const DASHBOARD_REFRESH_MS = 3000;
/** How many times its last answer took the dashboard waits at least between two such refetches. */
export const DASHBOARD_COST_FACTOR = 10;

/**
 * Order changes refetch the dashboard at most every DASHBOARD_REFRESH_MS, and at most once per
 * DASHBOARD_COST_FACTOR times its last answer took: a year's range at 1,000,000 orders takes ~1 s,
 * and refetched every 3 s while orders keep changing it would keep a third of the server's time busy
 * for one open screen; every 10 s it keeps a tenth.
 */
export function dashboardRefreshMs(lastAnswerMs: number): number {
  return Math.max(DASHBOARD_REFRESH_MS, Math.round(DASHBOARD_COST_FACTOR * lastAnswerMs));
}

/**
 * `backoffice.events.onChange` over SSE for as long as the shell is mounted. The status feeds the
 * "Live" indicator; after a reconnect everything is refetched, since events may have been missed.
 * The server ends a session's stream when the session ends (logout, revoked, staff disabled): each
 * end of the stream asks `onEnded` to check the session, so the screen does not sit on "Offline".
 */
export function useLiveUpdates(enabled: boolean, onEnded: () => void = () => undefined): LiveState {
  const api = useApi();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');

  useEffect(() => {
    if (!enabled) return;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let subscription: { unsubscribe(): void } | undefined;
    let startedBefore = false;
    const lists = trailingThrottle(() => {
      void queryClient.invalidateQueries({ queryKey: ['orders', 'search'] });
      void queryClient.invalidateQueries({ queryKey: queryKeys.reconciliation });
    }, 1000);
    // The dashboard aggregates a whole range: a burst of changes refetches it once, not per order.
    const dashboard = trailingThrottle(
      () => void queryClient.invalidateQueries({ queryKey: queryKeys.dashboard }),
      () => dashboardRefreshMs(dashboardTiming.lastAnswerMs),
    );

    const start = () => {
      setState('connecting');
      subscription = api.backoffice.events.onChange.subscribe(undefined, {
        onStarted() {
          setState('live');
          if (startedBefore) void queryClient.invalidateQueries();
          startedBefore = true;
        },
        onConnectionStateChange(connection) {
          if (connection.state === 'connecting') setState('connecting');
          else if (connection.state === 'pending') setState('live');
        },
        onData(data) {
          const event = ('data' in data && 'id' in data ? data.data : data) as OrderChangeEvent;
          applyOrderChange(queryClient, event, () => {
            lists.request();
            dashboard.request();
          });
        },
        onError(error) {
          setState('offline');
          subscription?.unsubscribe();
          onEnded();
          // An ended session is handled by the session; anything else: try again shortly.
          if (errorCode(error) !== 'UNAUTHORIZED') retryTimer = setTimeout(start, RETRY_MS);
        },
        onComplete() {
          setState('offline');
          onEnded();
          retryTimer = setTimeout(start, RETRY_MS);
        },
      });
    };
    start();
    return () => {
      clearTimeout(retryTimer);
      lists.cancel();
      dashboard.cancel();
      subscription?.unsubscribe();
    };
  }, [api, enabled, onEnded, queryClient]);

  return state;
}
