import type { MenuCommand, OrdersBridge } from '../../shared/bridge';
import { normalizeServerUrl } from '../../shared/server-url';

export interface CsvSaveOutcome {
  /** False when the user cancelled the save dialog. */
  saved: boolean;
  bytes: number;
  /** Where it went: a file path in the app, the file name in a browser. */
  location?: string;
}

/**
 * What the screens need from their surroundings. In Electron it is the preload bridge; in a plain
 * browser, Web Storage and a Blob download.
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
  /** Streams `chunks` into a file of the user's choosing (app) or a download (browser). */
  saveCsv(suggestedName: string, chunks: AsyncIterable<string>): Promise<CsvSaveOutcome>;
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
const TOKEN_KEY = 'orders.sessionToken';

export interface BrowserPlatformDeps {
  location: Pick<Location, 'origin'>;
  /** The server URL outlives the tab. */
  localStorage: Storage;
  /** The session token does not: closing the tab logs out. */
  sessionStorage: Storage;
  download(blob: Blob, fileName: string): void;
}

export function browserDownload(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
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
    getToken: async () => deps.sessionStorage.getItem(TOKEN_KEY),
    setToken: async (token) => deps.sessionStorage.setItem(TOKEN_KEY, token),
    clearToken: async () => deps.sessionStorage.removeItem(TOKEN_KEY),
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
    onMenuCommand: () => () => undefined,
  };
}

export function detectPlatform(win: Window = window): Platform {
  if (win.orders?.kind === 'electron') return electronPlatform(win.orders, win.location);
  return browserPlatform({ location: win.location, localStorage: win.localStorage, sessionStorage: win.sessionStorage, download: browserDownload });
}
