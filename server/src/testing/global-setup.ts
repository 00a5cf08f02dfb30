import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { initOrm, migrate } from '../db/orm.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { JobQueue } from '../jobs/queue.js';
import { createLogger } from '../logger.js';

export const TEMPLATE_DATABASE = 'orders_template';

/**
 * One embedded PostgreSQL for the whole run, with a migrated template database; each test file
 * clones the template (`create database … template …`), so files run in parallel on clean data.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orders-test-pg-'));
  // mkdtemp makes 0700; as root, PostgreSQL runs as its own user and must be able to enter it.
  await chmod(dataDir, 0o755);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg') });
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();
  const templateUrl = withDatabase(postgres.url, TEMPLATE_DATABASE);
  const orm = await initOrm(templateUrl);
  await migrate(orm);
  await orm.close();
  // pg-boss installs its schema on first start; doing it once here keeps every clone ready.
  const queue = await JobQueue.start(templateUrl, createLogger('silent'), { poolMax: 1 });
  await queue.stop();
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
