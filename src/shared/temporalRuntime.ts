import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

let installed = false;

/**
 * Routes the Temporal SDK's own logs into pino (at `level` and above) and, when given an
 * address, exposes the SDK's metrics for Prometheus. Once per process, before any worker.
 */
export function installTemporalRuntime(logger: Logger, options: { level?: LogLevel; metricsBindAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(options.level ?? 'WARN', ({ level, message, meta }) => sdkLogger[LEVELS[level]](meta ?? {}, message)),
    ...(options.metricsBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } }
      : {}),
  });
}
