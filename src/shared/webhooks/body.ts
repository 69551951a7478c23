import type { Job, JobItem } from '../db/schema';

/** The JSON a job's callback carries (docs/delivery.md "Delivery"). */
export function callbackBody(job: Job, items: JobItem[], deliveryId: string) {
  return {
    deliveryId,
    jobId: job.id,
    type: job.type,
    status: job.status,
    error: job.errorMessage,
    timing: {
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      completedAt: job.completedAt?.toISOString() ?? null,
      durationMs: job.durationMs,
    },
    items: items.map((i) => ({
      index: i.index,
      status: i.status,
      file: i.filePath,
      url: i.objectUrl,
      sha256: i.sha256,
      bytes: i.bytes,
      hd: i.hd,
      error: i.error,
      // The item's every file: the SD one and its HD twin when upscaled.
      files: i.files ?? [],
    })),
    // What the job used on Grok: generation attempts, and regenerations after moderation.
    cost: {
      attempts: items.reduce((n, i) => n + i.attempts, 0),
      moderationRetries: items.reduce((n, i) => n + i.moderationRetries, 0),
    },
  };
}
