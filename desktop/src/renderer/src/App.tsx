import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useLiveUpdates, type LiveState } from './api/live';
import { useReconciliationSummary } from './api/queries';
import { Brand } from './components/Brand';
import { useScreenScroll } from './components/screen-scroll';
import { Spinner } from './components/States';
import { useServices } from './context';
import { navigate, routeHref, useRoute, type Route } from './router';
import { AdminScreen } from './screens/AdminScreen';
import { DashboardScreen } from './screens/dashboard/DashboardScreen';
import { LoginScreen } from './screens/LoginScreen';
import { OrderDetailScreen } from './screens/order-detail/OrderDetailScreen';
import { focusOrderSearch, isSearchShortcut } from './screens/orders/FilterBar';
import { EXPORT_CSV_EVENT, OrdersScreen } from './screens/orders/OrdersScreen';
import { ReconciliationScreen } from './screens/ReconciliationScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { hasRole, useSession, useStaff } from './session';

export function App() {
  const { state } = useSession();
  const route = useRoute();
  if (state.status === 'starting') return <Spinner label="Connecting…" />;
  if (state.status === 'signed-out') {
    return route.name === 'settings' ? <SettingsScreen signedIn={false} /> : <LoginScreen notice={state.notice} />;
  }
  return <Shell route={route} />;
}

const LIVE_LABELS: Record<LiveState, string> = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' };

function Shell({ route }: { route: Route }) {
  const staff = useStaff();
  const { logout, verify } = useSession();
  const { platform } = useServices();
  const queryClient = useQueryClient();
  const live = useLiveUpdates(true, verify);
  const summary = useReconciliationSummary();
  const admin = hasRole(staff, 'admin');
  const content = useRef<HTMLElement>(null);
  useScreenScroll(content, `${routeHref(route)}${window.location.search}`);

  useEffect(
    () =>
      platform.onMenuCommand((command) => {
        if (command === 'go-dashboard') navigate({ name: 'dashboard' });
        else if (command === 'go-orders') navigate({ name: 'orders' });
        else if (command === 'go-reconciliation') navigate({ name: 'reconciliation' });
        else if (command === 'go-admin' && admin) navigate({ name: 'admin' });
        else if (command === 'go-settings') navigate({ name: 'settings' });
        else if (command === 'reload-data') void queryClient.invalidateQueries();
        else if (command === 'log-out') void logout();
        else if (command === 'export-csv') {
          if (route.name === 'orders') window.dispatchEvent(new Event(EXPORT_CSV_EVENT));
          else navigate({ name: 'orders' });
        }
      }),
    [admin, logout, platform, queryClient, route.name],
  );

  // `/` searches from every screen: elsewhere than the orders list (whose search bar answers it
  // itself), it opens the list, with the filters it had, and its search takes the focus.
  useEffect(() => {
    if (route.name === 'orders') return;
    const onKey = (event: KeyboardEvent) => {
      if (!isSearchShortcut(event)) return;
      event.preventDefault();
      navigate({ name: 'orders' });
      focusOrderSearch();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [route.name]);

  const nav: { route: Route; label: string; active: boolean; badge?: number | undefined }[] = [
    { route: { name: 'dashboard' }, label: 'Dashboard', active: route.name === 'dashboard' },
    { route: { name: 'orders' }, label: 'Orders', active: route.name === 'orders' || route.name === 'order' },
    { route: { name: 'reconciliation' }, label: 'Reconciliation', active: route.name === 'reconciliation', badge: summary.data?.total },
  ];
  if (admin) nav.push({ route: { name: 'admin' }, label: 'Staff & keys', active: route.name === 'admin' });

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href={routeHref({ name: 'dashboard' })}>
          <Brand />
        </a>
        <nav className="nav" aria-label="Main">
          {nav.map((item) => (
            <a key={item.label} href={routeHref(item.route)} className={`nav-link${item.active ? ' active' : ''}`} aria-current={item.active ? 'page' : undefined}>
              {item.label}
              {item.badge ? <span className="nav-badge" aria-label={`${item.badge} open`}>{item.badge}</span> : null}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <span className={`live live-${live}`} role="status" title="Live updates from the server">
            <span className="live-dot" aria-hidden="true" />
            {LIVE_LABELS[live]}
          </span>
          <span className="whoami">
            <span className="truncate">{staff.email}</span>
            <span className={`role role-${staff.role}`}>{staff.role}</span>
          </span>
          <a className="icon-button" href={routeHref({ name: 'settings' })} title="Server settings" aria-label="Server settings">
            ⚙
          </a>
          <button type="button" className="button small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main className="content" ref={content}>
        <Screen route={route} admin={admin} />
      </main>
    </div>
  );
}

function Screen({ route, admin }: { route: Route; admin: boolean }) {
  switch (route.name) {
    case 'dashboard':
      return <DashboardScreen />;
    case 'orders':
      return <OrdersScreen />;
    case 'order':
      return <OrderDetailScreen key={route.orderId} orderId={route.orderId} />;
    case 'reconciliation':
      return <ReconciliationScreen {...(route.kind ? { kind: route.kind } : {})} />;
    case 'admin':
      return admin ? <AdminScreen /> : <p className="state">Staff and API keys are managed by admins.</p>;
    case 'settings':
      return <SettingsScreen signedIn />;
  }
}
