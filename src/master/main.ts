import { loadConfig } from '../shared/config';
import { createDb, createPool } from '../shared/db/client';
import { ensureDatabase, migrateDatabase } from '../shared/db/migrate';
import { createLogger, workerIdentity } from '../shared/logger';
import { startObservability } from '../shared/observability';
import { runMaster } from './worker';
import { abortOnSignals, logProcessWarnings, runMain } from '../shared/processLifecycle';

// `npm run master`: the schedulers and the NOTIFY listener. One is enough; two are safe.
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, { worker: workerIdentity('master') });
  const signal = abortOnSignals(logger);
  logProcessWarnings(logger);
  // A fresh deployment (docker compose, `npm run cluster`) has no database yet: the master
  // creates it and applies the migrations (under an advisory lock: two masters are safe).
  await ensureDatabase(config.DATABASE_URL);
  await migrateDatabase(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL);
  const db = createDb(pool);
  const observability = await startObservability(config, logger, 'master', db);
  try {
    await runMaster(config, { signal, logger, db });
  } finally {
    await observability.close();
    await pool.end();
  }
}

runMain(main);
