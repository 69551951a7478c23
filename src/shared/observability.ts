import type http from 'node:http';
import type { Config } from './config';
import type { Db } from './db/client';
import type { Logger } from './logger';
import { freeLoopbackPort } from './freePort';
import { registerJobGauge, startMetricsServer } from './metrics';
import { installTemporalRuntime } from './temporalRuntime';

/**
 * Once per process, before any worker: the SDK's logs into pino and, unless METRICS_PORT is
 * 0, one Prometheus endpoint with grokflow's metrics and the SDK runtime's.
 */
export async function startObservability(config: Config, logger: Logger, db?: Db): Promise<{ close(): Promise<void> }> {
  if (config.METRICS_PORT === 0) {
    installTemporalRuntime(logger);
    return { close: async () => undefined };
  }
  // The SDK's exporter listens privately; the public endpoint appends what it serves.
  const sdkMetricsAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  installTemporalRuntime(logger, { metricsBindAddress: sdkMetricsAddress });
  if (db) registerJobGauge(db);
  const server: http.Server = await startMetricsServer({ port: config.METRICS_PORT, sdkMetricsAddress, logger });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
