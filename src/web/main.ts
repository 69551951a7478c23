import type { Client } from '@temporalio/client';
import { loadConfig } from '../shared/config';
import { createDb, createPool } from '../shared/db/client';
import { createLogger, workerIdentity } from '../shared/logger';
import { abortOnSignals, logProcessWarnings, runMain } from '../shared/processLifecycle';
import { startWeb } from './server';

// `npm run web`: the console alone, next to workers that run elsewhere, on the same Postgres.
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, { worker: workerIdentity('web') });
  if (config.WEB_PORT === 0) throw new Error('WEB_PORT is 0: the web console is turned off');
  const signal = abortOnSignals(logger);
  logProcessWarnings(logger);
  const pool = createPool(config.DATABASE_URL, { max: 4 });
  let client: Client | undefined;
  try {
    const web = await startWeb(config, {
      db: createDb(pool),
      logger,
      // Only a cancel needs Temporal: connect then, so the console runs while Temporal is down.
      async temporal() {
        const { connectClient } = await import('../shared/temporal');
        return (client ??= await connectClient(config));
      },
    });
    process.stdout.write(`grokflow web console: ${web.url}\n`);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await web.close();
    logger.info('web console stopped');
  } finally {
    await client?.connection.close().catch(() => undefined);
    await pool.end();
  }
}

runMain(main);
