import { TRPCClientError } from '@trpc/client';
import type { MenuCommand, OrdersBridge } from '../../shared/bridge';
import { normalizeServerUrl } from '../../shared/server-url';
import type { StaffIdentity } from './session';

export interface CsvSaveOutcome {
  /** False when the user cancelled the save dialog. */
  saved: boolean;
  bytes: number;
  /** Where it went: a file path in the app, the file name in a browser. */
  location?: string;
}

/**
 * The browser build's session: an httpOnly cookie set by the server (`/backoffice/api/session`), so
 * every tab shares it and no page script ever holds the token. Electron has none: its token lives in
 * the main process (token-store) and goes out as a bearer header.
 */
export interface CookieSession {
  login(email: string, password: string): Promise<StaffIdentity>;
  logout(): Promise<void>;
  /** Who the cookie logs in, null when nobody: asked at start-up, as another tab may have logged in. */
  current(): Promise<StaffIdentity | null>;
}

/**
 * What the screens need from their surroundings. In Electron it is the preload bridge; in a plain
 * browser, Web Storage (the server address only), the session cookie and a Blob download.
 */
export interface Platform {
  readonly kind: 'electron' | 'browser';
  /** Base URL the renderer sends `/trpc` requests to. */
  apiBaseUrl(): Promise<string>;
  getServerUrl(): Promise<string>;
  setServerUrl(url: string): Promise<string>;
  getToken(): Promise<string | null>;
  setToken(token: string): Promise<void>;
  clearToken(): Promise<void>;
  /** Browser only: log in and out through the cookie session instead of a token. */
  readonly cookieSession?: CookieSession;
  /** Streams `chunks` into a file of the user's choosing (app) or a download (browser). */
  saveCsv(suggestedName: string, chunks: AsyncIterable<string>): Promise<CsvSaveOutcome>;
  /**
   * Browser only: a filter's CSV as a plain download of `GET /backoffice/api/orders.csv` (the session
   * cookie authenticates it), which the browser writes to disk as it arrives, with its own progress.
   * Through saveCsv the page held the whole file first: 1,000,000 orders, 267 MB, 30 s before the
   * download began.
   */
  downloadCsv?(query: Readonly<Record<string, unknown>>): void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

export function electronPlatform(bridge: OrdersBridge, location: Pick<Location, 'origin'>): Platform {
  return {
    kind: 'electron',
    // The main process serves the app and forwards /trpc to the configured server: same origin.
    apiBaseUrl: async () => location.origin,
    getServerUrl: () => bridge.getServerUrl(),
    setServerUrl: (url) => bridge.setServerUrl(url),
    getToken: () => bridge.getToken(),
    setToken: (token) => bridge.setToken(token),
    clearToken: () => bridge.clearToken(),
    async saveCsv(suggestedName, chunks) {
      const streamId = await bridge.saveCsv.begin(suggestedName);
      if (!streamId) return { saved: false, bytes: 0 };
      try {
        for await (const chunk of chunks) await bridge.saveCsv.write(streamId, chunk);
      } catch (error) {
        await bridge.saveCsv.abort(streamId).catch(() => undefined);
        throw error;
      }
      const result = await bridge.saveCsv.finish(streamId);
      return { saved: true, bytes: result.bytes, location: result.filePath };
    },
    onMenuCommand: (listener) => bridge.onMenuCommand(listener),
  };
}

const SERVER_URL_KEY = 'orders.serverUrl';
/** Where earlier builds kept the token: removed on sight, the cookie replaced it. */
const LEGACY_TOKEN_KEY = 'orders.sessionToken';
/** Sent with every call: the server refuses cookie-authenticated writes without it (CSRF). */
export const CSRF_HEADERS = { 'x-orders-csrf': '1' } as const;

export interface BrowserPlatformDeps {
  location: Pick<Location, 'origin'>;
  /** The server URL outlives the tab. */
  localStorage: Storage;
  /** Only to forget a token an earlier build stored there. */
  sessionStorage: Storage;
  download(blob: Blob, fileName: string): void;
  /** Downloads what `url` answers (a link with `download`: a refusal fails the download, the page stays). */
  downloadUrl(url: string): void;
  fetch?: typeof globalThis.fetch;
}

/** An export's filter as `GET /backoffice/api/orders.csv` reads it: lists comma-separated, empty values left out. */
export function csvQueryString(query: Readonly<Record<string, unknown>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return params.toString();
}

/** A refusal of the session routes, in the shape the screens already read (errorCode, describeError). */
async function sessionRefusal(response: Response): Promise<TRPCClientError<never>> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const code = body?.error?.code ?? (response.status === 401 ? 'UNAUTHORIZED' : response.status === 429 ? 'TOO_MANY_REQUESTS' : 'INTERNAL_SERVER_ERROR');
  return TRPCClientError.from({ error: { code: -32000, message: body?.error?.message ?? response.statusText, data: { code, httpStatus: response.status } } });
}

/** The three fields the screens use, whatever else the server sends. */
const identity = ({ id, email, role }: StaffIdentity): StaffIdentity => ({ id, email, role });

function clickDownloadLink(href: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

export function browserDownload(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  clickDownloadLink(url, fileName);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The server names the file (Content-Disposition). */
export function browserDownloadUrl(url: string): void {
  clickDownloadLink(url, '');
}

export function browserPlatform(deps: BrowserPlatformDeps): Platform {
  const serverUrl = () => {
    const stored = deps.localStorage.getItem(SERVER_URL_KEY);
    if (stored) {
      try {
        return normalizeServerUrl(stored);
      } catch {
        deps.localStorage.removeItem(SERVER_URL_KEY);
      }
    }
    return deps.location.origin;
  };
  return {
    kind: 'browser',
    apiBaseUrl: async () => serverUrl(),
    getServerUrl: async () => serverUrl(),
    async setServerUrl(url) {
      const normalized = normalizeServerUrl(url);
      if (normalized === deps.location.origin) deps.localStorage.removeItem(SERVER_URL_KEY);
      else deps.localStorage.setItem(SERVER_URL_KEY, normalized);
      return normalized;
    },
    // The page never holds a token: the cookie is httpOnly and the browser sends it itself.
    async getToken() {
      deps.sessionStorage.removeItem(LEGACY_TOKEN_KEY);
      return null;
    },
    setToken: async () => undefined,
    clearToken: async () => deps.sessionStorage.removeItem(LEGACY_TOKEN_KEY),
    cookieSession: {
      async login(email, password) {
        const response = await (deps.fetch ?? fetch)(`${serverUrl()}/backoffice/api/session`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json', ...CSRF_HEADERS },
          body: JSON.stringify({ email, password }),
        });
        if (!response.ok) throw await sessionRefusal(response);
        const { staff } = (await response.json()) as { staff: StaffIdentity };
        return identity(staff);
      },
      async logout() {
        const response = await (deps.fetch ?? fetch)(`${serverUrl()}/backoffice/api/session`, { method: 'DELETE', credentials: 'include', headers: { ...CSRF_HEADERS } });
        if (!response.ok) throw await sessionRefusal(response);
      },
      async current() {
        const response = await (deps.fetch ?? fetch)(`${serverUrl()}/backoffice/api/session`, { credentials: 'include' });
        if (!response.ok) throw await sessionRefusal(response);
        const { staff } = (await response.json()) as { staff: StaffIdentity | null };
        return staff ? identity(staff) : null;
      },
    },
    async saveCsv(suggestedName, chunks) {
      const parts: string[] = [];
      let bytes = 0;
      const encoder = new TextEncoder();
      for await (const chunk of chunks) {
        parts.push(chunk);
        bytes += encoder.encode(chunk).length;
      }
      deps.download(new Blob(parts, { type: 'text/csv;charset=utf-8' }), suggestedName);
      return { saved: true, bytes, location: suggestedName };
    },
    downloadCsv(query) {
      deps.downloadUrl(`${serverUrl()}/backoffice/api/orders.csv?${csvQueryString(query)}`);
    },
    onMenuCommand: () => () => undefined,
  };
}

export function detectPlatform(win: Window = window): Platform {
  if (win.orders?.kind === 'electron') return electronPlatform(win.orders, win.location);
  return browserPlatform({ location: win.location, localStorage: win.localStorage, sessionStorage: win.sessionStorage, download: browserDownload, downloadUrl: browserDownloadUrl });
}
