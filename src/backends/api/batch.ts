import type { Logger } from '../../shared/logger';
import type { ImageOptions, VideoOptions } from '../types';
import { imageDataUri, type XaiClient } from './client';
import { usdToTicks } from './cost';
import { sleep } from './poll';
import { videoTicksPerSecond, type Prices } from './prices';
import type { BatchResult } from './schemas';
import { parseToken, serializeToken, tokenCostTicks, type ResumeToken, type TokenRequest } from './token';
import { videoSteps } from './videoPlan';

// A job's items as one batch of xAI's Batch API (docs/backends.md "Browser or API", "route": "batch").
// The order is what makes it safe across crashes: the batch is created empty and its id
// written on the job's row (store.saveBatchId) before any request is added; each item's token
// records its batch request before the requests are added; a resumed run asks xAI which of
// its ids the batch already holds and adds only the others (xAI refuses an id twice). So a
// batch is never created twice for a job, nor an item added to it twice.
//
// Results are read as they finish and each file is downloaded at once: batch result URLs live
// one hour (limits.ts), so nothing waits for the whole batch before downloading. The item's
// row then holds the file; generateItem finds it there and completes the item without a call.

export interface BatchItem {
  index: number;
  prompt: string;
  token: string | null;
  downloadPath: string;
}

export interface BatchJob {
  jobId: number;
  kind: 'video' | 'image';
  video?: VideoOptions;
  image?: ImageOptions;
  items: BatchItem[];
}

/** What the activity gives the backend: the job's row and its items' rows. */
export interface BatchStore {
  /** The batch id on the job's row (null: none yet). */
  batchId: string | null;
  /** Writes the id on the job's row; resolves once it is committed. */
  saveBatchId(id: string): Promise<void>;
  saveToken(index: number, token: string): Promise<void>;
  recordCost(index: number, ticks: string): Promise<void>;
  /** Called on every look at the batch: the activity heartbeats here. */
  progress(done: number, total: number, message: string): void;
}

export interface BatchSettings {
  client: XaiClient;
  prices: Prices;
  pollIntervalMs: number;
  logger: Logger;
}

/** The batch request id of an item: unique in its job's batch. */
const requestId = (index: number) => `item-${index}`;

/** Runs the job's batch to its end: created (or found), filled, watched, every result downloaded. */
export async function runBatch(s: BatchSettings, job: BatchJob, store: BatchStore, signal?: AbortSignal): Promise<{ batchId: string | null; added: number }> {
  const tokens = new Map(job.items.map((i) => [i.index, parseToken(i.token)]));
  const inBatch = (t: ResumeToken): TokenRequest | undefined => {
    const r = t.requests.at(-1);
    return r?.kind === 'batch' ? r : undefined;
  };
  // An item with requests of another kind already (a direct try) stays out of the batch.
  const members = job.items.filter((i) => { const t = tokens.get(i.index)!; return t.requests.length === 0 || inBatch(t) !== undefined; });
  const open = () => members.filter((i) => !inBatch(tokens.get(i.index)!)?.end || needsFile(inBatch(tokens.get(i.index)!)!));
  if (open().length === 0) return { batchId: store.batchId, added: 0 };

  let batchId = store.batchId;
  if (!batchId) {
    signal?.throwIfAborted();
    batchId = await s.client.createBatch(`grokflow job ${job.jobId}`, signal);
    await store.saveBatchId(batchId);
    s.logger.info({ jobId: job.jobId, batchId, items: members.length }, 'xAI batch created');
  }

  // Each item records its batch request before the requests are sent.
  for (const item of members) {
    const t = tokens.get(item.index)!;
    if (inBatch(t)) continue;
    t.requests.push({ id: `${batchId}/${requestId(item.index)}`, kind: 'batch' });
    await store.saveToken(item.index, serializeToken(t));
  }
  const pending = members.filter((i) => !inBatch(tokens.get(i.index)!)!.end);
  let added = 0;
  if (pending.length > 0) {
    const present = await s.client.batchRequestIds(batchId, signal);
    const missing = pending.filter((i) => !present.has(requestId(i.index)));
    if (missing.length > 0) {
      const requests = await Promise.all(missing.map(async (i) => ({ id: requestId(i.index), kind: job.kind, body: await requestBody(s.client, job, i.prompt) })));
      await s.client.addBatchRequests(batchId, requests, signal);
      added = missing.length;
      s.logger.info({ jobId: job.jobId, batchId, added }, 'xAI batch requests added');
    }
  }

  for (;;) {
    const results = new Map((await s.client.batchResults(batchId, signal)).map((r) => [r.batch_request_id, r]));
    for (const item of open()) {
      const t = tokens.get(item.index)!;
      const r = inBatch(t)!;
      const result = results.get(requestId(item.index));
      if (!result && !r.end) continue;
      if (!r.end) settle(s, job, r, result!);
      if (needsFile(r)) {
        const got = await s.client.download(r.urls![0]!, item.downloadPath, signal);
        r.file = { sha256: got.sha256, bytes: got.bytes };
      }
      await store.saveToken(item.index, serializeToken(t));
      await store.recordCost(item.index, String(tokenCostTicks(t)));
    }
    const left = open().length;
    store.progress(members.length - left, members.length, `batch ${batchId}: ${members.length - left} of ${members.length} done`);
    if (left === 0) return { batchId, added };
    await sleep(s.pollIntervalMs, signal);
  }
}

/** A done request whose file is not on disk yet. */
function needsFile(r: TokenRequest): boolean {
  return r.end === 'done' && !r.file;
}

/** One batch result onto its item's request: how it ended, its URL, xAI's cost (else the table's). */
function settle(s: BatchSettings, job: BatchJob, r: TokenRequest, result: BatchResult): void {
  const { response, error } = result.batch_result;
  const video = response?.video_generation;
  const image = response?.image_generation;
  if (error || (!video && !image)) {
    r.end = 'failed';
    r.error = { ...(error?.code ? { code: error.code } : {}), message: error?.message ?? 'xAI gave the batch request no result' };
    return;
  }
  if (video) {
    if (video.status !== 'done' || !video.video) {
      r.end = video.status === 'expired' ? 'expired' : 'failed';
      r.error = { ...(video.error?.code ? { code: video.error.code } : {}), message: video.error?.message ?? `the batch request ended ${video.status}` };
      return;
    }
    r.end = video.video.respect_moderation === false ? 'moderated' : 'done';
    r.urls = [video.video.url];
    if (video.video.duration != null) r.seconds = video.video.duration;
    const v = job.video!;
    r.costTicks = video.usage?.cost_in_usd_ticks ?? videoSteps(v.duration, undefined)[0]! * videoTicksPerSecond(s.prices, v.model ?? s.client.videoModel, v.resolution);
    return;
  }
  r.end = image!.data.some((d) => d.respect_moderation === false) ? 'moderated' : 'done';
  r.urls = image!.data.map((d) => d.url);
  r.costTicks = image!.usage?.cost_in_usd_ticks ?? usdToTicks(s.prices.XAI_IMAGE_USD);
}

async function requestBody(client: XaiClient, job: BatchJob, prompt: string): Promise<Record<string, unknown>> {
  if (job.kind === 'image') return client.imageBody({ prompt, n: 1, resolution: job.image?.resolution });
  const v = job.video!;
  return client.videoBody({
    prompt,
    model: v.model,
    duration: videoSteps(v.duration, undefined)[0],
    aspectRatio: v.aspectRatio,
    resolution: v.resolution,
    image: v.imagePath ? await imageDataUri(v.imagePath) : undefined,
    referenceImages: v.referenceImages ? await Promise.all(v.referenceImages.map((ref, n) => (/^https:/i.test(ref) ? ref : imageDataUri(ref, `referenceImages.${n}`)))) : undefined,
  });
}
