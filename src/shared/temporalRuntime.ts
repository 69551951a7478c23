import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

let installed = false;

/**
 * Routes the Temporal SDK's own logs into pino (at `level` and above), the core's too (the
 * Rust side, e.g. "gRPC call poll_workflow_task_queue retried 6 times", which otherwise
 * goes to stderr as coloured text), so every line is JSON with the process's fields; and,
 * when given an address, exposes the SDK's metrics for Prometheus. Once per process, before
 * any worker.
 */
export function installTemporalRuntime(logger: Logger, options: { level?: LogLevel; metricsBindAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  const level = options.level ?? 'WARN';
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
      // The SDK hands errors over as `error`; pino serializes them (message, stack) as `err`.
      const { error, ...rest } = (meta ?? {}) as Record<string, unknown>;
      sdkLogger[LEVELS[l]](error === undefined ? rest : { ...rest, err: error }, message);
    }),
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : {}),
    },
  });
}
