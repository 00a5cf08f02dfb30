/**
 * The contract between the sandboxed renderer and the Electron main process. The preload script
 * exposes an `OrdersBridge` as `window.orders`; the renderer imports these types only, and falls back
 * to browser APIs when `window.orders` is absent.
 */

/** Commands the application menu sends to the renderer. */
export const MENU_COMMANDS = ['go-dashboard', 'go-orders', 'go-reconciliation', 'go-admin', 'go-settings', 'export-csv', 'reload-data', 'log-out'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

export interface CsvSaveResult {
  filePath: string;
  bytes: number;
}

/**
 * A CSV export streamed chunk by chunk: `begin` asks the user where to save (null when they cancel),
 * each `write` appends one chunk, `finish` moves the complete file into place, `abort` discards it.
 */
export interface CsvSaveApi {
  begin(suggestedName: string): Promise<string | null>;
  write(streamId: string, chunk: string): Promise<void>;
  finish(streamId: string): Promise<CsvSaveResult>;
  abort(streamId: string): Promise<void>;
}

export interface OrdersBridge {
  readonly kind: 'electron';
  /** The Orders server the main process forwards `/trpc` and `/backoffice/api` to. */
  getServerUrl(): Promise<string>;
  /** Validates, persists and returns the normalized URL; rejects with a readable message when invalid. */
  setServerUrl(url: string): Promise<string>;
  getToken(): Promise<string | null>;
  /** Kept encrypted by the OS keychain (safeStorage); only in memory when no keychain is available. */
  setToken(token: string): Promise<void>;
  clearToken(): Promise<void>;
  saveCsv: CsvSaveApi;
  /** Subscribes to application menu commands; returns the unsubscribe function. */
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

/** IPC channel names, one place for main and preload. */
export const IPC = {
  getServerUrl: 'orders:server-url:get',
  setServerUrl: 'orders:server-url:set',
  getToken: 'orders:token:get',
  setToken: 'orders:token:set',
  clearToken: 'orders:token:clear',
  csvBegin: 'orders:csv:begin',
  csvWrite: 'orders:csv:write',
  csvFinish: 'orders:csv:finish',
  csvAbort: 'orders:csv:abort',
  menuCommand: 'orders:menu-command',
} as const;

/** The renderer is loaded from this privileged scheme; the main process serves it and proxies the API. */
export const APP_SCHEME = 'orders';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/**
 * `scheme://host[:port]` of a URL. Node's URL gives `origin === 'null'` for schemes it does not
 * know (such as ours), while Chromium, where the scheme is registered as standard, does not.
 */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.host ? `${parsed.protocol}//${parsed.host}` : null;
  } catch {
    return null;
  }
}

/** Paths the main process forwards to the configured server instead of serving from the bundle. */
export const PROXIED_PATH_PREFIXES = ['/trpc/', '/backoffice/api/'] as const;
