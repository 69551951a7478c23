import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import type { Logger } from '../../shared/logger';
import { errorFromStatus, XaiError } from './errors';
import { imageAnswer, submitAnswer, videoAnswer } from './schemas';

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
  /** Seconds, 1–15. */
  duration?: number;
  aspectRatio?: string;
  resolution?: string;
  /** Image-to-video: an http(s) URL or a `data:` URI (imageDataUri). */
  image?: string;
}

export interface ExtensionParams {
  prompt: string;
  /** The video to extend: the URL a done request gave. */
  videoUrl: string;
  /** Seconds to add. */
  duration?: number;
}

export type VideoState =
  | { status: 'pending'; progress?: number }
  | { status: 'done'; url: string; durationS?: number; moderated: boolean; costTicks?: number }
  | { status: 'expired' }
  | { status: 'failed'; message: string };

export interface ImageResult {
  urls: string[];
  moderated: boolean;
  /** What xAI reported, when it did. */
  costTicks?: number;
}

export interface Downloaded {
  sha256: string;
  bytes: number;
  contentType: string;
}

const MIME: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif' };

/** A local image as the `data:` URI xAI takes in `image.url`. */
export async function imageDataUri(file: string): Promise<string> {
  const type = MIME[path.extname(file).toLowerCase()];
  if (!type) throw new XaiError('invalidInput', `imagePath ${file}: not an image xAI reads (${Object.keys(MIME).join(', ')})`);
  const bytes = await fs.promises.readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new XaiError('invalidInput', `imagePath ${file}: cannot be read (${err.code ?? err.message})`);
  });
  return `data:${type};base64,${bytes.toString('base64')}`;
}

export class XaiClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly settings: XaiClientSettings) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = settings.timeoutMs ?? 120_000;
  }

  /** POST /videos/generations: the request id, to be saved before anything else happens. */
  async submitVideo(p: VideoParams, signal?: AbortSignal): Promise<string> {
    const body = {
      model: this.settings.videoModel,
      prompt: p.prompt,
      ...(p.duration !== undefined && { duration: p.duration }),
      ...(p.aspectRatio !== undefined && { aspect_ratio: p.aspectRatio }),
      ...(p.resolution !== undefined && { resolution: p.resolution }),
      ...(p.image !== undefined && { image: { url: p.image } }),
    };
    return (await this.call('POST', '/videos/generations', 'video generation', submitAnswer, body, signal)).request_id;
  }

  /** POST /videos/extensions: the request id of the longer video. */
  async submitExtension(p: ExtensionParams, signal?: AbortSignal): Promise<string> {
    const body = {
      model: this.settings.videoModel,
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
        return { status: 'failed', message: a.error?.message ?? a.error?.code ?? 'xAI reports the generation failed' };
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
  async generateImages(p: { prompt: string; n?: number; aspectRatio?: string }, signal?: AbortSignal): Promise<ImageResult> {
    const body = {
      model: this.settings.imageModel,
      prompt: p.prompt,
      n: p.n ?? 1,
      response_format: 'url',
      ...(p.aspectRatio !== undefined && { aspect_ratio: p.aspectRatio }),
    };
    const a = await this.call('POST', '/images/generations', 'image generation', imageAnswer, body, signal);
    return {
      urls: a.data.map((d) => d.url),
      moderated: a.data.some((d) => d.respect_moderation === false),
      costTicks: a.usage?.cost_in_usd_ticks ?? undefined,
    };
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
    this.settings.logger?.debug({ method, route: route.replace(/\/videos\/[^/]+$/, '/videos/{id}'), status: res.status, ms: Date.now() - startedAt }, 'xAI API call');
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
