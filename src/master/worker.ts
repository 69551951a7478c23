import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../shared/config';
import { createDb, createPool, type Db } from '../shared/db/client';
import { createLogger, workerIdentity, type Logger } from '../shared/logger';
import { databaseErrorInterceptor } from '../shared/dbErrors';
import { ensureSearchAttributes } from '../shared/searchAttributes';
import { JOB_TYPE_NAMES, jobType, type JobTypeEntry, type JobTypeName } from '../shared/registry';
import { connectClient, connectWorker } from '../shared/temporal';
import type { SchedulerInput } from '../shared/workflowInputs';
import { createMasterActivities, defaultReconcileGraceMs } from './activities';
import { createClaim } from './activities/claim';
import { startCallbackOutbox, type CallbackOutbox } from './callbackOutbox';
import { startListener, type JobListener } from './listener';
import { ensureSchedules, scheduledRuns, schedulerInput, syncSchedulePauses } from './schedules';
import { ensureCanarySchedule } from './canarySchedule';
import { createWaker, type WakeMode } from './wake';

export { ensureSchedules, scheduleId, schedulerInput } from './schedules';
export { createWaker, wakeWorkflowId, type WakeMode } from './wake';
export { dispatcherWorkflowId } from './directClaim';
export { startListener, type JobListener } from './listener';
export { startCallbackOutbox, type CallbackOutbox } from './callbackOutbox';
export { createMasterActivities, type MasterActivities } from './activities';

export const MASTER_WORKFLOWS_PATH = require.resolve('./workflows');

export interface MasterWorkerOptions {
  connection: NativeConnection;
  client: Client;
  db: Db;
  logger: Logger;
  identity?: string;
  types?: readonly JobTypeName[];
  reconcileGraceMs: number;
  /** WORKFLOW_ID_PREFIX (default empty). */
  workflowIdPrefix?: string;
  /** Concurrent workflow tasks per worker. */
  maxConcurrentWorkflowTaskExecutions?: number;
  /** What the capacity claim reads (account limits, saved sessions, the want rule). */
  config: Config;
}

/** One Worker per master task queue of the registry (or of `types`), activities bound to db + client. */
export async function createMasterWorkers(options: MasterWorkerOptions): Promise<Worker[]> {
  const types = options.types ?? JOB_TYPE_NAMES;
  const identity = options.identity ?? workerIdentity('master');
  const activities = createMasterActivities({
    db: options.db,
    client: options.client,
    logger: options.logger,
    reconcileGraceMs: options.reconcileGraceMs,
    workflowIdPrefix: options.workflowIdPrefix,
    config: options.config,
  });
  const queues = [...new Set(types.map((t) => jobType(t).masterTaskQueue))];
  return Promise.all(queues.map((taskQueue) => Worker.create({
    connection: options.connection,
    taskQueue,
    identity,
    workflowsPath: MASTER_WORKFLOWS_PATH,
    activities,
    interceptors: { activity: [databaseErrorInterceptor] },
    ...(options.maxConcurrentWorkflowTaskExecutions ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions } : {}),
  })));
}

export interface RunMasterOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /** Reuse connections (tests, bench); otherwise they are opened from the config and closed at the end. */
  client?: Client;
  connection?: NativeConnection;
  /** Reuse the process's database (shared with the metrics gauge); otherwise a pool is opened here and closed at the end. */
  db?: Db;
  types?: readonly JobTypeName[];
  /** Changes the scheduler input of every type (tests, bench). */
  schedulerInput?: (entry: JobTypeEntry) => SchedulerInput;
  reconcileGraceMs?: number;
  /** false: no LISTEN, the cron tick only. */
  listen?: boolean;
  /** false: no callback delivery loop in this master (a test of the claim alone). */
  callbacks?: boolean;
  /** How a notification claims: `direct` (default) in this process, or by waking a scheduler workflow (wake.ts). */
  wake?: WakeMode;
  /** Called once workers run, schedules exist and the listener listens. */
  onReady?: (info: MasterReadyInfo) => void;
}

export interface MasterReadyInfo {
  /** The schedulers' next runs, as Temporal reads SCHEDULER_CRON. */
  nextRuns: Date[];
  reconcileGraceMs: number;
}

/**
 * The master: workers for every master task queue, one Schedule per job type (the cron
 * safety net), and the NOTIFY listener that wakes a type's scheduler at once. Resolves after
 * a clean shutdown when `signal` aborts; rejects if a worker fails.
 */
export async function runMaster(config: Config, options: RunMasterOptions = {}): Promise<void> {
  const identity = workerIdentity('master');
  const logger = options.logger ?? createLogger(config, { worker: identity });
  const types = options.types ?? JOB_TYPE_NAMES;
  const input = options.schedulerInput ?? ((entry: JobTypeEntry) => schedulerInput(entry));
  const ownClient = !options.client;
  const ownConnection = !options.connection;
  const client = options.client ?? (await connectClient(config));
  const connection = options.connection ?? (await connectWorker(config));
  await registerSearchAttributes(client, config, logger);
  const pool = options.db ? undefined : createPool(config.DATABASE_URL);
  const db = options.db ?? createDb(pool!);
  let listener: JobListener | undefined;
  let outbox: CallbackOutbox | undefined;
  try {
    const outcomes = await ensureSchedules(client, { cron: config.SCHEDULER_CRON, types, input, logger });
    // A type paused while no master ran shows paused in the Web UI from now on.
    await syncSchedulePauses(client, db, types, logger);
    await ensureCanarySchedule(client, config.CANARY_CRON, logger);
    // Every type's schedule has SCHEDULER_CRON: one type's runs tell them all.
    const runs = await scheduledRuns(client, types[0]!);
    const reconcileGraceMs = options.reconcileGraceMs ?? config.RECONCILE_GRACE_MS ?? defaultReconcileGraceMs(runs.periodMs);
    const nextRuns = runs.next.slice(0, 3);
    logger.info({ cron: config.SCHEDULER_CRON, nextRuns: nextRuns.map((d) => d.toISOString()), reconcileGraceMs }, 'scheduler cron');
    if (nextRuns.length === 0) logger.warn({ cron: config.SCHEDULER_CRON }, 'SCHEDULER_CRON never runs again: only NOTIFY wakes the schedulers');
    if (runs.periodMs !== undefined && reconcileGraceMs >= runs.periodMs) {
      logger.warn({ reconcileGraceMs, cronPeriodMs: runs.periodMs },
        'RECONCILE_GRACE_MS is not shorter than the SCHEDULER_CRON period: an orphaned job waits more than two ticks');
    }
    const workers = await createMasterWorkers({
      connection, client, db, logger, identity, types, reconcileGraceMs, workflowIdPrefix: config.WORKFLOW_ID_PREFIX, config,
    });
    logger.info({ schedules: outcomes, taskQueues: workers.map((w) => w.options.taskQueue) }, 'master starting');

    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (options.signal?.aborted) abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    if (options.listen !== false) {
      // The direct path's claim: the same function the scheduler's activity runs, here in the listener's process.
      const claim = createClaim({ db, client, logger, reconcileGraceMs, workflowIdPrefix: config.WORKFLOW_ID_PREFIX, config });
      listener = startListener({
        databaseUrl: config.DATABASE_URL,
        debounceMs: config.NOTIFY_DEBOUNCE_MS,
        logger,
        types,
        wake: createWaker(client, options.wake ?? 'direct', input, { claim, logger, shards: config.DISPATCHER_SHARDS }),
      });
    }
    if (options.callbacks !== false) {
      outbox = startCallbackOutbox({ databaseUrl: config.DATABASE_URL, db, client, logger, workflowIdPrefix: config.WORKFLOW_ID_PREFIX });
    }
    const running = workers.map((w) => w.run());
    // Already aborted (e.g. from onReady): an 'abort' listener added now would never fire.
    const stop = new Promise<void>((resolve) => {
      if (abort.signal.aborted) resolve();
      abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      // A stop while the listener still waits for its database (down at start) is heard.
      await Promise.race([listener?.ready, stop]);
      if (!abort.signal.aborted) {
        options.onReady?.({ nextRuns, reconcileGraceMs });
        logger.info('master ready');
      }
      await Promise.race([stop, ...running]);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      logger.info('master shutting down');
      await listener?.close();
      listener = undefined;
      await outbox?.close();
      outbox = undefined;
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
    }
    // A worker that failed on its own is an error, not a shutdown.
    for (const r of await Promise.allSettled(running)) if (r.status === 'rejected') throw r.reason;
    logger.info('master stopped');
  } finally {
    await listener?.close();
    await outbox?.close();
    await pool?.end().catch(() => undefined);
    if (ownConnection) await connection.close().catch(() => undefined);
    if (ownClient) await client.connection.close().catch(() => undefined);
  }
}

// The slave workflows set JobId, JobType and Account; a namespace without them would fail
// every job, so the master registers them (the dev server already has them from its flags).
async function registerSearchAttributes(client: Client, config: Config, logger: Logger): Promise<void> {
  try {
    const added = await ensureSearchAttributes(client.connection, config.TEMPORAL_NAMESPACE);
    if (added.length > 0) logger.info({ added }, 'search attributes registered');
  } catch (err) {
    logger.warn({ err }, 'could not register the search attributes JobId, JobType, Account; register them as docs/operations.md says');
  }
}
