import type http from 'node:http';
import type { Config } from './config';
import type { Db } from './db/client';
import type { Logger } from './logger';
import { freeLoopbackPort } from './freePort';
import { registerAccountGauges, registerJobGauge, registerPauseGauge, startMetricsServer } from './metrics';
import { accountStatuses } from '../slave/accounts/status';
import { installTemporalRuntime } from './temporalRuntime';

export type Program = 'master' | 'slave' | 'service';

/**
 * METRICS_PORT when set, else each program's own default, so `npm run master` and
 * `npm run slave` on one host do not clash (`npm start` is master and slave in one process).
 */
export function metricsPort(config: Pick<Config, 'METRICS_PORT'>, program: Program): number {
  return config.METRICS_PORT ?? (program === 'slave' ? 9465 : 9464);
}

/**
 * Once per process, before any worker: the SDK's logs into pino and, unless the metrics port
 * is 0, one Prometheus endpoint with grokflow's metrics and the SDK runtime's.
 */
export async function startObservability(config: Config, logger: Logger, program: Program, db?: Db): Promise<{ close(): Promise<void> }> {
  const port = metricsPort(config, program);
  if (port === 0) {
    installTemporalRuntime(logger);
    return { close: async () => undefined };
  }
  // The SDK's exporter listens privately; the public endpoint appends what it serves.
  const sdkMetricsAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  installTemporalRuntime(logger, { metricsBindAddress: sdkMetricsAddress });
  if (db) {
    registerJobGauge(db);
    registerPauseGauge(db);
    registerAccountGauges(() => accountStatuses(db, config));
  }
  const server: http.Server = await startMetricsServer({ port, host: config.METRICS_HOST, sdkMetricsAddress, logger });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
