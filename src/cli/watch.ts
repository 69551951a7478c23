import cliProgress from 'cli-progress';
import { eq, inArray } from 'drizzle-orm';
import { Client } from 'pg';
import { jobs } from '../shared/db/schema';
import { jobNotificationOf, LISTEN_JOB_EVENTS, type JobNotification as JobEvent } from '../shared/jobs/notifications';
import { isFinalStatus, UNFINISHED_STATUSES } from '../shared/jobs/statuses';
import { CliError, ExitCode, type CliContext } from './context';

/**
 * Live progress from LISTEN/NOTIFY: bars on a terminal, one line per event otherwise. With
 * an id it returns when that job ends (exit code 0 COMPLETED, 1 ERROR); without, it follows
 * every job until the signal aborts.
 */
export async function watchJobs(ctx: CliContext, id: string | undefined, out: (line: string) => void, signal: AbortSignal): Promise<number> {
  if (id !== undefined && !/^\d+$/.test(id)) throw new CliError(`job id must be a number, got "${id}"`, ExitCode.Usage);
  const only = id === undefined ? undefined : Number(id);
  const listener = new Client({ connectionString: ctx.databaseUrl });
  await listener.connect();
  const tty = process.stdout.isTTY === true;
  const multibar = tty
    ? new cliProgress.MultiBar({ format: ' {bar} {percentage}% | job {id} {status} | {message}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    : undefined;
  const bars = new Map<number, cliProgress.SingleBar>();

  const show = (e: JobEvent, error?: string | null) => {
    const message = error ?? e.message ?? '';
    if (!multibar) return out(`job ${e.id} ${e.status} ${e.progress}%${message ? ` ${message}` : ''}`);
    const bar = bars.get(e.id) ?? multibar.create(100, 0, { id: e.id, status: e.status, message });
    bars.set(e.id, bar);
    bar.update(e.progress, { id: e.id, status: e.status, message });
  };

  try {
    let finish: (code: number) => void = () => undefined;
    const finished = new Promise<number>((resolve) => { finish = resolve; });
    const seen = async (e: JobEvent) => {
      if (only !== undefined && e.id !== only) return;
      let error: string | null = null;
      if (e.status === 'ERROR') [{ error }] = await ctx.db.select({ error: jobs.errorMessage }).from(jobs).where(eq(jobs.id, e.id));
      show(e, error);
      if (only !== undefined && isFinalStatus(e.status)) finish(e.status === 'COMPLETED' ? 0 : 1);
    };
    // One event at a time, in the order Postgres sent them (an ERROR reads its message first).
    let queue = Promise.resolve();
    const enqueue = (e: JobEvent) => {
      queue = queue.then(() => seen(e)).catch(() => undefined);
    };
    // The connection dropping must end the watch with a failure, not hang it or crash it.
    let lost: (err: Error) => void = () => undefined;
    const connectionLost = new Promise<never>((_, reject) => { lost = reject; });
    connectionLost.catch(() => undefined);
    listener.on('error', (err) => lost(new CliError(`lost the database connection: ${err.message}`, ExitCode.Failure)));
    listener.on('end', () => lost(new CliError('the database closed the connection', ExitCode.Failure)));
    // Subscribe first, then read the current state, so no change falls between the two.
    listener.on('notification', (n) => {
      // Not ours (another writer on the channel): ignored.
      const e = jobNotificationOf(n);
      if (e) enqueue(e);
    });
    await listener.query(LISTEN_JOB_EVENTS);

    const current = await ctx.db
      .select()
      .from(jobs)
      .where(only !== undefined ? eq(jobs.id, only) : inArray(jobs.status, UNFINISHED_STATUSES));
    if (only !== undefined && current.length === 0) throw new CliError(`job ${only} not found`, ExitCode.NotFound);
    for (const j of current) enqueue({ id: j.id, type: j.type, status: j.status, from: null, progress: j.progress, message: j.progressMessage });

    const aborted = new Promise<number>((resolve) => signal.addEventListener('abort', () => resolve(ExitCode.Ok), { once: true }));
    return await Promise.race([finished, aborted, connectionLost]);
  } finally {
    multibar?.stop();
    listener.removeAllListeners('end');
    await listener.end().catch(() => undefined);
  }
}
