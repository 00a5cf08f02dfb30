import { createRequire } from 'node:module';

interface SdkConfiguration {
  default_options: object;
}

/**
 * Runs `start` with `config` as paypal-rest-sdk's process-wide defaults, for the few SDK methods that take
 * no per-call configuration (`notification.webhookEvent.verify(headers, body, webhookId, cb)` is one).
 *
 * Such a method's `api.executeHttp` reads `configure.default_options` synchronously when it is called
 * and from then on uses that very object (it merges defaults into it and sets its Authorization header).
 * Swapping in a fresh object just for the synchronous call and putting the old one back gives every call
 * its own configuration, so gateways with different accounts or hosts in one process never mix.
 */
export function withSdkDefaults<T>(config: object, start: () => T): T {
  const configuration = createRequire(import.meta.url)('paypal-rest-sdk/lib/configure') as SdkConfiguration;
  const previous = configuration.default_options;
  configuration.default_options = config;
  try {
    return start();
  } finally {
    configuration.default_options = previous;
  }
}
