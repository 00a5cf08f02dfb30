import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT, RssSampler, spawnNode, type Child } from './children.ts';
import { RECEIVER_EMAIL } from './ipn.ts';
import { LOG_DIR } from './targets.ts';

/** The shared external simulator (lib/simulator-process.ts) and the credentials every side uses with it. */
export interface ExternalSimulator {
  baseUrl: string;
  ipnVerifyUrl: string;
  controlToken: string;
  clientId: string;
  clientSecret: string;
  receiverEmail: string;
  process: Child;
  rss: RssSampler;
  /** The environment a server needs to talk to it as it would to PayPal's sandbox. */
  paypalEnv(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startExternalSimulator(): Promise<ExternalSimulator> {
  const clientId = 'bench-simulator';
  const clientSecret = randomBytes(18).toString('base64url');
  const controlToken = randomBytes(24).toString('base64url');
  const child = spawnNode({
    name: 'simulator',
    entry: path.join(REPO_ROOT, 'tests/bench/lib/simulator-process.ts'),
    logFile: path.join(LOG_DIR, 'simulator.log'),
    env: { SIM_CLIENT_ID: clientId, SIM_CLIENT_SECRET: clientSecret, SIM_RECEIVER_EMAIL: RECEIVER_EMAIL, SIM_CONTROL_TOKEN: controlToken },
  });
  try {
    const [, baseUrl, ipnVerifyUrl] = await child.waitFor(/SIMULATOR READY (\S+) (\S+)/);
    const rss = new RssSampler(child.pid);
    return {
      baseUrl: baseUrl!,
      ipnVerifyUrl: ipnVerifyUrl!,
      controlToken,
      clientId,
      clientSecret,
      receiverEmail: RECEIVER_EMAIL,
      process: child,
      rss,
      paypalEnv: () => ({
        PAYPAL_MODE: 'sandbox',
        PAYPAL_CLIENT_ID: clientId,
        PAYPAL_CLIENT_SECRET: clientSecret,
        PAYPAL_RECEIVER_EMAIL: RECEIVER_EMAIL,
        PAYPAL_API_BASE: baseUrl!,
        PAYPAL_IPN_VERIFY_URL: ipnVerifyUrl!,
      }),
      stop: async () => {
        rss.stop();
        await child.stop();
      },
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
