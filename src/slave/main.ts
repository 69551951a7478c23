import { loadConfig } from '../shared/config';
import { createDb, createPool } from '../shared/db/client';
import { grokTarget } from '../shared/grokTarget';
import { xaiTarget } from '../backends/api/target';
import { createLogger, workerIdentity } from '../shared/logger';
import { startObservability } from '../shared/observability';
import { closeBackends, createBackends } from '../backends';
import { loginSimulatorUsers } from '../simulator/login';
import { runSlave } from './worker';
import { abortOnSignals, logProcessWarnings, runMain } from '../shared/processLifecycle';

// `npm run slave`: one slave worker process. Start as many as the browsers you can afford.
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, { worker: workerIdentity('slave') });
  const signal = abortOnSignals(logger);
  logProcessWarnings(logger);
  const target = grokTarget(config);
  if (target.simulated) {
    logger.warn({ grok: target.baseUrl }, 'GROK_BASE_URL is unset: driving the Grok Imagine SIMULATOR, not grok.com');
    await loginSimulatorUsers(config, target, logger);
  }
  const xai = xaiTarget(config);
  if (xai.simulated) logger.warn({ xai: xai.baseUrl }, 'XAI_API_KEY is unset: the API backend calls the SIMULATOR\'s stand-in of xAI\'s API, not api.x.ai');
  const pool = createPool(config.DATABASE_URL);
  const db = createDb(pool);
  const observability = await startObservability(config, logger, 'slave', db);
  const backends = createBackends(config, { logger });
  try {
    await runSlave(config, { signal, logger, db, backends });
  } finally {
    await closeBackends(backends);
    await observability.close();
    await pool.end();
  }
}

runMain(main);
