/**
 * Generates a migration from the difference between the entities and a scratch database that has
 * every committed migration applied. Usage: npm run migration:create -w @orders/server [-- name]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initOrm, migrate } from './orm.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const dir = await mkdtemp(path.join(tmpdir(), 'orders-migration-'));
const pg = await startEmbeddedPostgres({ dataDir: dir, port: 0 });
try {
  const orm = await initOrm(pg.url);
  await migrate(orm);
  const pending = await orm.migrator.create(undefined, false, false, process.argv[2]);
  console.log(pending.fileName ? `created ${pending.fileName}; add it to migrations/index.ts` : 'no changes');
  await orm.close();
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
