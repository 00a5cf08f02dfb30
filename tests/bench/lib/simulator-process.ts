/**
 * The bench's PayPal: one standalone, memory-only simulator in its own process, shared by every side
 * (Orders, the baseline, the previous release). Each side reaches it the way it would reach PayPal's
 * sandbox — PAYPAL_MODE=sandbox with PAYPAL_API_BASE / PAYPAL_IPN_VERIFY_URL pointing here — so no
 * side pays for a simulator inside its own process or database, and none of them carries its memory.
 *
 * Run as a child process by lib/simulator.ts; prints `SIMULATOR READY <baseUrl> <ipnVerifyUrl>`.
 */
import { startPaypalSimulator } from '@orders/server/paypal/simulator/index.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const simulator = await startPaypalSimulator({
  clientId: env('SIM_CLIENT_ID'),
  clientSecret: env('SIM_CLIENT_SECRET'),
  receiverEmail: env('SIM_RECEIVER_EMAIL'),
  controlToken: env('SIM_CONTROL_TOKEN'),
});
console.log(`SIMULATOR READY ${simulator.baseUrl} ${simulator.ipnVerifyUrl}`);

const shutdown = async () => {
  await simulator.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
