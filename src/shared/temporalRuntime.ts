import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

let installed = false;

// Workers built on purpose without workflows (the slave's bookkeeping and per-backend
// generation queues). The SDK already builds them with workflow polling off (worker-options:
// enableWorkflows is false without a bundle), yet says so at WARN on every start; for these
// queues it is the design, so it is logged at DEBUG. A worker anywhere else that lost its
// workflows by mistake still warns.
const NO_WORKFLOWS = 'No workflows registered, not polling for workflow tasks';
const activityOnlyQueues = new Set<string>();

/** Declares a task queue whose worker runs activities only (call before Worker.create). */
export function declareActivityOnlyQueue(taskQueue: string): string {
  activityOnlyQueues.add(taskQueue);
  return taskQueue;
}

function levelOf(l: LogLevel, message: string, meta: Record<string, unknown>): LogLevel {
  return message === NO_WORKFLOWS && activityOnlyQueues.has(meta.taskQueue as string) ? 'DEBUG' : l;
}

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
      sdkLogger[LEVELS[levelOf(l, message, rest)]](error === undefined ? rest : { ...rest, err: error }, message);
    }),
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : {}),
    },
  });
}
