import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import type { DownloadedFile, Generator, ItemOutcome, ItemRequest, RunOptions } from '../types';
import { imageDataUri, videoDataUri, XaiClient } from './client';
import { runBatch, type BatchJob, type BatchStore } from './batch';
import { groupCall, imageGroup, shareOf } from './imageCalls';
import { usdToTicks } from './cost';
import { XaiError } from './errors';
import { waitForVideo, type FinalVideoState } from './poll';
import { currentChain, parseToken, serializeToken, tokenCostTicks, type ResumeToken, type TokenRequest } from './token';
import { xaiClientSettings } from './target';
import { videoTicksPerSecond } from './prices';
import { stepResolution, videoSteps, type Prices } from './videoPlan';
import { EXTENSION_MAX_RESOLUTION } from './limits';

/** What the item's file is: the resolution asked (480p by default), 720p at most once extended. */
function outputResolution(asked: string | undefined, extended: boolean): string {
  return extended && asked === '1080p' ? EXTENSION_MAX_RESOLUTION : asked ?? '480p';
}

type Save = () => Promise<void>;

export interface ApiGeneratorSettings {
  client: XaiClient;
  pollIntervalMs: number;
  /** How often a running batch is looked at (XAI_BATCH_POLL_INTERVAL_MS). */
  batchPollIntervalMs: number;
  prices: Prices;
  /** The cooldown of a 429 that names no Retry-After. */
  defaultCooldownMs: number;
  logger: Logger;
}

/** The API backend as the slave builds it: the client on XAI_BASE_URL (or the stand-in) and the settings. */
export function apiGenerator(config: Config, deps: { logger: Logger }): ApiGenerator {
  return new ApiGenerator({
    client: new XaiClient(xaiClientSettings(config, { logger: deps.logger })),
    pollIntervalMs: config.XAI_POLL_INTERVAL_MS,
    batchPollIntervalMs: config.XAI_BATCH_POLL_INTERVAL_MS,
    prices: config,
    defaultCooldownMs: config.RATE_LIMIT_COOLDOWN_MS,
    logger: deps.logger,
  });
}

/**
 * The API backend: one item as xAI requests. Every request id is saved through the resume
 * hook before its first poll; a run that finds ids there polls them and submits nothing
 * they already stand for. Only an abort rejects (with the signal's reason); every other
 * end is an outcome carrying the item's cost so far.
 */
export class ApiGenerator implements Generator {
  constructor(private readonly s: ApiGeneratorSettings) {}

  /** The job's items as one batch of xAI's Batch API (batch.ts); the activity gives its rows as `store`. */
  runBatch(job: BatchJob, store: BatchStore, signal?: AbortSignal): Promise<{ batchId: string | null; added: number }> {
    return runBatch({ client: this.s.client, prices: this.s.prices, pollIntervalMs: this.s.batchPollIntervalMs, logger: this.s.logger }, job, store, signal);
  }

  async generate(req: ItemRequest, opts: RunOptions = {}): Promise<ItemOutcome> {
    const token = parseToken(opts.resume?.token);
    const save = async () => opts.resume?.save(serializeToken(token));
    const log = this.s.logger.child({ jobId: req.jobId, item: req.itemIndex });
    let outcome: ItemOutcome;
    try {
      const fromBatch = this.batchOutcome(req, token, opts);
      outcome = fromBatch ? await fromBatch : req.kind === 'image' ? await this.image(req, token, save, opts) : await this.video(req, token, save, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!(err instanceof XaiError)) throw err;
      log.warn({ kind: err.kind, status: err.status }, err.message);
      outcome = this.failure(err);
    }
    // The item's cost so far, every request of it: the row takes it as is (never adds), so a
    // retried attempt reporting the same requests again counts them once.
    return { ...outcome, costUsdTicks: String(tokenCostTicks(token)) };
  }

  async close(): Promise<void> {}

  private async video(req: ItemRequest, token: ResumeToken, save: Save, opts: RunOptions): Promise<ItemOutcome> {
    const v = req.video;
    if (!v) throw new Error(`video item ${req.jobId}/${req.itemIndex} has no video options`);
    const model = v.model ?? this.s.client.videoModel;
    // An edit is one request whose output is as long as its input; else a generation and at
    // most one extension (videoPlan.ts: 2–10 s added, 25 s at most).
    const steps = v.editFile ? [0] : videoSteps(v.duration, v.extendTo);
    const chain = currentChain(token);
    let done: Extract<FinalVideoState, { status: 'done' }> | undefined;
    for (let i = 0; i < steps.length; i++) {
      let r: TokenRequest | undefined = chain[i];
      if (!r) {
        opts.signal?.throwIfAborted();
        const kind: TokenRequest['kind'] = v.editFile ? 'edit' : i === 0 ? 'generation' : 'extension';
        const id = kind === 'edit'
          ? await this.s.client.submitEdit({ prompt: req.prompt, model, videoUrl: await videoDataUri(v.editFile!, 'editOf') }, opts.signal)
          : kind === 'generation'
            ? await this.s.client.submitVideo({
                prompt: req.prompt,
                model,
                duration: steps[0],
                aspectRatio: v.aspectRatio,
                resolution: v.resolution,
                image: v.imagePath ? await imageDataUri(v.imagePath) : undefined,
                referenceImages: v.referenceImages ? await Promise.all(v.referenceImages.map((ref, n) => (/^https:/i.test(ref) ? ref : imageDataUri(ref, `referenceImages.${n}`)))) : undefined,
              }, opts.signal)
            : await this.s.client.submitExtension({ prompt: req.prompt, model, videoUrl: done!.url, duration: steps[i] }, opts.signal);
        r = { id, kind };
        token.requests.push(r);
        chain.push(r);
        // Before the first poll: from here on a retry resumes this id.
        await save();
        this.s.logger.info({ jobId: req.jobId, item: req.itemIndex, requestId: id, step: i, model }, 'xAI request submitted');
      }
      const progress = (p: number) => opts.onProgress?.(((i + p / 100) / steps.length) * 95, 100, i === 0 ? (v.editFile ? 'editing' : 'generating') : 'extending');
      const state = await waitForVideo(this.s.client, r.id, { intervalMs: this.s.pollIntervalMs, signal: opts.signal, onProgress: progress });
      const ended: TokenRequest['end'] = state.status === 'done' ? (state.moderated ? 'moderated' : 'done') : state.status;
      // xAI's figure when it gives one (a moderated video too: it is billed); else what the
      // price table says these seconds cost at this model and resolution.
      const seconds = steps[i] || (state.status === 'done' ? state.durationS ?? 0 : 0);
      const estimate = () => seconds * videoTicksPerSecond(this.s.prices, model, stepResolution(i, v.resolution));
      const cost = state.status === 'done' ? (state.costTicks ?? estimate()) : state.status === 'failed' ? state.costTicks ?? r.costTicks : r.costTicks;
      const error = state.status === 'failed' ? { ...(state.code ? { code: state.code } : {}), message: state.message } : undefined;
      if (r.end !== ended || r.costTicks !== cost || (error && !r.error)) {
        r.end = ended;
        if (cost !== undefined) r.costTicks = cost;
        if (error) r.error = error;
        await save();
      }
      // Not retried by Temporal: a new try is a new request, and xAI may have charged this one.
      // The item fails with xAI's word; `grokflow jobs retry` is the person's call.
      if (state.status === 'expired') return { kind: 'failed', reason: `xAI let request ${r.id} expire before it finished`, retryable: false };
      if (state.status === 'failed') return { kind: 'failed', reason: `xAI: ${state.code ? `${state.code}: ` : ''}${state.message} (request ${r.id})`, retryable: false };
      if (state.moderated) return { kind: 'moderated', message: `xAI moderated the video (respect_moderation: false, request ${r.id})` };
      done = state;
    }
    opts.onProgress?.(96, 100, 'downloading');
    const file = await this.download(done!.url, req.downloadPath, opts.signal);
    const length = done!.durationS ?? steps.reduce((a, b) => a + b, 0);
    return { kind: 'success', files: [file], duration: `${length}s`, resolution: outputResolution(v.resolution, steps.length > 1) };
  }

  private async image(req: ItemRequest, token: ResumeToken, save: Save, opts: RunOptions): Promise<ItemOutcome> {
    let r: TokenRequest | undefined = currentChain(token)[0];
    if (r && !r.end) {
      // The POST of an earlier attempt never answered (the worker died during it). xAI answers
      // images synchronously, with no id to look them up by: it may have been charged; a new
      // request is the only way to the image.
      r.end = 'unanswered';
      await save();
      this.s.logger.warn({ jobId: req.jobId, item: req.itemIndex }, 'an image request of an earlier attempt never answered; requesting again');
      r = undefined;
    }
    const count = req.image?.count ?? 1;
    if (!r && token.requests.length === 0 && count > 1 && opts.shared) {
      // The first try of an item of a many-image job: its group's one call (imageCalls.ts).
      const group = imageGroup(req.itemIndex, count);
      opts.onProgress?.(10, 100, 'generating');
      const c = await groupCall({
        client: this.s.client,
        update: opts.shared.update,
        group,
        request: () => this.s.client.generateImages({ prompt: req.prompt, n: group.size, resolution: req.image?.resolution }, opts.signal),
        fallbackTicksEach: usdToTicks(this.s.prices.XAI_IMAGE_USD),
        signal: opts.signal,
        onWait: () => opts.onProgress?.(10, 100, 'waiting for the group\'s image call'),
      });
      r = {
        id: `${c.id}#${group.position}`,
        kind: 'image',
        urls: [c.urls![group.position]!],
        end: c.moderated?.[group.position] ? 'moderated' : 'done',
        costTicks: shareOf(c.costTicks ?? 0, c.n, group.position),
      };
      token.requests.push(r);
      await save();
    }
    if (!r) {
      opts.signal?.throwIfAborted();
      r = { id: `image-${crypto.randomUUID()}`, kind: 'image' };
      token.requests.push(r);
      await save();
      opts.onProgress?.(10, 100, 'generating');
      const result = await this.s.client.generateImages({ prompt: req.prompt, n: 1, resolution: req.image?.resolution }, opts.signal);
      r.urls = result.urls;
      r.end = result.moderated ? 'moderated' : 'done';
      r.costTicks = result.costTicks ?? usdToTicks(this.s.prices.XAI_IMAGE_USD);
      await save();
    }
    if (r.end === 'moderated') return { kind: 'moderated', message: 'xAI moderated the image (respect_moderation: false)' };
    opts.onProgress?.(90, 100, 'downloading');
    return { kind: 'success', files: [await this.download(r.urls![0]!, req.downloadPath, opts.signal)] };
  }

  /**
   * An item sent in its job's batch (batch.ts): its file is on disk already, downloaded when
   * the result came; a moderated one goes on as a direct try; a failed one keeps xAI's word.
   * Undefined when the item's last request is not a batch request.
   */
  private batchOutcome(req: ItemRequest, token: ResumeToken, opts: RunOptions): Promise<ItemOutcome> | undefined {
    const r = token.requests.at(-1);
    if (r?.kind !== 'batch' || r.end === 'moderated') return undefined;
    return (async (): Promise<ItemOutcome> => {
      if (r.end === undefined) return { kind: 'failed', reason: `batch request ${r.id} has no result yet`, retryable: true };
      if (r.end !== 'done') {
        const said = r.error ? `${r.error.code ? `${r.error.code}: ` : ''}${r.error.message}` : r.end;
        return { kind: 'failed', reason: `xAI: ${said} (batch request ${r.id})`, retryable: false };
      }
      const onDisk = r.file && (await fs.promises.stat(req.downloadPath).catch(() => undefined))?.size === r.file.bytes;
      const file = onDisk
        ? { mediaUrl: r.urls![0]!, filePath: req.downloadPath, sha256: r.file!.sha256, bytes: r.file!.bytes, hd: false as const }
        : await this.download(r.urls![0]!, req.downloadPath, opts.signal);
      const v = req.video;
      return req.kind === 'image'
        ? { kind: 'success', files: [file] }
        : { kind: 'success', files: [file], duration: `${r.seconds ?? videoSteps(v?.duration, undefined)[0]}s`, resolution: v?.resolution ?? '480p' };
    })();
  }

  private async download(url: string, filePath: string, signal?: AbortSignal): Promise<DownloadedFile & { hd: false }> {
    try {
      const got = await this.s.client.download(url, filePath, signal);
      return { mediaUrl: url, filePath, sha256: got.sha256, bytes: got.bytes, hd: false };
    } catch (err) {
      // The URL is temporary and the generation paid for: say so, and never generate again for it.
      if (err instanceof XaiError && err.kind === 'notFound') throw new XaiError('unexpected', `the generated file's temporary URL expired before it was downloaded (${err.message})`);
      throw err;
    }
  }

  private failure(err: XaiError): ItemOutcome {
    switch (err.kind) {
      case 'authRequired':
        return { kind: 'authRequired', message: err.message, renew: 'apiKey' };
      case 'rateLimited':
        return { kind: 'rateLimited', cooldownMs: err.retryAfterMs ?? this.s.defaultCooldownMs, message: err.message };
      case 'unavailable':
        return { kind: 'failed', reason: err.message, retryable: true };
      default:
        return { kind: 'failed', reason: err.message, retryable: false };
    }
  }
}
