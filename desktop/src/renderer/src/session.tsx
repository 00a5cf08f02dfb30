import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { STAFF_ROLES, type StaffRole } from '@orders/shared';
import { describeError, errorCode } from './api/errors';
import { useServices } from './context';

export interface StaffIdentity {
  id: string;
  email: string;
  role: StaffRole;
}

export type SessionState =
  | { status: 'starting' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'signed-in'; staff: StaffIdentity };

interface SessionApi {
  state: SessionState;
  login(email: string, password: string): Promise<void>;
  logout(notice?: string): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const { client, platform, token } = useServices();
  const queryClient = useQueryClient();
  // The browser build always asks "who am I": another tab may have logged in (the cookie is shared).
  const [state, setState] = useState<SessionState>(() => (token.current || platform.cookieSession ? { status: 'starting' } : { status: 'signed-out' }));

  const forget = useCallback(
    async (notice?: string) => {
      token.current = null;
      await platform.clearToken().catch(() => undefined);
      queryClient.clear();
      setState(notice ? { status: 'signed-out', notice } : { status: 'signed-out' });
    },
    [platform, queryClient, token],
  );

  // A stored token from an earlier run (Electron), or the shared cookie (browser): who is it? The
  // browser asks the session route, which answers "nobody" without a 401 (a console error per load).
  useEffect(() => {
    if (state.status !== 'starting') return;
    let cancelled = false;
    const whoAmI = platform.cookieSession
      ? platform.cookieSession.current()
      : client.auth.me.query().then((staff): StaffIdentity => ({ id: staff.id, email: staff.email, role: staff.role }));
    whoAmI
      .then((staff) => {
        if (cancelled) return;
        if (staff) setState({ status: 'signed-in', staff });
        else void forget();
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        // A new tab with no session is simply signed out; a stored token that stopped working has expired.
        if (errorCode(error) === 'UNAUTHORIZED') void forget(token.current ? 'Your session has expired. Log in again.' : undefined);
        else setState({ status: 'signed-out', notice: describeError(error, 'load') });
      });
    return () => {
      cancelled = true;
    };
  }, [client, forget, platform, state.status, token]);

  // Any call answered UNAUTHORIZED means the session ended (expired, revoked, user disabled).
  useEffect(
    () =>
      queryClient.getQueryCache().subscribe((event) => {
        if (event.type === 'updated' && event.action.type === 'error' && errorCode(event.action.error) === 'UNAUTHORIZED') {
          void forget('Your session has expired. Log in again.');
        }
      }),
    [forget, queryClient],
  );

  const login = useCallback(
    async (email: string, password: string) => {
      if (platform.cookieSession) {
        setState({ status: 'signed-in', staff: await platform.cookieSession.login(email, password) });
        return;
      }
      const result = await client.auth.login.mutate({ email, password });
      token.current = result.token;
      await platform.setToken(result.token);
      setState({ status: 'signed-in', staff: { id: result.staff.id, email: result.staff.email, role: result.staff.role } });
    },
    [client, platform, token],
  );

  const logout = useCallback(
    async (notice?: string) => {
      if (platform.cookieSession) await platform.cookieSession.logout().catch(() => undefined);
      else if (token.current) await client.auth.logout.mutate().catch(() => undefined);
      await forget(notice);
    },
    [client, forget, platform, token],
  );

  const value = useMemo(() => ({ state, login, logout }), [state, login, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in staff member; only used below the signed-in shell. */
export function useStaff(): StaffIdentity {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useStaff while signed out');
  return state.staff;
}

export function hasRole(staff: Pick<StaffIdentity, 'role'>, role: StaffRole): boolean {
  return STAFF_ROLES.indexOf(staff.role) >= STAFF_ROLES.indexOf(role);
}
