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
  /** Asks the server whether this session still holds; signs out here when it does not. */
  verify(): Promise<void>;
}

/** What a tab that ended the session tells the others of the same browser (they share its cookie). */
const SESSION_CHANNEL = 'orders-backoffice-session';
export const SESSION_ENDED_NOTICE = 'You were logged out: in another tab, or your session was ended. Log in again.';

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

  // Who the session is: the browser asks the session route, which answers "nobody" without a 401 (a
  // console error per load); Electron asks auth.me with its stored token.
  const whoAmI = useCallback(
    (): Promise<StaffIdentity | null> =>
      platform.cookieSession
        ? platform.cookieSession.current()
        : client.auth.me.query().then((staff): StaffIdentity => ({ id: staff.id, email: staff.email, role: staff.role })),
    [client, platform],
  );

  // A stored token from an earlier run (Electron), or the shared cookie (browser): who is it?
  useEffect(() => {
    if (state.status !== 'starting') return;
    let cancelled = false;
    whoAmI()
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
  }, [forget, state.status, token, whoAmI]);

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

  // Other tabs of this browser hear of a logout at once: their screens held orders, payers and
  // amounts, marked only "Offline", until someone clicked (found from outside).
  const channel = useMemo(() => (typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(SESSION_CHANNEL)), []);
  useEffect(() => () => channel?.close(), [channel]);

  const logout = useCallback(
    async (notice?: string) => {
      if (platform.cookieSession) await platform.cookieSession.logout().catch(() => undefined);
      else if (token.current) await client.auth.logout.mutate().catch(() => undefined);
      channel?.postMessage('logged-out');
      await forget(notice);
    },
    [channel, client, forget, platform, token],
  );

  const signedIn = state.status === 'signed-in';
  const verify = useCallback(async () => {
    if (!signedIn) return;
    try {
      if (!(await whoAmI())) await forget(SESSION_ENDED_NOTICE);
    } catch (error) {
      // Unreachable is not signed out: the live feed retries, and the next call tells.
      if (errorCode(error) === 'UNAUTHORIZED') await forget(SESSION_ENDED_NOTICE);
    }
  }, [forget, signedIn, whoAmI]);

  useEffect(() => {
    if (!channel) return;
    const heard = () => void verify();
    channel.addEventListener('message', heard);
    return () => channel.removeEventListener('message', heard);
  }, [channel, verify]);

  const value = useMemo(() => ({ state, login, logout, verify }), [state, login, logout, verify]);
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
