import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import { errorFromStatus, XaiError } from './errors';
import { batchAnswer, batchRequestsAnswer, batchResultsAnswer, imageAnswer, submitAnswer, videoAnswer, type BatchResult } from './schemas';

// A small client of xAI's Imagine API on Node's fetch, each answer validated with zod.
//
// Why not the AI SDK's xai provider: its generateVideo submits and then polls inside one call,
// and hands back the request id only with the finished video. A worker killed while it polls
// would leave grokflow without the id, so the retried activity could only submit again, and
// xAI would charge twice. Here submitting and polling are separate calls: the backend saves
// the id on the item's row between them, and a retry polls that id instead of submitting.
//
// The API key goes in one header of calls to XAI_BASE_URL and nowhere else: never to the
// temporary file URLs (another host), never in an error message or a log line.

export interface XaiClientSettings {
  /** e.g. https://api.x.ai/v1 (no trailing slash needed). */
  baseUrl: string;
  apiKey: string;
  videoModel: string;
  imageModel: string;
  /** Longest one HTTP call may take (an image generation answers only when done); default 120 s. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface VideoParams {
  prompt: string;
  /** Default: the client's videoModel (XAI_VIDEO_MODEL). */
  model?: string;
  /** Seconds, 1–15. */
  duration?: number;
  aspectRatio?: string;
  resolution?: string;
  /** Image-to-video: an http(s) URL or a `data:` URI (imageDataUri). */
  image?: string;
  /** Reference-to-video: up to 7 images, each an https URL or a `data:` URI. */
  referenceImages?: string[];
}

export interface ExtensionParams {
  prompt: string;
  model?: string;
  /** The video to extend: the URL a done request gave. */
  videoUrl: string;
  /** Seconds to add, 2–10. */
  duration?: number;
}

export interface EditParams {
  prompt: string;
  model?: string;
  /** The video to edit (at most 8.7 s): an http(s) URL or a `data:video/mp4` URI (videoDataUri). */
  videoUrl: string;
}

export type VideoState =
  | { status: 'pending'; progress?: number }
  | { status: 'done'; url: string; durationS?: number; moderated: boolean; costTicks?: number }
  | { status: 'expired' }
  | { status: 'failed'; message: string; code?: string; costTicks?: number };

export interface ImageResult {
  urls: string[];
  /** Per image, in order: false when xAI moderated that one. */
  moderatedEach: boolean[];
  moderated: boolean;
  /** What xAI reported, when it did. */
  costTicks?: number;
}

export interface ImageParams {
  prompt: string;
  /** 1–10 images in one call. */
  n?: number;
  aspectRatio?: string;
  /** '1k' | '2k'. */
  resolution?: string;
}

export interface Downloaded {
  sha256: string;
  bytes: number;
  contentType: string;
}

const MIME: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif' };

/** A local image as the `data:` URI xAI takes in `image.url`. */
export async function imageDataUri(file: string, field = 'imagePath'): Promise<string> {
  const type = MIME[path.extname(file).toLowerCase()];
  if (!type) throw new XaiError('invalidInput', `${field} ${file}: not an image xAI reads (${Object.keys(MIME).join(', ')})`);
  return dataUri(file, type, field);
}

/** A local .mp4 as a `data:` URI for `video.url` (an edit of a file grokflow holds). */
export async function videoDataUri(file: string, field = 'editOf'): Promise<string> {
  if (path.extname(file).toLowerCase() !== '.mp4') throw new XaiError('invalidInput', `${field} ${file}: xAI edits .mp4 videos only`);
  return dataUri(file, 'video/mp4', field);
}

async function dataUri(file: string, type: string, field: string): Promise<string> {
  const bytes = await fs.promises.readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new XaiError('invalidInput', `${field} ${file}: cannot be read (${err.code ?? err.message})`);
  });
  return `data:${type};base64,${bytes.toString('base64')}`;
}

export class XaiClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  /** The model of requests that name none (XAI_VIDEO_MODEL). */
  get videoModel(): string {
    return this.settings.videoModel;
  }

  constructor(private readonly settings: XaiClientSettings) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = settings.timeoutMs ?? 120_000;
  }

  /** POST /videos/generations: the request id, to be saved before anything else happens. */
  async submitVideo(p: VideoParams, signal?: AbortSignal): Promise<string> {
    return (await this.call('POST', '/videos/generations', 'video generation', submitAnswer, this.videoBody(p), signal)).request_id;
  }

  /** The JSON body of a video generation, alone or as one request of a batch. */
  videoBody(p: VideoParams): Record<string, unknown> {
    return {
      model: p.model ?? this.settings.videoModel,
      prompt: p.prompt,
      ...(p.duration !== undefined && { duration: p.duration }),
      ...(p.aspectRatio !== undefined && { aspect_ratio: p.aspectRatio }),
      ...(p.resolution !== undefined && { resolution: p.resolution }),
      ...(p.image !== undefined && { image: { url: p.image } }),
      ...(p.referenceImages !== undefined && { reference_images: p.referenceImages.map((url) => ({ url })) }),
    };
  }

  /** POST /videos/edits: the request id of the edited video (docs.x.ai/developers/model-capabilities/video/editing). */
  async submitEdit(p: EditParams, signal?: AbortSignal): Promise<string> {
    const body = { model: p.model ?? this.settings.videoModel, prompt: p.prompt, video: { url: p.videoUrl } };
    return (await this.call('POST', '/videos/edits', 'video edit', submitAnswer, body, signal)).request_id;
  }

  /** POST /videos/extensions: the request id of the longer video. */
  async submitExtension(p: ExtensionParams, signal?: AbortSignal): Promise<string> {
    const body = {
      model: p.model ?? this.settings.videoModel,
      prompt: p.prompt,
      video: { url: p.videoUrl },
      ...(p.duration !== undefined && { duration: p.duration }),
    };
    return (await this.call('POST', '/videos/extensions', 'video extension', submitAnswer, body, signal)).request_id;
  }

  /** GET /videos/{id}: one look at a request; the caller decides how often. */
  async videoState(requestId: string, signal?: AbortSignal): Promise<VideoState> {
    const a = await this.call('GET', `/videos/${encodeURIComponent(requestId)}`, 'video status', videoAnswer, undefined, signal);
    switch (a.status) {
      case 'pending':
        return { status: 'pending', progress: a.progress ?? undefined };
      case 'expired':
        return { status: 'expired' };
      case 'failed':
        // xAI's own code and message are kept: the item's error shows them as xAI said them.
        return {
          status: 'failed',
          message: a.error?.message ?? 'xAI reports the generation failed',
          ...(a.error?.code ? { code: a.error.code } : {}),
          ...(a.usage?.cost_in_usd_ticks != null ? { costTicks: a.usage.cost_in_usd_ticks } : {}),
        };
      case 'done':
        if (!a.video) throw new XaiError('unexpected', `xAI video status: request ${requestId} is done but names no video`);
        return {
          status: 'done',
          url: a.video.url,
          durationS: a.video.duration ?? undefined,
          // Only an explicit false is a refusal: a field xAI leaves out is not one.
          moderated: a.video.respect_moderation === false,
          costTicks: a.usage?.cost_in_usd_ticks ?? undefined,
        };
    }
  }

  /** POST /images/generations: synchronous, answers with temporary URLs. */
  async generateImages(p: ImageParams, signal?: AbortSignal): Promise<ImageResult> {
    const a = await this.call('POST', '/images/generations', 'image generation', imageAnswer, this.imageBody(p), signal);
    return {
      urls: a.data.map((d) => d.url),
      moderatedEach: a.data.map((d) => d.respect_moderation === false),
      moderated: a.data.some((d) => d.respect_moderation === false),
      costTicks: a.usage?.cost_in_usd_ticks ?? undefined,
    };
  }

  /** The JSON body of an image generation, alone or as one request of a batch. */
  imageBody(p: ImageParams): Record<string, unknown> {
    return {
      model: this.settings.imageModel,
      prompt: p.prompt,
      n: p.n ?? 1,
      response_format: 'url',
      ...(p.aspectRatio !== undefined && { aspect_ratio: p.aspectRatio }),
      ...(p.resolution !== undefined && { resolution: p.resolution }),
    };
  }

  /** POST /batches: an empty batch; its id is to be saved before any request is added. */
  async createBatch(name: string, signal?: AbortSignal): Promise<string> {
    return (await this.call('POST', '/batches', 'batch creation', batchAnswer, { name }, signal)).batch_id;
  }

  /** POST /batches/{id}/requests: each `body` under its kind, named by our own id (unique in the batch). */
  async addBatchRequests(batchId: string, requests: Array<{ id: string; kind: 'video' | 'image'; body: Record<string, unknown> }>, signal?: AbortSignal): Promise<void> {
    const batch_requests = requests.map((r) => ({ batch_request_id: r.id, batch_request: { [r.kind === 'video' ? 'video_generation' : 'image_generation']: r.body } }));
    await this.call('POST', `/batches/${encodeURIComponent(batchId)}/requests`, 'batch requests', z.unknown(), { batch_requests }, signal);
  }

  /** GET /batches/{id}/requests: the ids already in the batch (a resumed submission adds only the others). */
  async batchRequestIds(batchId: string, signal?: AbortSignal): Promise<Set<string>> {
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const q = token ? `?pagination_token=${encodeURIComponent(token)}` : '';
      const a = await this.call('GET', `/batches/${encodeURIComponent(batchId)}/requests${q}`, 'batch requests list', batchRequestsAnswer, undefined, signal);
      for (const m of a.batch_request_metadata) ids.add(m.batch_request_id);
      token = a.pagination_token ?? undefined;
    } while (token);
    return ids;
  }

  /** GET /batches/{id}: how many requests are still pending. */
  async batchState(batchId: string, signal?: AbortSignal): Promise<{ requests: number; pending: number }> {
    const a = await this.call('GET', `/batches/${encodeURIComponent(batchId)}`, 'batch status', batchAnswer, undefined, signal);
    return { requests: a.state?.num_requests ?? 0, pending: a.state?.num_pending ?? 0 };
  }

  /** GET /batches/{id}/results: every finished request's result so far, all pages. */
  async batchResults(batchId: string, signal?: AbortSignal): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    let token: string | undefined;
    do {
      const q = `?page_size=100${token ? `&pagination_token=${encodeURIComponent(token)}` : ''}`;
      const a = await this.call('GET', `/batches/${encodeURIComponent(batchId)}/results${q}`, 'batch results', batchResultsAnswer, undefined, signal);
      out.push(...a.results);
      token = a.pagination_token ?? undefined;
    } while (token);
    return out;
  }

  /**
   * Downloads a temporary file URL to `target` (a .part file, then a rename), hashing as it
   * streams. No API key: the URL is on xAI's file host, not the API.
   */
  async download(url: string, target: string, signal?: AbortSignal): Promise<Downloaded> {
    const res = await this.fetch(url, { method: 'GET' }, 'download', signal);
    if (res.status === 403 || res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new XaiError('notFound', `the file URL answered HTTP ${res.status}: it has expired`, res.status);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new XaiError(res.status >= 500 ? 'unavailable' : 'unexpected', `download failed with HTTP ${res.status}`, res.status);
    }
    const contentType = res.headers.get('content-type') ?? '';
    if (!/^(video|image)\//.test(contentType)) {
      await res.body.cancel();
      throw new XaiError('unexpected', `download is ${contentType || 'untyped'}, not a video or an image`);
    }
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const part = `${target}.${process.pid}.part`;
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    source.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    try {
      await pipeline(source, fs.createWriteStream(part), { signal });
    } catch (err) {
      await fs.promises.rm(part, { force: true });
      if (signal?.aborted) throw signal.reason;
      throw new XaiError('unavailable', `download broke off: ${describe(err)}`);
    }
    if (bytes === 0) {
      await fs.promises.rm(part, { force: true });
      throw new XaiError('unavailable', 'download is empty');
    }
    await fs.promises.rename(part, target);
    return { sha256: hash.digest('hex'), bytes, contentType };
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', route: string, what: string, schema: S, body: unknown, signal?: AbortSignal): Promise<z.output<S>> {
    const startedAt = Date.now();
    const res = await this.fetch(`${this.base}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.settings.apiKey}`,
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }, what, signal);
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    this.settings.logger?.debug({ method, route: route.replace(/\/videos\/[^/]+$/, '/videos/{id}').replace(/\/batches\/[^/?]+/, '/batches/{id}'), status: res.status, ms: Date.now() - startedAt }, 'xAI API call');
    if (!res.ok) throw errorFromStatus(res.status, res.headers, json ?? { error: text.slice(0, 200) }, what, (s) => this.scrub(s));
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new XaiError('unexpected', `xAI ${what} answered a body grokflow does not know: ${this.scrub(issues)}`, res.status);
    }
    return parsed.data;
  }

  /** fetch with the call's own time limit; a refused connection or a timeout is `unavailable`, the caller's abort passes through. */
  private async fetch(url: string, init: RequestInit, what: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new XaiError('unavailable', `xAI ${what}: no answer within ${this.timeoutMs} ms`);
      throw new XaiError('unavailable', `xAI ${what}: ${this.scrub(describe(err))}`);
    }
  }

  private scrub(s: string): string {
    return this.settings.apiKey ? s.split(this.settings.apiKey).join('[redacted]') : s;
  }
}

/** fetch's "fetch failed" says little; its cause says what (ECONNREFUSED 127.0.0.1:9). */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const message = err instanceof Error ? err.message : String(err);
  return cause ? `${message} (${cause.code ?? cause.message ?? 'unknown cause'})` : message;
}
