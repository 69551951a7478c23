import { sql } from 'drizzle-orm';
import type { Backends } from '../../backends';
import type { Generator } from '../../backends/types';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import { reservationHolder } from '../../shared/jobs/reservation';
import type { ItemPlan } from '../plan';

// Page work while the slave does its own (issue 24): a video item's post is opened in the
// browser, its options chosen and (when known) its prompt entered — everything before the
// press that spends the account's quota — as soon as the slave knows which account will most
// likely run it: when the job starts (the account it names, or the one the master's claim
// reserved its slot on), and again when an item's activity starts. The page's work then runs
// beside the job's bookkeeping, the workflow's next task and the account gate instead of after
// them. The backend's generate() adopts it when the gate grants that account; otherwise the
// page goes back to the account's ready contexts on its own (GrokDriver.openAhead). Only a
// hint: nothing waits for it, and a failure here changes nothing but the time.

/** Generation activities running in this process now (generateItem counts them). */
let running = 0;

/** Counts a generation activity while it runs; call the returned function when it ends. */
export function generationRunning(): () => void {
  running++;
  let ended = false;
  return () => {
    if (!ended) running--;
    ended = true;
  };
}

/**
 * Opens the item's post ahead on `account`, or, without one, on the job's reserved account.
 * `whenIdle` (a job starting, no activity of its own yet): only while this process runs fewer
 * generations, counting those prepared, than it may (`limit`, SLAVE_CONCURRENT_ACTIVITIES): a
 * job claimed beyond them (an account's slots outnumber the worker's) waits for an activity
 * slot, longer than a page opened for it is kept, and the work would be done twice.
 */
export function openPostAhead(
  deps: { db: Db; backends: Backends; logger: Logger },
  job: { jobId: number; plan: ItemPlan | undefined; account?: string; prompt?: string },
  whenIdle?: { limit: number },
): void {
  const { plan } = job;
  const video = plan?.kind === 'video' ? plan.video : undefined;
  const postUrl = video?.postUrl;
  if (!plan || !video || !postUrl) return;
  const generator: Generator = deps.backends[plan.backend];
  if (!generator.prepare) return;
  if (whenIdle && running + (generator.preparing?.() ?? 0) >= whenIdle.limit) return;
  const named = job.account ?? plan.account;
  const account = named ? Promise.resolve(named) : reservedAccount(deps.db, job.jobId);
  void account.then(
    (a) => {
      if (a) generator.prepare!({ account: a, postUrl, video, ...(job.prompt !== undefined ? { prompt: job.prompt } : {}) });
    },
    (err: unknown) => deps.logger.debug({ jobId: job.jobId, err }, 'no post opened ahead'),
  );
}

/** The account the master's claim reserved the job's slot on (its lease), if any. */
async function reservedAccount(db: Db, jobId: number): Promise<string | undefined> {
  const { rows } = await db.execute<{ account: string }>(sql`SELECT account FROM account_leases WHERE holder = ${reservationHolder(jobId)} LIMIT 1`);
  return rows[0]?.account;
}
