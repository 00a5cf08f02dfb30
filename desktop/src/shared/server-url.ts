/** Where the back-office app looks for the Orders server until staff choose another in settings. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:4000';

export class ServerUrlError extends Error {
  override name = 'ServerUrlError';
}

/**
 * The one rule for a server URL, used by the Electron main process and the browser fallback alike:
 * http(s) only, no credentials, query or fragment; returned without a trailing slash so
 * `${url}/trpc` is always right.
 */
export function normalizeServerUrl(input: string): string {
  const trimmed = input.trim();
  if (!trimmed) throw new ServerUrlError('Enter the server address, e.g. http://127.0.0.1:4000');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ServerUrlError(`"${trimmed}" is not a URL; enter e.g. http://127.0.0.1:4000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ServerUrlError('The server address must start with http:// or https://');
  if (url.username || url.password) throw new ServerUrlError('The server address must not contain a user name or password');
  if (url.search || url.hash) throw new ServerUrlError('The server address must not contain a query (?) or fragment (#)');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
