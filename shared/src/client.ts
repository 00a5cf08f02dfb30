import {
  createTRPCClient,
  httpBatchLink,
  httpBatchStreamLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
// Type-only: the server's code never reaches a client bundle, and the package's declarations carry
// the router's type inlined (tsdown.config.ts), so consumers need no server package.
import type { AppRouter } from '@orders/server/trpc/root.ts';

// `| undefined` on the optional fields: callers under exactOptionalPropertyTypes can pass
// `process.env.ORDERS_API_KEY` as it is.
export interface OrdersClientOptions {
  /** The tRPC endpoint, e.g. http://127.0.0.1:4000/trpc */
  url: string;
  /** A service API key or a staff session token; leave out for auth.login. */
  apiKey?: string | undefined;
  /** Batch calls made in the same tick into one HTTP request (default true). */
  batch?: boolean | undefined;
  fetch?: typeof globalThis.fetch | undefined;
}

export type OrdersClient = TRPCClient<AppRouter>;

/** Queries the server answers as a stream (an async generator): they need the streaming link. */
const STREAMED_QUERIES: ReadonlySet<string> = new Set(['backoffice.orders.exportCsv']);

export function createOrdersClient(options: OrdersClientOptions): OrdersClient {
  const headers = () => (options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {});
  const common = { url: options.url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const requests =
    options.batch === false
      ? httpLink(common)
      : splitLink({
          // Writes are sent alone so one failure never rides along with another caller's batch.
          condition: (op) => op.type === 'query',
          true: httpBatchLink({ ...common, maxURLLength: 4000, maxItems: 50 }),
          false: httpLink(common),
        });
  const link = splitLink({
    condition: (op) => op.type === 'subscription',
    // Server-sent events through the runtime's EventSource (browsers, Electron's renderer). EventSource
    // cannot send headers, so the credential travels as a connection param.
    true: httpSubscriptionLink({ url: options.url, connectionParams: () => (options.apiKey ? { token: options.apiKey } : null) }),
    false: splitLink({
      condition: (op) => STREAMED_QUERIES.has(op.path),
      true: httpBatchStreamLink({ ...common, maxURLLength: 4000, maxItems: 50 }),
      false: requests,
    }),
  });
  return createTRPCClient<AppRouter>({ links: [link] });
}

export type { AppRouter };
