import { createRequire } from 'node:module';

interface SdkUtils {
  getDefaultApiEndpoint: (mode: unknown) => string | null;
}

const noDefaultEndpoint = () => null;

/**
 * paypal-rest-sdk 1.8.1 ignores the configured `host`: both the OAuth call and every API call use
 * `utils.getDefaultApiEndpoint(mode) || host`, and that function always answers api.sandbox.paypal.com
 * or api.paypal.com. Both call sites look the export up at call time, so replacing it with one that
 * answers null makes `host` (with `schema` and `port`, which were always honoured) take effect.
 *
 * The SDK is CommonJS and cached per process, so this is process-wide. That is safe for callers who
 * always pass an explicit host, which PaypalRestGateway does for every call, sandbox and live included.
 * createRequire reaches the very module instance `import paypal from 'paypal-rest-sdk'` loaded.
 */
export function honourConfiguredSdkHost(): void {
  const utils = createRequire(import.meta.url)('paypal-rest-sdk/lib/utils') as SdkUtils;
  utils.getDefaultApiEndpoint = noDefaultEndpoint;
}
