import { setup } from './setup/main';
import { loadConfig } from './shared/config';
import { createLogger, workerIdentity } from './shared/logger';
import { runService, type ServiceInfo } from './service/runService';
import { abortOnSignals, logProcessWarnings, runMain } from './shared/processLifecycle';

// `npm start`: set-up, then the whole service in one process with embedded defaults.
function banner(info: ServiceInfo): string {
  const line = '─'.repeat(72);
  return [
    line,
    ' grokflow is running',
    `   Temporal      ${info.temporalAddress}${info.webUiUrl ? `   Web UI ${info.webUiUrl}` : ''}`,
    `   PostgreSQL    ${info.databaseUrl}`,
    `   Grok          ${info.grokUrl}${info.simulated ? '   ← SIMULATOR (set GROK_BASE_URL for the real one)' : ''}`,
    `   xAI API       ${info.xaiUrl}${info.xaiSimulated ? '   ← SIMULATOR\'s stand-in (set XAI_API_KEY for the real one)' : ''}`,
    ...(info.metricsUrl ? [`   Metrics       ${info.metricsUrl}`] : []),
    `   Scheduler     "${info.schedulerCron}", next runs ${info.nextRuns.map((d) => d.toISOString()).join(', ') || 'none'}`,
    ...(info.webUrl ? [`   Web console   ${info.webUrl}`] : []),
    ...(info.paused ? [`   Paused        ${info.paused.replace(/^paused: /, '')}   ← no new job of it starts (npx grokflow pauses; resume)`] : []),
    '',
    ' Try it:',
    `   psql ${info.databaseUrl} -c "INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{\\"prompt\\": \\"a red fox running through snow\\"}')"`,
    '   npx grokflow jobs watch',
    ' Ctrl-C stops everything.',
    line,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!(await setup((l) => process.stderr.write(`${l}\n`)))) process.exit(1);
  const config = loadConfig();
  const logger = createLogger(config, { worker: workerIdentity('grokflow') });
  const signal = abortOnSignals(logger);
  logProcessWarnings(logger);
  await runService(config, logger, signal, (info) => process.stdout.write(`${banner(info)}\n`));
  logger.info('grokflow stopped');
}

runMain(main);
