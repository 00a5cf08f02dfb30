import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@orders/shared';
import { FetchEventSource } from './fetch-event-source';
import { CSRF_HEADERS } from '../platform';

export type ApiClient = TRPCClient<AppRouter>;

export interface ApiClientOptions {
  /** Origin (and path prefix, if any) of the Orders server as seen from the renderer. */
  baseUrl: string;
  /** Read on every request, so a new login needs no new client. */
  getToken(): string | null;
  fetch?: typeof globalThis.fetch;
}

/** Procedures whose result is streamed (an async iterable of chunks). */
const STREAMED_PATHS = new Set(['backoffice.orders.exportCsv']);

/**
 * One typed client, three transports split by operation: subscriptions over SSE
 * (httpSubscriptionLink, with the bearer token in a header), streamed queries over
 * httpBatchStreamLink, and everything else batched over httpBatchLink.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/trpc`;
  const headers = (): Record<string, string> => {
    const token = options.getToken();
    // Without a token (the browser build) the session cookie authenticates; writes then need the CSRF header.
    return token ? { authorization: `Bearer ${token}`, ...CSRF_HEADERS } : { ...CSRF_HEADERS };
  };
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource: FetchEventSource as unknown as typeof EventSource,
          // FetchEventSource takes headers, which EventSourceInit does not know.
          eventSourceOptions: () => ({ headers: headers(), ...fetchOption }) as unknown as EventSourceInit,
        }),
        false: splitLink({
          condition: (op) => STREAMED_PATHS.has(op.path),
          true: httpBatchStreamLink({ url, headers, maxItems: 1, ...fetchOption }),
          false: httpBatchLink({ url, headers, maxURLLength: 4000, ...fetchOption }),
        }),
      }),
    ],
  });
}
