import { readFile } from 'node:fs/promises';
import { DEFAULT_SERVER_URL, normalizeServerUrl } from '../shared/server-url.js';
import { isMissingFile, writeFileAtomic } from './atomic-file.js';

export interface DesktopSettings {
  serverUrl: string;
}

export interface SettingsStore {
  getServerUrl(): Promise<string>;
  /** Validates (throws ServerUrlError with a readable message), persists, returns the normalized URL. */
  setServerUrl(input: string): Promise<string>;
}

/**
 * Settings persisted as JSON under userData. A missing, unreadable or invalid file falls back to
 * `fallbackServerUrl` (ORDERS_SERVER_URL when set, else the default), so a bad edit never bricks the app.
 */
export function createSettingsStore(options: { filePath: string; fallbackServerUrl?: string | undefined }): SettingsStore {
  const fallback = (() => {
    try {
      return normalizeServerUrl(options.fallbackServerUrl ?? DEFAULT_SERVER_URL);
    } catch {
      return DEFAULT_SERVER_URL;
    }
  })();
  let cached: DesktopSettings | undefined;

  async function load(): Promise<DesktopSettings> {
    if (cached) return cached;
    let serverUrl = fallback;
    try {
      const parsed = JSON.parse(await readFile(options.filePath, 'utf8')) as Partial<DesktopSettings>;
      if (typeof parsed.serverUrl === 'string') serverUrl = normalizeServerUrl(parsed.serverUrl);
    } catch (error) {
      if (!isMissingFile(error) && !(error instanceof SyntaxError) && !(error instanceof Error && error.name === 'ServerUrlError')) throw error;
    }
    cached = { serverUrl };
    return cached;
  }

  return {
    async getServerUrl() {
      return (await load()).serverUrl;
    },
    async setServerUrl(input) {
      if (typeof input !== 'string') throw new TypeError('the server URL must be a string');
      const serverUrl = normalizeServerUrl(input);
      const next = { ...(await load()), serverUrl };
      await writeFileAtomic(options.filePath, `${JSON.stringify(next, null, 2)}\n`);
      cached = next;
      return serverUrl;
    },
  };
}
