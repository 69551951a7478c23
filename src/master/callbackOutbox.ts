import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { Client as PgClient } from 'pg';
import type { Db } from '../shared/db/client';
import { databaseIdentity } from '../shared/db/instance';
import { jobCallbacks, jobs } from '../shared/db/schema';
import { callbackWorkflowId } from '../shared/jobCallback';
import type { Logger } from '../shared/logger';
import { isJobType, JOB_TYPE_NAMES, jobType, jobWorkflowId } from '../shared/registry';

// The delivery loop of the callback outbox (migrations/0008_job_callbacks.sql). endJob writes
// a row in the transaction that ends a job; this loop, in the master process, starts the
// job's delivery workflow (deliverJobCallbackWorkflow on the slaves: signed, retried by
// Temporal) and stamps the row. Why here and not at each ending: an ending used to start the
// callback itself, so a path that forgot (cancel of a PENDING job, the owner conflict) sent
// none, and a start lost between the database write and Temporal was lost for good. A row is
// written with the ending or not at all, and stays until a start is acknowledged.
// Once per job: the workflow id is derived from the job and REJECT_DUPLICATE refuses a second
// start (two masters, a sweep racing a NOTIFY, a crash between the start and the stamp).

/** LISTEN channel of the trigger on job_callbacks INSERT. */
export const CALLBACKS_CHANNEL = 'grokflow_callbacks';
/** The sweep that catches what a NOTIFY missed (the loop was down, the connection lost). */
export const CALLBACK_SWEEP_MS = 5_000;
/** Rows started per SELECT. */
const PAGE = 100;
/** Starts in flight at once. */
const CONCURRENCY = 8;

export interface CallbackOutboxOptions {
  databaseUrl: string;
  db: Db;
  client: Client;
  logger: Logger;
  /** WORKFLOW_ID_PREFIX: a job never claimed has no workflow id yet; its callback's id uses it. */
  workflowIdPrefix?: string;
  sweepMs?: number;
}

export interface CallbackOutbox {
  /** Resolves once the first LISTEN is in place (or failed: the sweep still runs). */
  ready: Promise<void>;
  /** Starts every waiting row now; resolves with how many were started. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export function startCallbackOutbox(options: CallbackOutboxOptions): CallbackOutbox {
  const log = options.logger.child({ component: 'callback-outbox' });
  const sweepMs = options.sweepMs ?? CALLBACK_SWEEP_MS;
  let closed = false;
  let listener: PgClient | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let instance: string | undefined;

  const kick = (): Promise<number> => {
    if (closed) return Promise.resolve(0);
    if (running) {
      again = true; // a row written while a sweep runs may be past its page: one more pass
      return running;
    }
    running = (async () => {
      let started = 0;
      try {
        do {
          again = false;
          started += await sweepOnce();
        } while (again && !closed);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'callback outbox sweep failed; the next sweep tries again');
      } finally {
        running = undefined;
      }
      return started;
    })();
    return running;
  };

  const sweepOnce = async (): Promise<number> => {
    instance ??= await databaseIdentity(options.db);
    let started = 0;
    // Keyset pages by job id: a row whose start failed is not read again this sweep.
    let after = 0;
    for (;;) {
      const rows = await options.db
        .select({ jobId: jobCallbacks.jobId, type: jobs.type, workflowId: jobs.workflowId })
        .from(jobCallbacks)
        .innerJoin(jobs, eq(jobs.id, jobCallbacks.jobId))
        .where(and(isNull(jobCallbacks.startedAt), gt(jobCallbacks.jobId, after)))
        .orderBy(asc(jobCallbacks.jobId))
        .limit(PAGE);
      let failed = 0;
      await forEachLimited(rows, CONCURRENCY, async (row) => {
        if (await startOne(row, instance!)) started++;
        else failed++;
      });
      // A page that failed entirely (Temporal down) waits for the next sweep instead of going on.
      if (rows.length < PAGE || closed || failed === rows.length) return started;
      after = rows.at(-1)!.jobId;
    }
  };

  const startOne = async (row: { jobId: number; type: string; workflowId: string | null }, instance: string): Promise<boolean> => {
    const workflowId = callbackWorkflowId(row.workflowId ?? jobWorkflowId(row.type, row.jobId, options.workflowIdPrefix));
    const jobLog = log.child({ jobId: row.jobId, callbackWorkflowId: workflowId });
    // A job of a type no registry entry knows (ended by the reconciler as such) still has its
    // callback: every slave serves every type's queue, so the first type's queue delivers it.
    const taskQueue = jobType(isJobType(row.type) ? row.type : JOB_TYPE_NAMES[0]!).slaveTaskQueue;
    try {
      await options.client.workflow.start('deliverJobCallbackWorkflow', {
        taskQueue,
        workflowId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ jobId: row.jobId, instance }],
      });
      jobLog.info('callback started');
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        const message = (err as Error).message;
        await options.db.update(jobCallbacks).set({ error: message }).where(eq(jobCallbacks.jobId, row.jobId));
        jobLog.warn({ err: message }, 'callback not started; the next sweep tries again');
        return false;
      }
      // Started before (another master, or this one before a crash): once is enough.
    }
    await options.db
      .update(jobCallbacks)
      .set({ startedAt: sql`now()`, workflowId, error: null })
      .where(and(eq(jobCallbacks.jobId, row.jobId), isNull(jobCallbacks.startedAt)));
    return true;
  };

  // A dedicated connection for LISTEN (a pool would hand it back and lose it); when it is
  // lost, the next sweep tick connects again, and the sweep covers the gap.
  const listen = async (): Promise<void> => {
    if (closed || listener) return;
    const c = new PgClient({ connectionString: options.databaseUrl, keepAlive: true });
    const drop = () => {
      if (listener === c) listener = undefined;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
    };
    c.on('error', drop);
    c.on('end', drop);
    c.on('notification', (msg) => {
      if (msg.channel === CALLBACKS_CHANNEL) void kick();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CALLBACKS_CHANNEL}`);
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      listener = c;
    } catch (err) {
      drop();
      log.warn({ err: (err as Error).message }, 'LISTEN for callbacks failed; the sweep delivers meanwhile');
    }
  };

  const timer = setInterval(() => {
    void listen();
    void kick();
  }, sweepMs);
  timer.unref();
  const ready = listen().then(() => { void kick(); });

  return {
    ready,
    sweep: kick,
    async close() {
      closed = true;
      clearInterval(timer);
      const c = listener;
      listener = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
      await running;
    },
  };
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
