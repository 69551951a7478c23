import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import type { ItemRequest, RunOptions } from '../../backends/types';
import { projectPath } from '../../shared/config';
import { databaseIdentity } from '../../shared/db/instance';
import { jobItems } from '../../shared/db/schema';
import { endJob } from '../../shared/jobs/endJob';
import { itemsTotal, moderationRetriesTotal } from '../../shared/metrics';
import { ObjectStore } from '../../shared/storage/objectStore';
import { FailureType } from '../failures';
import { enterAccount } from '../item/accountGate';
import { accountWant } from '../../shared/jobs/account';
import type { ItemWait, NoSlot } from '../itemWaits';
import type { ItemSlot } from '../../shared/jobs/reservation';
import { completeItem } from '../item/complete';
import { generationRunning, openPostAhead } from '../item/openAhead';
import { recordCost } from '../item/cost';
import { afterModeration, backToGate, failureFor } from '../item/failures';
import { recordFault } from '../item/recordFault';
import { recordTry } from '../item/recordTry';
import { watchStop } from '../item/stop';
import { FILE_EXTENSION, type ItemPlan } from '../plan';
import { startProgress } from '../progress';
import type { SlaveDeps } from './deps';
import { assertOwnDatabase, type JobRef } from './guard';
import { isFinal, isItemDone, jobPlan, loadItems, loadJob, setItem, type ItemDone } from './jobs';

export interface ItemResult {
  index: number;
  status: ItemDone;
  /** The account it ran on (a pool job's items each choose one): the Web UI's Account. */
  account?: string;
}

/**
 * The heartbeating activity: one video or image of a job, from prompt to stored file, through
 * the backend the job's plan names. Idempotent: an item already done returns its answer.
 */
export function generateItemActivity({ db, config, logger, backends }: SlaveDeps) {
  const store = config.OUTPUT_URL ? new ObjectStore(config) : undefined;
  type Args = JobRef & { index: number; plan?: ItemPlan; slot?: ItemSlot };
  // Counted while it runs: a job starting elsewhere in this process opens its page ahead only
  // while generations are fewer than the worker may run (openAhead.ts).
  return async function generateItem(args: Args): Promise<ItemResult | ItemWait | NoSlot> {
    const ended = generationRunning();
    try {
      return await generateOne(args);
    } finally {
      ended();
    }
  };

  async function generateOne({ jobId, instance, index, plan, slot }: Args): Promise<ItemResult | ItemWait | NoSlot> {
    const ctx = Context.current();
    // The page's work starts now, beside the checks and the account gate below: the item's post
    // opens on the account its job's slot is on (openAhead.ts; a no-op when startJob did it).
    if (ctx.info.attempt === 1 && (slot?.account || plan?.account)) openPostAhead({ db, backends, logger }, { jobId, plan, account: slot?.account });

    await assertOwnDatabase(db, { jobId, instance });
    const job = await loadJob(db, jobId);
    if (isFinal(job)) throw ApplicationFailure.nonRetryable(`job ${jobId} is already ${job.status}`, FailureType.Stopped);
    const items = await loadItems(db, jobId);
    const item = items.find((i) => i.index === index);
    if (!item) throw ApplicationFailure.nonRetryable(`job ${jobId} has no item ${index}`, FailureType.InvalidInput);
    if (isItemDone(item.status)) return { index, status: item.status, ...(item.account ? { account: item.account } : {}) };

    // A workflow started before plans were passed to this activity reads it here.
    const itemPlan = plan ?? jobPlan(job, config).plan.item!;
    const { kind, backend, video } = itemPlan;
    const want = accountWant(itemPlan, config);
    const itemLog = logger.child({ jobId, workflowId: ctx.info.workflowExecution?.workflowId, item: index, backend, attempt: ctx.info.attempt });
    // Kept across accounts: moderation has one budget per item.
    let moderationRetries = item.moderationRetries;
    const prompt = item.prompt ?? '';
    // The backend's resume token lives on the item's row: saved before the backend waits on a
    // request it paid for, read back by the next attempt (and by the next try after moderation).
    let token = item.backendToken;

    // The account gate: a slot on the job's account or on a ready one of its pool, taken
    // before any browser opens; none free: the workflow waits (a timer), using no attempt.
    // A rate limit (or, in a pool, a lost login) sends the item back through the gate.
    // With the job's slot (`slot`, new workflows): the slot is kept after the item while more
    // of the job's items follow, and after a fault (the retry, or the gate after a rate
    // limit, takes it back); released after the job's last item on it.
    for (;;) {
      const gate = await enterAccount({ db, config, logger: itemLog }, { jobId, index, want, resuming: token !== null, ...(slot ? { slot } : {}) });
      if (gate.kind === 'wait' || gate.kind === 'noSlot') return gate;
      let done = false;
      try {
        const result = await generateOn(gate.account, itemLog.child({ account: gate.account }));
        done = result !== AGAIN;
        if (result !== AGAIN) return result;
      } finally {
        if (slot && (slot.keep || !done)) await gate.slot.keep(config.RESERVATION_TTL_MS);
        else await gate.slot.release();
      }
    }

    async function generateOn(account: string, log: typeof logger): Promise<ItemResult | typeof AGAIN> {
      await setItem(db, jobId, index, { status: 'RUNNING', attempts: sql`${jobItems.attempts} + 1` as never });
      const doneBefore = items.filter((i) => isItemDone(i.status)).length;
      const progress = startProgress(db, { jobId, item: index, items: items.length, doneBefore, throttleMs: config.PROGRESS_THROTTLE_MS });
      const stop = watchStop(ctx);
      const request: ItemRequest = {
        kind, jobId, itemIndex: index, account, video, prompt, ...(itemPlan.image && { image: itemPlan.image }),
        downloadPath: projectPath(path.join(config.DOWNLOADS_DIR, String(jobId), `${index}.${FILE_EXTENSION[kind]}`)),
        owner: `${await databaseIdentity(db)}/${jobId}`,
      };
      const run: RunOptions = {
        signal: ctx.cancellationSignal,
        onProgress: (current, total, message) => progress.update((current / Math.max(1, total)) * 100, message),
        resume: {
          get token() { return token; },
          async save(next) {
            await setItem(db, jobId, index, { backendToken: next });
            token = next;
          },
        },
      };
      run.shared = {
        async update(at, change) {
          return db.transaction(async (tx) => {
            const where = and(eq(jobItems.jobId, jobId), eq(jobItems.index, at));
            const [row] = await tx.select({ call: jobItems.xaiSharedCall }).from(jobItems).where(where).for('update');
            const next = change(row?.call ?? null);
            if (next === undefined) return row?.call ?? null;
            await tx.update(jobItems).set({ xaiSharedCall: next }).where(where);
            return next;
          });
        },
      };
      const startedAt = Date.now();
      try {
        for (;;) {
          const outcome = await backends[backend].generate(request, run);
          if (outcome.costUsdTicks !== undefined) await recordCost(db, jobId, index, outcome.costUsdTicks);
          await recordTry(db, { jobId, index, account, backend }, outcome);
          if (ctx.cancellationSignal.aborted) break;
          if (outcome.kind === 'success') {
            await completeItem({ db, config, store, logger: log }, { jobId, index, type: job.type, outcome, progress, startedAt });
            return { index, status: 'COMPLETED', account };
          }
          if (outcome.kind === 'moderated') {
            if (afterModeration(moderationRetries, config.MODERATION_MAX_RETRIES) === 'give up') {
              await setItem(db, jobId, index, { status: 'CONTENT_MODERATED', error: outcome.message });
              itemsTotal.inc({ type: job.type, outcome: 'content_moderated' });
              log.warn({ moderationRetries }, 'content moderated; giving up on this item');
              return { index, status: 'CONTENT_MODERATED', account };
            }
            moderationRetries += 1;
            moderationRetriesTotal.inc();
            await setItem(db, jobId, index, { moderationRetries });
            log.warn({ moderationRetries }, 'content moderated; regenerating');
            continue;
          }
          // A fault: record what the account or the item learned, then let the item go back
          // through the gate (a rate limit; a pool account's lost login) or Temporal decide.
          await recordFault({ db, logger: log }, { jobId, index, account }, outcome);
          if (backToGate(outcome, want)) {
            // Not a fault of the item: the try counts for nothing.
            await setItem(db, jobId, index, { status: 'PENDING', attempts: sql`greatest(0, ${jobItems.attempts} - 1)` as never });
            log.warn(`${outcome.kind === 'rateLimited' ? 'rate limited' : 'needs a new login'}; the item goes back through the account gate`);
            return AGAIN;
          }
          throw failureFor(outcome, account);
        }
      } catch (err) {
        if (!ctx.cancellationSignal.aborted) throw err;
      } finally {
        await progress.stop();
      }

      // Stopped from outside; the backend has closed its browser context (it honours the signal).
      const terminated = await stop.terminated();
      if (terminated) {
        // Terminate runs no workflow code: this activity records the end (endJob writes the
        // callback's outbox row: once per job however many items were running).
        await endJob(db, jobId, { status: 'ERROR', message: stop.message()!, detail: { by: 'slave', reason: stop.reason() } });
      }
      const why = terminated ? `job ${stop.message()}` : stop.reason() === 'NOT_FOUND' ? 'attempt superseded (its workflow runs on)' : stop.message() ? `job ${stop.message()}` : 'generation stopped';
      log.warn({ reason: stop.reason() }, why);
      throw new CancelledFailure(stop.reason());
    }
  }
}

/** generateOn's answer when the item must go back through the account gate. */
const AGAIN = Symbol('again');
