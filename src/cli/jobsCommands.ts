import { ITEM_STEPS, overheadMs, readSteps } from '../shared/itemSteps';
import { waitingReasons } from '../shared/jobs/waiting';
import { formatUsd } from '../backends/api/cost';
import { asc, desc, eq } from 'drizzle-orm';
import { jobDeliveries, jobEvents, jobItems, jobs, type Job } from '../shared/db/schema';
import { listPauses, pausedLine } from '../shared/jobs/pauses';
import { callbackUrlOf } from '../shared/payloads';
import { isFinalStatus } from '../shared/jobs/statuses';
import { databaseIdentity } from '../shared/db/instance';
import { callbackWorkflowId } from '../shared/jobCallback';
import { jobType, jobWorkflowId } from '../shared/registry';
import { CliError, ExitCode, type CliContext } from './context';
import { ago, duration, json, table, truncate } from './format';
import { cancelJob as cancelJobRow, createJob, findJob, retryJob as retryJobRow } from './jobActions';
import { jobFilterSql, jobSummary, type JobFilter } from './jobFilter';
import { type AddOptions } from './jobInput';

type Out = (text: string) => void;

export async function addJob(ctx: CliContext, o: AddOptions & { priority?: string; json?: boolean }, out: Out): Promise<void> {
  const job = await createJob(ctx.db, ctx.config, o);
  out(o.json ? json({ id: job.id, type: job.type, status: job.status, payload: job.payload }) : String(job.id));
}

export async function listJobs(ctx: CliContext, o: JobFilter & { limit: string; json?: boolean }, out: Out): Promise<void> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive whole number', ExitCode.Usage);
  const rows = await ctx.db.select().from(jobs).where(jobFilterSql(o)).orderBy(desc(jobs.id)).limit(limit);
  const pauses = await listPauses(ctx.db);
  // What each PENDING job waits for, worked out now (src/shared/jobs/waiting.ts).
  const waiting = await waitingReasons(ctx.db, ctx.config, rows);
  if (o.json) return out(json(rows.map((j) => ({ ...j, summary: jobSummary(j), ...(waiting.has(j.id) ? { waiting: waiting.get(j.id) } : {}) }))));
  // Paused scopes first: a PENDING job below may be waiting for a resume, not for capacity.
  const paused = pausedLine(pauses);
  if (paused) out(paused);
  out(table(
    ['id', 'type', 'status', 'progress', 'account', 'created', 'took', 'n', 'backend', 'prompt', 'message'],
    rows.map((j) => {
      const s = jobSummary(j);
      return [j.id, j.type, j.status, `${j.progress}%`, j.account, ago(j.createdAt), duration(j.durationMs), s.count, s.backend, truncate(s.prompt, 40), truncate(j.errorMessage ?? waiting.get(j.id) ?? j.progressMessage, 50)];
    }),
  ));
}

export async function showJob(ctx: CliContext, id: string, o: { json?: boolean }, out: Out): Promise<void> {
  const job = await findJob(ctx.db, id);
  const items = await ctx.db.select().from(jobItems).where(eq(jobItems.jobId, job.id)).orderBy(asc(jobItems.index));
  const events = await ctx.db.select().from(jobEvents).where(eq(jobEvents.jobId, job.id)).orderBy(asc(jobEvents.id));
  const deliveries = await ctx.db.select().from(jobDeliveries).where(eq(jobDeliveries.jobId, job.id)).orderBy(asc(jobDeliveries.id));
  const waiting = (await waitingReasons(ctx.db, ctx.config, [job])).get(job.id);
  if (o.json) return out(json({ job: waiting ? { ...job, waiting } : job, items, events, deliveries }));
  const lines = [
    `job ${job.id}  ${job.type}  ${job.status}  ${job.progress}%`,
    `workflow   ${job.workflowId ?? '-'}${job.runId ? ` (run ${job.runId})` : ''}`,
    `account    ${job.account ?? '-'}${job.backend ? `  (backend ${job.backend})` : ''}`,
    ...(job.costTicks !== null ? [`cost       ${formatUsd(job.costTicks)}`] : []),
    `created    ${job.createdAt.toISOString()}`,
    `queued     ${job.queuedAt?.toISOString() ?? '-'}`,
    `started    ${job.startedAt?.toISOString() ?? '-'}`,
    `ended      ${job.completedAt?.toISOString() ?? '-'}${job.durationMs !== null ? ` (${duration(job.durationMs)})` : ''}`,
    ...(job.retryOf ? [`retry of   job ${job.retryOf}`] : []),
    ...(waiting ? [`waiting    ${waiting.replace(/^waiting: /, '')}`] : []),
    ...(job.progressMessage ? [`progress   ${job.progressMessage}`] : []),
    ...(job.errorMessage ? [`error      ${job.errorMessage}`] : []),
    `payload    ${JSON.stringify(job.payload)}`,
  ];
  out(lines.join('\n'));
  if (items.length) {
    out('\nitems');
    out(table(['#', 'status', 'attempts', 'moderated', 'hd', 'cost', 'prompt', 'error'],
      items.map((i) => [i.index, i.status, i.attempts, i.moderationRetries, i.hd ? 'HD' : '', i.costTicks === null ? '' : formatUsd(i.costTicks), truncate(i.prompt, 40), truncate(i.error, 50)])));
  }
  const files = items.filter((i) => i.filePath || i.objectUrl);
  if (files.length) {
    out('\nfiles');
    for (const i of files) {
      out(`  #${i.index}  ${i.objectUrl ?? i.filePath}  ${i.bytes ?? '?'} bytes  sha256 ${i.sha256 ?? '-'}${i.hd ? '  HD' : ''}`);
      // The stored object's twin (SD beside HD) and a local copy kept beside the object.
      for (const f of i.files ?? []) if (f.url && f.url !== i.objectUrl) out(`      ${f.url}  ${f.bytes} bytes  sha256 ${f.sha256}${f.hd ? '  HD' : ''}`);
      if (i.objectUrl && i.filePath) out(`      local copy ${i.filePath}`);
    }
  }
  const timed = items.filter((i) => i.steps && Object.keys(i.steps).length > 0);
  if (timed.length) {
    // Where each item's last try spent its time: Grok's generation apart from the driver's own steps.
    out('\nsteps (ms)');
    out(table(['#', ...ITEM_STEPS, 'overhead'], timed.map((i) => {
      const steps = readSteps(i.steps);
      return [i.index, ...ITEM_STEPS.map((st) => steps[st] ?? ''), overheadMs(steps)];
    })));
  }
  const errors = items.filter((i) => i.error);
  if (errors.length) {
    out('\nerrors');
    for (const i of errors) out(`  #${i.index}  ${i.status}  ${i.error}`);
  }
  if (deliveries.length) {
    out('\ndeliveries');
    out(table(['at', 'delivery', 'attempt', 'http', 'error'], deliveries.map((d) => [d.at.toISOString(), d.deliveryId, d.attempt, d.httpStatus ?? '', truncate(d.error, 60)])));
  }
  out('\nevents');
  out(table(['at', 'from', 'to', 'detail'], events.map((e) => [e.at.toISOString(), e.fromStatus, e.toStatus, e.detail ? JSON.stringify(e.detail) : ''])));
}

export async function retryJob(ctx: CliContext, id: string, o: { json?: boolean }, out: Out): Promise<void> {
  const copy = await retryJobRow(ctx.db, id);
  out(o.json ? json({ id: copy.id, retryOf: copy.retryOf }) : String(copy.id));
}

export async function cancelJob(ctx: CliContext, id: string, o: { wait?: boolean }, out: Out): Promise<void> {
  const { job, ended, message } = await cancelJobRow(ctx, id, 'cli', ctx.config.WORKFLOW_ID_PREFIX);
  out(message);
  if (ended || !o.wait) return;
  const end = await waitUntilFinal(ctx, job.id);
  if (end.status !== 'ERROR') throw new CliError(`job ${job.id} ended ${end.status} before the cancellation took effect`, ExitCode.Failure);
  out(`job ${job.id}: ERROR ${end.errorMessage ?? ''}`.trimEnd());
}

async function waitUntilFinal(ctx: CliContext, id: number): Promise<Job> {
  for (;;) {
    const [job] = await ctx.db.select().from(jobs).where(eq(jobs.id, id));
    if (!job) throw new CliError(`job ${id} not found`, ExitCode.NotFound);
    if (isFinalStatus(job.status)) return job;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Sends an ended job's callback again, with a new delivery id; Temporal retries it. */
export async function redeliverJob(ctx: CliContext, id: string, o: { json?: boolean }, out: Out): Promise<void> {
  const job = await findJob(ctx.db, id);
  if (!callbackUrlOf(job.payload)) throw new CliError(`job ${job.id} has no callbackUrl in its payload`, ExitCode.Failure);
  if (!isFinalStatus(job.status)) throw new CliError(`job ${job.id} is ${job.status}; its callback goes when it ends`, ExitCode.Failure);
  // The job's callback id plus a time: each redelivery is a workflow of its own (a new
  // delivery id), never rejected as a duplicate of the first.
  const workflowId = `${callbackWorkflowId(job.workflowId ?? jobWorkflowId(job.type, job.id, ctx.config.WORKFLOW_ID_PREFIX))}-redeliver-${Date.now()}`;
  await (await ctx.temporal()).workflow.start('deliverJobCallbackWorkflow', {
    taskQueue: jobType(job.type).slaveTaskQueue,
    workflowId,
    args: [{ jobId: job.id, instance: await databaseIdentity(ctx.db) }],
  });
  out(o.json ? json({ id: job.id, workflowId }) : `job ${job.id}: callback redelivery started (workflow ${workflowId})`);
}
