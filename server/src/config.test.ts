import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const REPO_DATA_DIR = fileURLToPath(new URL('../../.data', import.meta.url));

/** The problems a configuration is refused for; fails the test if it is accepted. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^Invalid configuration:\n/);
    return (error as ConfigError).problems;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const variablesNamed = (problems: string[]) => problems.map((p) => p.slice(0, p.indexOf(':')));

describe('loadConfig', () => {
  it('has defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      databaseDirectUrl: undefined,
      host: '127.0.0.1',
      port: 4000,
      publicBaseUrl: undefined,
      paypal: {
        mode: 'simulator',
        clientId: undefined,
        clientSecret: undefined,
        apiBase: undefined,
        ipnVerifyUrl: undefined,
        receiverEmail: undefined,
        webhookId: undefined,
        timeoutMs: 20_000,
        ipnVerifyTimeoutMs: 10_000,
        refundDuplicates: true,
      },
      bootstrap: { serviceApiKey: undefined, adminEmail: undefined, adminPassword: undefined, resetAdminPassword: false },
      payments: { attemptExpiryMinutes: 180, refundGiveUpAfterMs: 24 * 3_600_000 },
      pools: { requestsMax: 10, requestsWaitMs: 30_000, jobQueueMax: 5 },
      rateLimits: { loginPerMinute: 20, ipnPerMinute: 3000 },
      loginLockAfterFailures: 10,
      shutdownDrainMs: 0,
      logLevel: 'info',
      dataDir: path.resolve(REPO_DATA_DIR),
    });
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db.internal:5433/orders',
      DATABASE_DIRECT_URL: 'postgres://u:p@db.internal:5432/orders',
      HOST: '0.0.0.0',
      PORT: '8080',
      PUBLIC_BASE_URL: 'https://shop.example.com',
      PAYPAL_MODE: 'sandbox',
      PAYPAL_CLIENT_ID: 'client-id',
      PAYPAL_CLIENT_SECRET: 'client-secret',
      PAYPAL_API_BASE: 'http://127.0.0.1:9999',
      PAYPAL_IPN_VERIFY_URL: 'http://127.0.0.1:9999/cgi-bin/webscr',
      PAYPAL_RECEIVER_EMAIL: 'Merchant@Example.com',
      PAYPAL_TIMEOUT_MS: '15000',
      PAYPAL_IPN_VERIFY_TIMEOUT_MS: '4000',
      PAYPAL_WEBHOOK_ID: '8PT597110X687430LKGECATA',
      AUTO_REFUND_DUPLICATES: '0',
      BOOTSTRAP_SERVICE_API_KEY: 'k'.repeat(24),
      BOOTSTRAP_ADMIN_EMAIL: 'Admin@Example.com',
      BOOTSTRAP_ADMIN_PASSWORD: 'twelve chars!',
      BOOTSTRAP_RESET_ADMIN_PASSWORD: '1',
      LOGIN_RATE_LIMIT: '5',
      LOGIN_LOCK_AFTER_FAILURES: '4',
      SHUTDOWN_DRAIN_SECONDS: '2.5',
      IPN_RATE_LIMIT: '0',
      ATTEMPT_EXPIRY_MINUTES: '60',
      REFUND_GIVE_UP_HOURS: '72',
      DATABASE_POOL_MAX: '25',
      DATABASE_POOL_WAIT_SECONDS: '2.5',
      JOB_QUEUE_POOL_MAX: '3',
      LOG_LEVEL: 'debug',
      DATA_DIR: '/var/lib/orders',
    });
    expect(config).toEqual({
      databaseUrl: 'postgres://u:p@db.internal:5433/orders',
      databaseDirectUrl: 'postgres://u:p@db.internal:5432/orders',
      host: '0.0.0.0',
      port: 8080,
      publicBaseUrl: 'https://shop.example.com',
      paypal: {
        mode: 'sandbox',
        clientId: 'client-id',
        clientSecret: 'client-secret',
        apiBase: 'http://127.0.0.1:9999',
        ipnVerifyUrl: 'http://127.0.0.1:9999/cgi-bin/webscr',
        receiverEmail: 'merchant@example.com',
        webhookId: '8PT597110X687430LKGECATA',
        timeoutMs: 15_000,
        ipnVerifyTimeoutMs: 4_000,
        refundDuplicates: false,
      },
      bootstrap: { serviceApiKey: 'k'.repeat(24), adminEmail: 'admin@example.com', adminPassword: 'twelve chars!', resetAdminPassword: true },
      payments: { attemptExpiryMinutes: 60, refundGiveUpAfterMs: 72 * 3_600_000 },
      pools: { requestsMax: 25, requestsWaitMs: 2_500, jobQueueMax: 3 },
      rateLimits: { loginPerMinute: 5, ipnPerMinute: 0 },
      loginLockAfterFailures: 4,
      shutdownDrainMs: 2_500,
      logLevel: 'debug',
      dataDir: '/var/lib/orders',
    });
  });

  it('accepts PORT 0 (any free port) and both postgres URL schemes', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ DATABASE_URL: 'postgresql://localhost/orders' }).databaseUrl).toBe('postgresql://localhost/orders');
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/orders' }).databaseUrl).toBe('postgres://localhost/orders');
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', NODE_ENV: 'production' }).port).toBe(4000);
  });

  describe('names each bad variable', () => {
    it.each([
      ['DATABASE_URL', 'mysql://localhost/orders'],
      ['DATABASE_URL', 'not a url'],
      ['PORT', 'abc'],
      ['PORT', '-1'],
      ['PORT', '65536'],
      ['LOGIN_RATE_LIMIT', '-3'],
      ['IPN_RATE_LIMIT', 'lots'],
      ['PORT', '80.5'],
      ['PUBLIC_BASE_URL', 'ftp://shop.example.com'],
      ['PUBLIC_BASE_URL', 'shop.example.com'],
      ['PAYPAL_MODE', 'production'],
      ['PAYPAL_API_BASE', 'not a url'],
      ['PAYPAL_IPN_VERIFY_URL', 'file:///etc/passwd'],
      ['PAYPAL_RECEIVER_EMAIL', 'merchant'],
      ['PAYPAL_TIMEOUT_MS', 'soon'],
      ['PAYPAL_TIMEOUT_MS', '50'],
      ['PAYPAL_TIMEOUT_MS', '120001'],
      ['PAYPAL_TIMEOUT_MS', '1500.5'],
      ['PAYPAL_WEBHOOK_ID', 'WH id with spaces'],
      ['PAYPAL_WEBHOOK_ID', `W${'H'.repeat(64)}`],
      ['PAYPAL_WEBHOOK_ID', '../../etc'],
      ['BOOTSTRAP_SERVICE_API_KEY', 'too-short'],
      ['BOOTSTRAP_SERVICE_API_KEY', `  ${'k'.repeat(20)}  `],
      ['LOG_LEVEL', 'verbose'],
      ['BOOTSTRAP_RESET_ADMIN_PASSWORD', 'yes'],
      ['BOOTSTRAP_RESET_ADMIN_PASSWORD', '1'],
      ['LOGIN_LOCK_AFTER_FAILURES', '-1'],
      ['SHUTDOWN_DRAIN_SECONDS', '-1'],
      ['SHUTDOWN_DRAIN_SECONDS', 'soon'],
      ['PAYPAL_IPN_VERIFY_TIMEOUT_MS', '50'],
      ['PAYPAL_IPN_VERIFY_TIMEOUT_MS', 'ten seconds'],
      ['ATTEMPT_EXPIRY_MINUTES', '0'],
      ['ATTEMPT_EXPIRY_MINUTES', '2.5'],
      ['REFUND_GIVE_UP_HOURS', '0'],
      ['REFUND_GIVE_UP_HOURS', 'a day'],
      ['DATABASE_POOL_MAX', '0'],
      ['DATABASE_POOL_MAX', 'many'],
      ['DATABASE_POOL_WAIT_SECONDS', '0'],
      ['DATABASE_POOL_WAIT_SECONDS', 'forever'],
      ['JOB_QUEUE_POOL_MAX', '0'],
      ['JOB_QUEUE_POOL_MAX', '-5'],
    ])('%s=%j', (name, value) => {
      expect(variablesNamed(problemsOf({ [name]: value }))).toEqual([name]);
    });

    it('BOOTSTRAP_ADMIN_EMAIL that is not an email, and a BOOTSTRAP_ADMIN_PASSWORD under 12 characters', () => {
      expect(variablesNamed(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'admin', BOOTSTRAP_ADMIN_PASSWORD: 'long enough pw' }))).toEqual([
        'BOOTSTRAP_ADMIN_EMAIL',
      ]);
      expect(variablesNamed(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: 'short' }))).toEqual([
        'BOOTSTRAP_ADMIN_PASSWORD',
      ]);
    });

    it('every bad variable at once, each with its own line in the message', () => {
      let error: unknown;
      try {
        loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'http://x' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const { problems, message } = error as ConfigError;
      expect(variablesNamed(problems).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
      for (const problem of problems) expect(message).toContain(`  - ${problem}`);
      expect(problems.find((p) => p.startsWith('PORT'))).toBe('PORT: must be a port number');
    });
  });

  describe('a blank variable counts as unset', () => {
    it.each(['', '   ', '\t'])('%j', (blank) => {
      const config = loadConfig({
        DATABASE_URL: blank,
        HOST: blank,
        PORT: blank,
        PUBLIC_BASE_URL: blank,
        PAYPAL_MODE: blank,
        PAYPAL_CLIENT_ID: blank,
        PAYPAL_CLIENT_SECRET: blank,
        PAYPAL_API_BASE: blank,
        PAYPAL_IPN_VERIFY_URL: blank,
        PAYPAL_RECEIVER_EMAIL: blank,
        PAYPAL_TIMEOUT_MS: blank,
        PAYPAL_IPN_VERIFY_TIMEOUT_MS: blank,
        ATTEMPT_EXPIRY_MINUTES: blank,
        REFUND_GIVE_UP_HOURS: blank,
        DATABASE_POOL_MAX: blank,
        DATABASE_POOL_WAIT_SECONDS: blank,
        JOB_QUEUE_POOL_MAX: blank,
        BOOTSTRAP_SERVICE_API_KEY: blank,
        BOOTSTRAP_ADMIN_EMAIL: blank,
        BOOTSTRAP_ADMIN_PASSWORD: blank,
        LOG_LEVEL: blank,
        DATA_DIR: blank,
      });
      expect(config).toEqual(loadConfig({}));
    });

    it('a blank password beside an admin email is a missing password', () => {
      expect(variablesNamed(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: ' ' }))).toEqual([
        'BOOTSTRAP_ADMIN_PASSWORD',
      ]);
    });
  });

  describe('PAYPAL_MODE', () => {
    const credentials = {
      PAYPAL_CLIENT_ID: 'client-id',
      PAYPAL_CLIENT_SECRET: 'client-secret',
      PAYPAL_RECEIVER_EMAIL: 'merchant@example.com',
    };

    it('defaults to simulator without credentials and to sandbox with a client id', () => {
      expect(loadConfig({}).paypal.mode).toBe('simulator');
      expect(loadConfig(credentials).paypal.mode).toBe('sandbox');
    });

    it('an explicit simulator needs no credentials, and keeps simulator even when they are set', () => {
      expect(loadConfig({ PAYPAL_MODE: 'simulator' }).paypal.mode).toBe('simulator');
      expect(loadConfig({ PAYPAL_MODE: 'simulator', ...credentials }).paypal.mode).toBe('simulator');
    });

    it.each(['sandbox', 'live'])('%s with all three credentials is accepted', (mode) => {
      expect(loadConfig({ PAYPAL_MODE: mode, ...credentials }).paypal).toMatchObject({ mode, clientId: 'client-id' });
    });

    it.each(['sandbox', 'live'])('%s without credentials names all three missing variables', (mode) => {
      const problems = problemsOf({ PAYPAL_MODE: mode });
      expect(variablesNamed(problems).sort()).toEqual(['PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_RECEIVER_EMAIL']);
      for (const problem of problems) expect(problem).toContain(`PAYPAL_MODE=${mode}`);
    });

    it('a client id alone implies sandbox and asks for the secret and the receiver email', () => {
      expect(variablesNamed(problemsOf({ PAYPAL_CLIENT_ID: 'client-id' })).sort()).toEqual([
        'PAYPAL_CLIENT_SECRET',
        'PAYPAL_RECEIVER_EMAIL',
      ]);
    });

    it('live with a blank secret names the secret', () => {
      expect(variablesNamed(problemsOf({ PAYPAL_MODE: 'live', ...credentials, PAYPAL_CLIENT_SECRET: '  ' }))).toEqual([
        'PAYPAL_CLIENT_SECRET',
      ]);
    });
  });

  describe('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together', () => {
    it('BOOTSTRAP_ADMIN_EMAIL and PAYPAL_RECEIVER_EMAIL take what staff and orders take: an internationalised address, not a bare host', () => {
      const config = loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'Zoë@Exämple.com', BOOTSTRAP_ADMIN_PASSWORD: 'long enough pw', PAYPAL_RECEIVER_EMAIL: 'kassé@bücher.de' });
      expect(config.bootstrap.adminEmail).toBe('zoë@exämple.com');
      expect(config.paypal.receiverEmail).toBe('kassé@bücher.de');
      expect(variablesNamed(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'admin@localhost', BOOTSTRAP_ADMIN_PASSWORD: 'long enough pw' }))).toEqual(['BOOTSTRAP_ADMIN_EMAIL']);
      expect(variablesNamed(problemsOf({ PAYPAL_RECEIVER_EMAIL: 'a b@example.com' }))).toEqual(['PAYPAL_RECEIVER_EMAIL']);
    });

    it('an email without a password names the password', () => {
      const problems = problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com' });
      expect(variablesNamed(problems)).toEqual(['BOOTSTRAP_ADMIN_PASSWORD']);
      expect(problems[0]).toContain('must be set together');
    });

    it('a password without an email names the email', () => {
      expect(variablesNamed(problemsOf({ BOOTSTRAP_ADMIN_PASSWORD: 'long enough pw' }))).toEqual(['BOOTSTRAP_ADMIN_EMAIL']);
    });

    it('both set: the email is lower-cased and the password kept exactly', () => {
      expect(loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'Admin@Example.COM', BOOTSTRAP_ADMIN_PASSWORD: '  Twelve+ Chars  ' }).bootstrap).toEqual({
        serviceApiKey: undefined,
        adminEmail: 'admin@example.com',
        adminPassword: '  Twelve+ Chars  ',
        resetAdminPassword: false,
      });
    });
  });
});
