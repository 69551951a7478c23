import { bundleWorkflowCode, Worker, type NativeConnection } from '@temporalio/worker';
import type { Config } from '../shared/config';
import { createDb, createPool, type Db } from '../shared/db/client';
import { createLogger, workerIdentity, type Logger } from '../shared/logger';
import { bookkeepingTaskQueue, generationTaskQueue } from '../shared/bookkeepingQueue';
import { databaseErrorInterceptor } from '../shared/dbErrors';
import { connectWorker } from '../shared/temporal';
import { declareActivityOnlyQueue } from '../shared/temporalRuntime';
import { registry } from '../shared/registry';
import { activitiesPerSecond, BACKEND_NAMES, type Backends } from '../backends';
import { createSlaveActivities } from './activities';

export interface SlaveWorkerDeps {
  config: Config;
  connection: NativeConnection;
  db: Db;
  logger: Logger;
  backends: Backends;
}

/**
 * Per slave task queue of the registry, workers sharing one workflow bundle and one
 * browser: the generation worker (workflows and the browser's generateItem,
 * SLAVE_CONCURRENT_ACTIVITIES at once), one per other backend on `<queue>-<backend>` (its
 * generateItem, with the backend's Temporal rate limit), and an activities-only bookkeeping
 * worker on `<queue>-bookkeeping`
 * (SLAVE_BOOKKEEPING_CONCURRENCY), so startJob/finishJob/failJob/failItem never queue
 * behind generations.
 *
 * Why a queue of its own rather than the alternatives:
 * - local activities would run in the workflow worker's slots with other timeout and retry
 *   rules (a retry past the local threshold becomes a timer, no heartbeats), and a local
 *   activity is a marker in the history where the recorded histories hold a scheduled
 *   activity: every history recorded before would fail to replay;
 * - a slot supplier or tuner reserves a slot before the poll, when the activity type is not
 *   yet known, so it cannot keep slots apart for bookkeeping within one queue.
 * The generation worker still registers the bookkeeping activities: a task scheduled on the
 * slave queue by a workflow that ran before this split is served where it waits.
 * The bookkeeping and per-backend workers only poll activity tasks; they are declared so
 * (declareActivityOnlyQueue), and the SDK's start-up notice about it is not a warning.
 */
export async function createSlaveWorkers({ config, connection, db, logger, backends }: SlaveWorkerDeps): Promise<Worker[]> {
  const identity = workerIdentity('slave');
  const log = logger.child({ identity });
  const deps = { db, config, logger: log, backends };
  const activities = createSlaveActivities(deps);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietBundler });
  const common = {
    connection, namespace: config.TEMPORAL_NAMESPACE, identity, shutdownGraceTime: config.SHUTDOWN_GRACE_MS,
    interceptors: { activity: [databaseErrorInterceptor] },
  };
  const workers = Object.values(registry).flatMap((type) => [
    Worker.create({
      ...common,
      taskQueue: type.slaveTaskQueue,
      workflowBundle,
      activities,
      maxConcurrentActivityTaskExecutions: config.SLAVE_CONCURRENT_ACTIVITIES,
      // Send heartbeats at least this often, so a terminate is heard within seconds rather
      // than 0.8 × the heartbeat timeout.
      maxHeartbeatThrottleInterval: '2 seconds',
    }),
    // Every other backend's generations, on a queue of its own with the backend's rate limit:
    // Temporal's own, enforced by the server across every slave (xAI: about 1 request/s).
    ...BACKEND_NAMES.filter((b) => generationTaskQueue(type.slaveTaskQueue, b) !== type.slaveTaskQueue).map((backend) => Worker.create({
      ...common,
      taskQueue: declareActivityOnlyQueue(generationTaskQueue(type.slaveTaskQueue, backend)),
      activities,
      maxConcurrentActivityTaskExecutions: config.SLAVE_CONCURRENT_ACTIVITIES,
      maxTaskQueueActivitiesPerSecond: activitiesPerSecond(config, backend),
      maxHeartbeatThrottleInterval: '2 seconds',
    })),
    Worker.create({
      ...common,
      taskQueue: declareActivityOnlyQueue(bookkeepingTaskQueue(type.slaveTaskQueue)),
      // The workflow decides what runs here (its `bookkeeping` proxy); registering every
      // slave activity lets a short one added to that proxy run without a second list.
      activities,
      maxConcurrentActivityTaskExecutions: config.SLAVE_BOOKKEEPING_CONCURRENCY,
    }),
  ]);
  return Promise.all(workers);
}

// webpack's build report is noise in a service log.
const quietBundler = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

export interface RunSlaveOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /** Reuse a connection (tests, bench); otherwise one is opened from the config and closed at the end. */
  connection?: NativeConnection;
  /** Reuse the process's database (shared with the metrics gauge); otherwise a pool is opened here and closed at the end. */
  db?: Db;
  /** The backends to generate with (src/backends): built and closed by the caller. */
  backends: Backends;
  onReady?: () => void;
}

/**
 * The slave: a worker on every slave task queue. When `signal` aborts it stops polling and
 * lets running generations finish for SHUTDOWN_GRACE_MS; after that the SDK cancels them
 * (reason WORKER_SHUTDOWN) and they close their browser contexts.
 */
export async function runSlave(config: Config, options: RunSlaveOptions): Promise<void> {
  const logger = options.logger ?? createLogger(config, { worker: workerIdentity('slave') });
  const connection = options.connection ?? (await connectWorker(config));
  const pool = options.db ? undefined : createPool(config.DATABASE_URL);
  try {
    const workers = await createSlaveWorkers({ config, connection, db: options.db ?? createDb(pool!), logger, backends: options.backends });
    const running = workers.map((w) => w.run());
    options.onReady?.();
    logger.info({ taskQueues: workers.map((w) => w.options.taskQueue), concurrency: config.SLAVE_CONCURRENT_ACTIVITIES }, 'slave ready');
    const stop = new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([stop, ...running]);
    logger.info('slave shutting down');
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    const ended = await Promise.allSettled(running);
    for (const r of ended) if (r.status === 'rejected') throw r.reason;
    logger.info('slave stopped');
  } finally {
    await pool?.end().catch(() => undefined);
    if (!options.connection) await connection.close().catch(() => undefined);
  }
}
