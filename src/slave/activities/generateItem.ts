import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import { databaseIdentity } from '../../shared/db/instance';
import { jobItems } from '../../shared/db/schema';
import { startJobCallback } from '../../shared/jobCallback';
import { transitionJob } from '../../shared/jobs/transition';
import { projectPath } from '../../shared/config';
import type { VideoPayload } from '../../shared/payloads';
import { FailureType } from '../failures';
import type { FailureOutcome } from '../../backends/browser/types';
import { startProgress } from '../progress';
import { cooldownsTotal, generationSeconds, itemsTotal, moderationRetriesTotal } from '../../shared/metrics';
import { ObjectStore } from '../../shared/storage/objectStore';
import { cooldownRemainingMs, quotaOf, recordAuthError, startCooldown } from './accounts';
import type { Generator, SlaveDeps } from './deps';
import { assertOwnDatabase, type JobRef } from './guard';
import { failOpenItems, isFinal, ITEM_DONE, jobAccount, jobPayload, loadItems, loadJob, setItem } from './jobs';
import { keepLocalCopy, removeLocalCopies, storeItem, type ItemSuccess } from './storeFiles';

type ItemOutcome = FailureOutcome | (ItemSuccess & { duration?: string; resolution?: string });

// An image item is one image: the driver may return several when asked, this job asks for one.
function firstImage(outcome: Awaited<ReturnType<Generator['generateImage']>>): ItemOutcome {
  if (outcome.kind !== 'success') return outcome;
  const image = outcome.images[0];
  if (!image) return { kind: 'failed', reason: 'no image was downloaded', retryable: true };
  return { kind: 'success', hd: false, mediaUrl: image.mediaUrl, filePath: image.filePath, sha256: image.sha256, bytes: image.bytes };
}

export interface ItemResult {
  index: number;
  status: 'COMPLETED' | 'CONTENT_MODERATED';
}

// Termination reaches the activity as a cancellation with one of these reasons; each ends
// differently: terminate runs no workflow code, so this activity records it; a cancel is recorded by the workflow.
const STOP_MESSAGES: Record<string, string> = { NOT_FOUND: 'terminated', CANCELLED: 'cancelled' };

/** The heartbeating activity: one video or image of a job, from prompt to downloaded file. */
export function generateItemActivity({ db, config, logger, generator, client }: SlaveDeps) {
  const store = config.OUTPUT_URL ? new ObjectStore(config) : undefined;
  return async function generateItem({ jobId, instance, index }: JobRef & { index: number }): Promise<ItemResult> {
    const ctx = Context.current();
    await assertOwnDatabase(db, { jobId, instance });
    const job = await loadJob(db, jobId);
    if (isFinal(job)) throw ApplicationFailure.nonRetryable(`job ${jobId} is already ${job.status}`, FailureType.Stopped);
    const items = await loadItems(db, jobId);
    const item = items.find((i) => i.index === index);
    if (!item) throw ApplicationFailure.nonRetryable(`job ${jobId} has no item ${index}`, FailureType.InvalidInput);
    if ((ITEM_DONE as readonly string[]).includes(item.status)) return { index, status: item.status as ItemResult['status'] };

    // Validated against the registry schema of job.type; for an image job the video fields are absent.
    const payload = jobPayload(job) as Partial<VideoPayload>;
    const account = jobAccount(payload, config);
    const log = logger.child({ jobId, workflowId: ctx.info.workflowExecution?.workflowId, item: index, account, attempt: ctx.info.attempt });

    // A cooling account is waited out by Temporal, not by an open browser.
    const cooling = await cooldownRemainingMs(db, account);
    if (cooling > 0) {
      log.warn({ cooldownMs: cooling }, 'account is cooling down; retrying after it');
      throw ApplicationFailure.create({ type: FailureType.RateLimited, message: `account ${account} is cooling down for ${Math.ceil(cooling / 1000)} s`, nextRetryDelay: cooling });
    }
    const quota = await quotaOf(db, account);
    if (quota && quota.left <= 0) {
      throw ApplicationFailure.nonRetryable(`account ${account} has used its daily quota of ${quota.limit}`, FailureType.QuotaExceeded);
    }

    await setItem(db, jobId, index, { status: 'RUNNING', attempts: sql`${jobItems.attempts} + 1` as never });
    const doneBefore = items.filter((i) => i.status === 'COMPLETED' || i.status === 'CONTENT_MODERATED').length;
    const progress = startProgress(db, { jobId, item: index, items: items.length, doneBefore, throttleMs: config.PROGRESS_THROTTLE_MS });
    let stopReason: string | undefined;
    ctx.cancelled.catch((err: unknown) => { stopReason = err instanceof CancelledFailure ? err.message : 'CANCELLED'; });

    const downloadDir = projectPath(path.join(config.DOWNLOADS_DIR, String(jobId)));
    let moderationRetries = item.moderationRetries;
    const startedAt = Date.now();
    try {
      // Regenerating after moderation is a loop here, not a Temporal retry: moderation is an
      // answer, not a fault, and it has its own budget (MODERATION_MAX_RETRIES) and counter.
      for (;;) {
        const common = { jobId: String(jobId), itemIndex: index, account, prompt: item.prompt ?? '' };
        const opts = { signal: ctx.cancellationSignal, onProgress: (current: number, total: number, message: string) => progress.update((current / Math.max(1, total)) * 100, message) };
        const outcome: ItemOutcome = job.type === 'GROK_IMAGE_GENERATION'
          ? firstImage(await generator.generateImage({ ...common, downloadPath: path.join(downloadDir, `${index}.jpg`) }, opts))
          : await generator.generateVideo({
              ...common,
              postUrl: payload.imageUrl,
              imagePath: payload.imagePath,
              duration: payload.duration ?? 'max',
              resolution: payload.resolution,
              aspectRatio: payload.aspectRatio,
              mode: payload.mode,
              extendTo: payload.extend,
              upscale: payload.upscale ?? false,
              deleteAfterDownload: payload.deleteAfterDownload ?? false,
              downloadPath: path.join(downloadDir, `${index}.mp4`),
              owner: `${await databaseIdentity(db)}/${jobId}`,
            }, opts);
        if (ctx.cancellationSignal.aborted) break;

        switch (outcome.kind) {
          case 'success': {
            const files = await storeItem({ db, config, store, logger: log }, { jobId, index, outcome, onStoring: () => progress.update(99, 'storing') });
            const main = files[files.length - 1]!;
            await setItem(db, jobId, index, {
              status: 'COMPLETED', mediaUrl: outcome.mediaUrl, filePath: outcome.filePath, sha256: outcome.sha256,
              bytes: outcome.bytes, hd: outcome.hd, objectUrl: main.url, files, duration: outcome.duration ?? null, resolution: outcome.resolution ?? null, error: null,
            });
            if (store && !keepLocalCopy(config)) {
              await setItem(db, jobId, index, { filePath: null, files: await removeLocalCopies(files) });
            }
            await progress.stop({ percent: 100, message: 'downloaded' });
            itemsTotal.inc({ type: job.type, outcome: 'completed' });
            generationSeconds.observe({ type: job.type }, (Date.now() - startedAt) / 1000);
            log.info({ file: outcome.filePath, object: main.url ?? undefined, bytes: outcome.bytes, sha256: outcome.sha256 }, 'item completed');
            return { index, status: 'COMPLETED' };
          }
          case 'moderated':
            if (moderationRetries >= config.MODERATION_MAX_RETRIES) {
              await setItem(db, jobId, index, { status: 'CONTENT_MODERATED', error: outcome.message });
              itemsTotal.inc({ type: job.type, outcome: 'content_moderated' });
              log.warn({ moderationRetries }, 'content moderated; giving up on this item');
              return { index, status: 'CONTENT_MODERATED' };
            }
            moderationRetries += 1;
            moderationRetriesTotal.inc();
            await setItem(db, jobId, index, { moderationRetries });
            log.warn({ moderationRetries }, 'content moderated; regenerating');
            continue;
          case 'rateLimited':
            await startCooldown(db, account, outcome.cooldownMs);
            cooldownsTotal.inc({ account });
            log.warn({ cooldownMs: outcome.cooldownMs }, 'rate limited; account cooling down');
            throw ApplicationFailure.create({ type: FailureType.RateLimited, message: `account ${account}: ${outcome.message}`, nextRetryDelay: outcome.cooldownMs });
          case 'authRequired':
            await recordAuthError(db, account, outcome.message);
            throw ApplicationFailure.nonRetryable(`account ${account} needs a new login`, FailureType.AuthRequired);
          case 'failed': {
            const where = outcome.artifactsDir ? ` (artifacts: ${outcome.artifactsDir})` : '';
            await setItem(db, jobId, index, { error: `${outcome.reason}${where}` });
            log.error({ retryable: outcome.retryable }, `generation failed: ${outcome.reason}${where}`);
            throw ApplicationFailure.create({ type: FailureType.GenerationFailed, message: `${outcome.reason}${where}`, nonRetryable: !outcome.retryable });
          }
        }
      }
    } catch (err) {
      if (!ctx.cancellationSignal.aborted) throw err;
    } finally {
      await progress.stop();
    }

    // Stopped from outside. The browser context is closed by now (the driver honours the signal).
    const reason = stopReason ?? 'CANCELLED';
    const message = STOP_MESSAGES[reason];
    if (reason === 'NOT_FOUND') {
      // Terminate runs no workflow code: this activity is the one left to record the end.
      await failOpenItems(db, jobId, message!);
      await transitionJob(db, jobId, 'ERROR', { set: { errorMessage: message }, detail: { by: 'slave', reason } });
      // Nor its callback: started here, once per job however many items were running.
      const workflowId = job.workflowId ?? ctx.info.workflowExecution!.workflowId;
      await startJobCallback(client, { jobId, type: job.type, workflowId, instance: instance ?? await databaseIdentity(db), payload: job.payload }, log);
    }
    log.warn({ reason }, message ? `job ${message}` : 'generation stopped');
    throw new CancelledFailure(reason);
  };
}
