import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { schemas } from '@orders/shared';

/** An empty variable counts as unset, as it would in most shells' `.env` files. */
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const optionalNonEmpty = optional(z.string().trim());
const url = (protocols: RegExp) => optional(z.url({ protocol: protocols, error: 'must be a valid URL' }));

/** The repository's `.data/`, wherever the process was started from. */
const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.data', import.meta.url));

const envSchema = z
  .object({
    DATABASE_URL: url(/^postgres(ql)?$/),
    DATABASE_DIRECT_URL: url(/^postgres(ql)?$/),
    HOST: optional(z.string().trim()).transform((v) => v ?? '127.0.0.1'),
    PORT: optional(z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535)).transform((v) => v ?? 4000),
    PUBLIC_BASE_URL: url(/^https?$/),
    PAYPAL_MODE: optional(z.enum(['simulator', 'sandbox', 'live'])),
    PAYPAL_CLIENT_ID: optionalNonEmpty,
    PAYPAL_CLIENT_SECRET: optionalNonEmpty,
    PAYPAL_API_BASE: url(/^https?$/),
    PAYPAL_IPN_VERIFY_URL: url(/^https?$/),
    PAYPAL_TIMEOUT_MS: optional(z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(100).max(120_000)).transform(
      (v) => v ?? 20_000,
    ),
    PAYPAL_IPN_VERIFY_TIMEOUT_MS: optional(z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(100).max(120_000)).transform(
      (v) => v ?? 10_000,
    ),
    PAYPAL_RECEIVER_EMAIL: optional(schemas.emailAddress),
    PAYPAL_WEBHOOK_ID: optional(z.string().trim().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a PayPal webhook id (letters, digits and dashes)')),
    BOOTSTRAP_SERVICE_API_KEY: optional(z.string().trim().min(24, 'must be at least 24 characters')),
    BOOTSTRAP_ADMIN_EMAIL: optional(schemas.emailAddress),
    BOOTSTRAP_ADMIN_PASSWORD: optional(z.string().min(12, 'must be at least 12 characters')),
    BOOTSTRAP_RESET_ADMIN_PASSWORD: optional(z.enum(['0', '1'], { error: 'must be 1 (reset the bootstrap admin\'s password) or 0' })).transform(
      (v) => v === '1',
    ),
    LOGIN_RATE_LIMIT: optional(z.coerce.number({ error: 'must be a number' }).int().min(0)).transform((v) => v ?? 20),
    IPN_RATE_LIMIT: optional(z.coerce.number({ error: 'must be a number' }).int().min(0)).transform((v) => v ?? 3000),
    LOGIN_LOCK_AFTER_FAILURES: optional(z.coerce.number({ error: 'must be a number' }).int().min(0)).transform((v) => v ?? 10),
    AUTO_REFUND_DUPLICATES: optional(z.enum(['0', '1'], { error: 'must be 1 (refund a second payment for a paid order at once) or 0' })).transform(
      (v) => v !== '0',
    ),
    ATTEMPT_EXPIRY_MINUTES: optional(z.coerce.number({ error: 'must be a number of minutes' }).int().min(1).max(525_600)).transform((v) => v ?? 180),
    REFUND_GIVE_UP_HOURS: optional(z.coerce.number({ error: 'must be a number of hours' }).int().min(1).max(8_760)).transform((v) => v ?? 24),
    DATABASE_POOL_MAX: optional(z.coerce.number({ error: 'must be a number of connections' }).int().min(1).max(1_000)).transform((v) => v ?? 10),
    DATABASE_POOL_WAIT_SECONDS: optional(z.coerce.number({ error: 'must be a number of seconds' }).min(0.1).max(3_600)).transform((v) => v ?? 30),
    JOB_QUEUE_POOL_MAX: optional(z.coerce.number({ error: 'must be a number of connections' }).int().min(1).max(1_000)).transform((v) => v ?? 5),
    SHUTDOWN_DRAIN_SECONDS: optional(z.coerce.number({ error: 'must be a number of seconds' }).min(0).max(300)).transform((v) => v ?? 0),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).transform((v) => v ?? 'info'),
    DATA_DIR: optional(z.string().trim()).transform((v) => v ?? DEFAULT_DATA_DIR),
  })
  .superRefine((env, ctx) => {
    const mode = env.PAYPAL_MODE ?? (env.PAYPAL_CLIENT_ID ? 'sandbox' : 'simulator');
    if (mode !== 'simulator') {
      for (const key of ['PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_RECEIVER_EMAIL'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `is required when PAYPAL_MODE=${mode}` });
      }
    }
    if (env.DATABASE_DIRECT_URL && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_DIRECT_URL'], message: 'needs DATABASE_URL (without it the embedded PostgreSQL is used)' });
    }
    if (Boolean(env.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(env.BOOTSTRAP_ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.BOOTSTRAP_ADMIN_EMAIL ? 'BOOTSTRAP_ADMIN_PASSWORD' : 'BOOTSTRAP_ADMIN_EMAIL'],
        message: 'BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together',
      });
    }
    if (env.BOOTSTRAP_RESET_ADMIN_PASSWORD && !env.BOOTSTRAP_ADMIN_PASSWORD) {
      ctx.addIssue({ code: 'custom', path: ['BOOTSTRAP_RESET_ADMIN_PASSWORD'], message: 'needs BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD' });
    }
  });

export type PaypalMode = 'simulator' | 'sandbox' | 'live';

export interface AppConfig {
  databaseUrl: string | undefined;
  /**
   * A session connection (never a transaction pooler) for migrations, LISTEN/NOTIFY and pg-boss;
   * DATABASE_DIRECT_URL, else DATABASE_URL.
   */
  databaseDirectUrl: string | undefined;
  host: string;
  port: number;
  publicBaseUrl: string | undefined;
  paypal: {
    mode: PaypalMode;
    clientId: string | undefined;
    clientSecret: string | undefined;
    apiBase: string | undefined;
    ipnVerifyUrl: string | undefined;
    receiverEmail: string | undefined;
    /** The webhook (v1) PayPal delivers our sale events to; without it POST /paypal/webhook does not exist. */
    webhookId: string | undefined;
    /** Upper bound for one PayPal API call. */
    timeoutMs: number;
    /** Upper bound for one IPN postback (`cmd=_notify-validate`); a verification that times out is retried by its job. */
    ipnVerifyTimeoutMs: number;
    /** AUTO_REFUND_DUPLICATES (default on): a second sale captured for an already paid order is refunded through PayPal at once. */
    refundDuplicates: boolean;
  };
  bootstrap: {
    serviceApiKey: string | undefined;
    adminEmail: string | undefined;
    adminPassword: string | undefined;
    /** BOOTSTRAP_RESET_ADMIN_PASSWORD=1: set an existing bootstrap admin's password on purpose (a forgotten one). */
    resetAdminPassword: boolean;
  };
  payments: {
    /** An attempt still open (no answer from the buyer, no pending sale) after this long is expired by the sweep. */
    attemptExpiryMinutes: number;
    /** A refund PayPal kept refusing as retryable is marked failed once it is this old. */
    refundGiveUpAfterMs: number;
  };
  /**
   * Connections per instance: MikroORM's pool for requests, pg-boss's on the direct URL; requestsWaitMs,
   * how long a request waits for a free one of the former before it is refused (503).
   */
  pools: { requestsMax: number; requestsWaitMs: number; jobQueueMax: number };
  /** Per client address per minute; 0 turns a limit off. */
  rateLimits: { loginPerMinute: number; ipnPerMinute: number };
  /** Failed logins for one email (within 15 minutes) that lock it for 15 minutes; 0 turns locking off. */
  loginLockAfterFailures: number;
  /** SHUTDOWN_DRAIN_SECONDS: on SIGTERM, /readyz answers 503 this long while requests are still served, then the server stops. */
  shutdownDrainMs: number;
  logLevel: string;
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment once at start; every bad variable is named in the error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_DIRECT_URL ?? e.DATABASE_URL,
    host: e.HOST,
    port: e.PORT,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    paypal: {
      mode: e.PAYPAL_MODE ?? (e.PAYPAL_CLIENT_ID ? 'sandbox' : 'simulator'),
      clientId: e.PAYPAL_CLIENT_ID,
      clientSecret: e.PAYPAL_CLIENT_SECRET,
      apiBase: e.PAYPAL_API_BASE,
      ipnVerifyUrl: e.PAYPAL_IPN_VERIFY_URL,
      receiverEmail: e.PAYPAL_RECEIVER_EMAIL?.toLowerCase(),
      webhookId: e.PAYPAL_WEBHOOK_ID,
      timeoutMs: e.PAYPAL_TIMEOUT_MS,
      ipnVerifyTimeoutMs: e.PAYPAL_IPN_VERIFY_TIMEOUT_MS,
      refundDuplicates: e.AUTO_REFUND_DUPLICATES,
    },
    bootstrap: {
      serviceApiKey: e.BOOTSTRAP_SERVICE_API_KEY,
      adminEmail: e.BOOTSTRAP_ADMIN_EMAIL?.toLowerCase(),
      adminPassword: e.BOOTSTRAP_ADMIN_PASSWORD,
      resetAdminPassword: e.BOOTSTRAP_RESET_ADMIN_PASSWORD,
    },
    payments: { attemptExpiryMinutes: e.ATTEMPT_EXPIRY_MINUTES, refundGiveUpAfterMs: e.REFUND_GIVE_UP_HOURS * 3_600_000 },
    pools: { requestsMax: e.DATABASE_POOL_MAX, requestsWaitMs: Math.round(e.DATABASE_POOL_WAIT_SECONDS * 1000), jobQueueMax: e.JOB_QUEUE_POOL_MAX },
    rateLimits: { loginPerMinute: e.LOGIN_RATE_LIMIT, ipnPerMinute: e.IPN_RATE_LIMIT },
    loginLockAfterFailures: e.LOGIN_LOCK_AFTER_FAILURES,
    shutdownDrainMs: Math.round(e.SHUTDOWN_DRAIN_SECONDS * 1000),
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
  };
}
