import { useCallback, useSyncExternalStore } from 'react';
import { backoffice, type DiscrepancyKind } from '@orders/shared';

/**
 * Screens live in the URL fragment (`#/orders/<id>`), filters in the query string. Fragments work
 * the same under file-less custom schemes, at /backoffice/ and in the dev server, and never reach
 * the server; the query string keeps a filtered list shareable and survives opening an order.
 */
export type Route =
  | { name: 'dashboard' }
  | { name: 'orders' }
  | { name: 'order'; orderId: string }
  | { name: 'reconciliation'; kind?: DiscrepancyKind }
  | { name: 'admin' }
  | { name: 'settings' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (first === 'orders' && second) return { name: 'order', orderId: second };
  if (first === 'reconciliation') {
    const kind = (backoffice.DISCREPANCY_KINDS as readonly string[]).includes(second ?? '') ? (second as DiscrepancyKind) : undefined;
    return kind ? { name: 'reconciliation', kind } : { name: 'reconciliation' };
  }
  if (first === 'admin') return { name: 'admin' };
  if (first === 'settings') return { name: 'settings' };
  if (first === 'orders') return { name: 'orders' };
  // The first screen after login (and for any unknown address) is the dashboard.
  return { name: 'dashboard' };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case 'dashboard':
      return '#/dashboard';
    case 'orders':
      return '#/orders';
    case 'order':
      return `#/orders/${encodeURIComponent(route.orderId)}`;
    case 'reconciliation':
      return route.kind ? `#/reconciliation/${route.kind}` : '#/reconciliation';
    case 'admin':
      return '#/admin';
    case 'settings':
      return '#/settings';
  }
}

const URL_CHANGE = 'orders:urlchange';

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange);
  window.addEventListener('hashchange', onChange);
  window.addEventListener(URL_CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener('hashchange', onChange);
    window.removeEventListener(URL_CHANGE, onChange);
  };
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}

/** Opens a screen (a history entry, so Back returns); `search` replaces the query string when given. */
export function navigate(route: Route, search?: string): void {
  const query = search === undefined ? window.location.search : search ? `?${search}` : '';
  const next = `${window.location.pathname}${query}${routeHref(route)}`;
  if (next === `${window.location.pathname}${window.location.search}${window.location.hash}`) return;
  window.history.pushState(null, '', next);
  window.dispatchEvent(new Event(URL_CHANGE));
}

/** The query string, live. */
export function useSearch(): [string, (search: string) => void] {
  const search = useSyncExternalStore(subscribe, () => window.location.search);
  const setSearch = useCallback((next: string) => {
    const query = next ? `?${next}` : '';
    if (query === window.location.search) return;
    // Replace, not push: typing in a filter should not fill the Back button with keystrokes.
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${query}${window.location.hash}`);
    window.dispatchEvent(new Event(URL_CHANGE));
  }, []);
  return [search, setSearch];
}
