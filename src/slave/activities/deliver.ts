import crypto from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { jobCallbacks, jobDeliveries } from '../../shared/db/schema';
import { callbackUrlOf } from '../../shared/payloads';
import { callbackBody } from '../../shared/webhooks/body';
import { CallbackRefused, resolveCallback } from '../../shared/webhooks/callbackAddress';
import { postJson, signBody } from '../../shared/webhooks/post';
import { FailureType } from '../failures';
import type { SlaveDeps } from './deps';
import { assertOwnDatabase, type JobRef } from './guard';
import { isFinal, loadItems, loadJob } from './jobs';

/** A delivery to make: its id (X-Grokflow-Delivery) and the retry settings, from config. */
export interface DeliveryPlan {
  deliveryId: string;
  initialIntervalMs: number;
  maximumIntervalMs: number;
  retryForMs: number;
  attemptTimeoutMs: number;
}

/**
 * A job workflow started before the callback outbox (src/slave/delivery.ts deliverOnJobEnd)
 * sends its callback itself; its job's end may have written an outbox row too (endJob, after
 * the upgrade). Whoever stamps the row first sends it: true when this workflow may (the row
 * is its own, or there is none: the job ended before the outbox existed).
 */
async function takeOutboxRow(db: SlaveDeps['db'], jobId: number, workflowId: string): Promise<boolean> {
  const taken = await db.update(jobCallbacks).set({ startedAt: sql`now()`, workflowId })
    .where(and(eq(jobCallbacks.jobId, jobId), isNull(jobCallbacks.startedAt))).returning({ jobId: jobCallbacks.jobId });
  if (taken.length > 0) return true;
  const [row] = await db.select({ workflowId: jobCallbacks.workflowId }).from(jobCallbacks).where(eq(jobCallbacks.jobId, jobId));
  return !row || row.workflowId === workflowId;
}

/** Retryable unless the receiver said no for good: 4xx other than 408 and 429. */
function finalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

// The job's callback (webhook). WEBHOOK_SECRET is read here from config: it never enters a
// workflow input, a history or a log.
export function deliveryActivities({ db, config, logger }: Pick<SlaveDeps, 'db' | 'config' | 'logger'>) {
  return {
    /**
     * null when the job has no callbackUrl (or, `endOfJob`, when the outbox sends it); else a
     * new delivery id and the retry settings.
     */
    async prepareDelivery(ref: JobRef & { endOfJob?: string }): Promise<DeliveryPlan | null> {
      await assertOwnDatabase(db, ref);
      const job = await loadJob(db, ref.jobId);
      if (!callbackUrlOf(job.payload)) return null;
      if (ref.endOfJob && !(await takeOutboxRow(db, ref.jobId, ref.endOfJob))) return null;
      return {
        deliveryId: crypto.randomUUID(),
        initialIntervalMs: config.WEBHOOK_RETRY_INITIAL_MS,
        maximumIntervalMs: config.WEBHOOK_RETRY_MAX_MS,
        retryForMs: config.WEBHOOK_RETRY_FOR_MS,
        attemptTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
      };
    },

    /** One attempt to POST the ended job's result; each attempt is a job_deliveries row. */
    async deliverCallback({ jobId, instance, deliveryId }: JobRef & { deliveryId: string }): Promise<{ httpStatus: number }> {
      await assertOwnDatabase(db, { jobId, instance });
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const log = logger.child({ jobId, workflowId: ctx.info.workflowExecution?.workflowId, deliveryId, attempt });
      const job = await loadJob(db, jobId);
      const url = callbackUrlOf(job.payload);
      if (!url) throw ApplicationFailure.nonRetryable(`job ${jobId} has no callbackUrl`, FailureType.InvalidInput);
      if (!isFinal(job)) throw ApplicationFailure.nonRetryable(`job ${jobId} is ${job.status}: a callback goes when it ends`, FailureType.InvalidInput);
      // Written first, so an attempt whose worker dies still shows; the answer fills it in.
      const [row] = await db.insert(jobDeliveries).values({ jobId, deliveryId, attempt, error: 'no answer yet' }).returning({ id: jobDeliveries.id });
      const record = (fields: { httpStatus?: number; error: string | null }) => db.update(jobDeliveries).set(fields).where(eq(jobDeliveries.id, row!.id));

      let status: number;
      try {
        if (!config.WEBHOOK_SECRET) throw new CallbackRefused('WEBHOOK_SECRET is not set: callbacks are not sent unsigned');
        const target = await resolveCallback(url, config.WEBHOOK_ALLOW_PRIVATE);
        const body = JSON.stringify(callbackBody(job, await loadItems(db, jobId), deliveryId));
        status = await postJson(target, body, {
          'x-grokflow-delivery': deliveryId,
          'x-grokflow-signature': signBody(body, config.WEBHOOK_SECRET),
        }, config.WEBHOOK_TIMEOUT_MS);
      } catch (err) {
        const message = (err as Error).message;
        await record({ error: message });
        log.warn({ err: message }, 'callback not delivered');
        if (err instanceof CallbackRefused) throw ApplicationFailure.nonRetryable(message, FailureType.WebhookRejected);
        throw ApplicationFailure.retryable(`callback to ${new URL(url).host}: ${message}`, 'WebhookUnreachable');
      }
      const ok = status >= 200 && status < 300;
      await record({ httpStatus: status, error: ok ? null : `HTTP ${status}` });
      if (ok) {
        log.info({ httpStatus: status }, 'callback delivered');
        return { httpStatus: status };
      }
      log.warn({ httpStatus: status }, 'callback answered with an error');
      const message = `callback to ${new URL(url).host} answered HTTP ${status}`;
      if (finalStatus(status)) throw ApplicationFailure.nonRetryable(message, FailureType.WebhookRejected);
      throw ApplicationFailure.retryable(message, 'WebhookFailed');
    },
  };
}
