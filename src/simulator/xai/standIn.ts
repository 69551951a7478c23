import crypto from 'node:crypto';
import { usdToTicks } from '../../backends/api/cost';
import {
  EXTENSION_MAX_RESOLUTION, EXTENSION_SECONDS, EXTENSION_SOURCE_SECONDS, GENERATION_SECONDS, IMAGE_RESOLUTIONS, isVideoModel,
  MAX_EDIT_INPUT_SECONDS, MAX_IMAGES_PER_CALL, MAX_REFERENCE_IMAGES, VIDEO_MODELS,
} from '../../backends/api/limits';
import { mp4Seconds } from '../../backends/api/mp4Duration';
import { DEFAULT_VIDEO_PRICES, parseVideoPrices, type VideoPriceTable } from '../../backends/api/prices';
import { XaiBatches } from './batches';
import { parseXaiScenario, type XaiScenario } from './scenarios';

// The stand-in of xAI's Imagine API (docs/backends.md "Browser or API"): the paths, bodies, statuses,
// error codes and Retry-After of https://api.x.ai/v1 as grokflow's API backend uses them,
// in memory, with the prompt markers of scenarios.ts. No HTTP here (routes.ts): each call
// returns the status, headers and body to send, so the rules read in one place.

/** The key the stand-in accepts unless told otherwise; what `npm start` uses without XAI_API_KEY. */
export const STAND_IN_API_KEY = 'xai-simulator-key';

export type XaiEndpoint = 'videos/generations' | 'videos/extensions' | 'videos/edits' | 'images/generations';
export type XaiVideoEndpoint = Exclude<XaiEndpoint, 'images/generations'>;

export interface XaiStandInOptions {
  /** Keys accepted as `Authorization: Bearer <key>`; default [STAND_IN_API_KEY]. */
  apiKeys?: string[];
  /** Time of one video generation or extension (default 3000 ms). */
  generationMs?: number;
  /** Time of one image generation (default 200 ms). */
  imageMs?: number;
  /** How long a generated file's URL serves it (default 1 h): xAI's URLs are temporary. */
  urlTtlMs?: number;
  /** Video submissions accepted per second across keys; more answer 429 (default: no limit). */
  maxSubmissionsPerSecond?: number;
  /** What the stand-in charges per second of video, by model and resolution (default: grokflow's XAI_VIDEO_PRICES default). */
  videoPrices?: string;
  /** What one image costs, in ticks (default $0.02). */
  imageTicks?: number;
  /** A batch request's price as a share of the direct one (default 0.5: xAI's batch discount). */
  batchPriceShare?: number;
}

/** One POST as it arrived, accepted or not. */
export interface XaiSubmission {
  at: number;
  endpoint: XaiEndpoint;
  /** The prompt with the markers stripped. */
  prompt: string;
  rawPrompt: string;
  /** The HTTP status answered. */
  status: number;
  requestId?: string;
}

export interface XaiVideoRequest {
  id: string;
  endpoint: XaiVideoEndpoint;
  model: string;
  prompt: string;
  scenario: XaiScenario;
  /** Seconds asked for (an extension: the seconds added). */
  duration: number;
  /** Length of the finished video: an extension adds to the video it extends. */
  length: number;
  resolution: string;
  aspectRatio: string;
  /** Image-to-video: the image's URL, or `data:` when an upload (not kept: only its kind). */
  image?: 'url' | 'data';
  /** Reference-to-video: how many reference images. */
  references?: number;
  /** Billed seconds (an edit: its input's length; an extension: the seconds added). */
  billedSeconds: number;
  /** A share of the price (a batch request's discount); 1 for direct calls. */
  priceShare: number;
  /** An extension: the video it extends. */
  videoUrl?: string;
  startedAt: number;
  durationMs: number;
  moderated: boolean;
  polls: number;
  /** Where the file is served once done. */
  mediaToken: string;
}

interface Media {
  file: 'video' | 'image';
  expiresAt: number;
  requestId: string;
  downloads: number;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const IMAGE_MODELS = ['grok-imagine-image'];
const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4', '3:2', '2:3'];
const int = (v: unknown): v is number => Number.isInteger(v);

const invalid = (message: string): Answer => ({ status: 400, body: { code: 'invalid_argument', error: message } });

export class XaiStandIn {
  /** `<simulator url>/v1`: what XAI_BASE_URL names to reach the stand-in; set once listening. */
  baseUrl = '';
  readonly keys: Set<string>;
  readonly submissions: XaiSubmission[] = [];
  readonly requests = new Map<string, XaiVideoRequest>();
  /** The Batch API (batches.ts), sharing these rules. */
  readonly batches: XaiBatches;
  /** Every call to /v1/… by `METHOD path-pattern`: the bench's "requests made". */
  readonly calls = new Map<string, number>();
  private readonly media = new Map<string, Media>();
  private readonly tries = new Map<string, number>();
  private readonly o: Required<Omit<XaiStandInOptions, 'apiKeys' | 'maxSubmissionsPerSecond' | 'videoPrices'>> & Pick<XaiStandInOptions, 'maxSubmissionsPerSecond'>;
  private readonly prices: VideoPriceTable;

  constructor(options: XaiStandInOptions = {}) {
    this.keys = new Set(options.apiKeys ?? [STAND_IN_API_KEY]);
    this.o = {
      generationMs: options.generationMs ?? 3000,
      imageMs: options.imageMs ?? 200,
      urlTtlMs: options.urlTtlMs ?? 3_600_000,
      imageTicks: options.imageTicks ?? usdToTicks(0.02),
      batchPriceShare: options.batchPriceShare ?? 0.5,
      maxSubmissionsPerSecond: options.maxSubmissionsPerSecond,
    };
    this.prices = parseVideoPrices(options.videoPrices ?? DEFAULT_VIDEO_PRICES);
    this.batches = new XaiBatches(this);
  }

  /** Counts one call to the API (routes.ts). */
  count(method: string, pathname: string): void {
    const key = `${method} ${pathname.replace(/^\/v1\/videos\/(?!generations|extensions|edits)[^/]+$/, '/v1/videos/{id}').replace(/^\/v1\/batches\/[^/]+/, '/v1/batches/{id}')}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Calls to the API so far, all or those whose key starts with `prefix` (`POST /v1/videos`). */
  callsMade(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.calls) if (k.startsWith(prefix)) n += v;
    return n;
  }

  /** A batch request's share of the direct price. */
  get batchPriceShare(): number {
    return this.o.batchPriceShare;
  }

  /** The URL lifetime of generated files (a batch's results live as long). */
  get urlTtlMs(): number {
    return this.o.urlTtlMs;
  }

  /** A key the stand-in accepts. */
  get apiKey(): string {
    return [...this.keys][0] ?? '';
  }

  /** Submissions the stand-in accepted (it answered a request id or images), of one clean prompt or all. */
  accepted(prompt?: string, endpoint?: XaiEndpoint): XaiSubmission[] {
    return this.submissions.filter((s) => s.status === 200 && (prompt === undefined || s.prompt === prompt) && (endpoint === undefined || s.endpoint === endpoint));
  }

  /** From now on, `key` is answered 401 (a key revoked in xAI's console). */
  revokeKey(key: string): void {
    this.keys.delete(key);
  }

  /** 401 unless the bearer key is one of ours. The message names the key as sent, as the worst API would. */
  authorize(header: string | undefined): Answer | undefined {
    const key = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    if (!key) return { status: 401, body: { code: 'unauthenticated', error: 'No API key provided. Send it as "Authorization: Bearer <key>".' } };
    if (!this.keys.has(key)) return { status: 401, body: { code: 'unauthenticated', error: `Incorrect API key provided: ${key}. Obtain an API key from https://console.x.ai.` } };
    return undefined;
  }

  /** POST /videos/generations, /videos/extensions and /videos/edits (and a batch's video requests, `priceShare` < 1). */
  submitVideo(endpoint: XaiVideoEndpoint, body: Record<string, unknown>, priceShare = 1): Answer {
    const rawPrompt = typeof body.prompt === 'string' ? body.prompt : '';
    const { prompt, scenario } = parseXaiScenario(rawPrompt);
    const refuse = this.refusal(endpoint, prompt, rawPrompt, scenario);
    if (refuse) return refuse;
    const checked = this.videoProblem(endpoint, body, prompt);
    if (typeof checked === 'string') return this.record(endpoint, prompt, rawPrompt, invalid(checked));
    const r = this.startVideo(endpoint, body, prompt, scenario, checked, priceShare);
    return this.record(endpoint, prompt, rawPrompt, { status: 200, body: { request_id: r.id } }, r.id);
  }

  /** A video request accepted: generating from now. */
  startVideo(endpoint: XaiVideoEndpoint, body: Record<string, unknown>, prompt: string, scenario: XaiScenario, source: { length?: number; resolution?: string; aspectRatio?: string }, priceShare: number): XaiVideoRequest {
    const model = body.model as string;
    const duration = endpoint === 'videos/edits' ? source.length! : (body.duration as number | undefined) ?? (endpoint === 'videos/extensions' ? EXTENSION_SECONDS.default : 6);
    const attempt = this.tries.get(`${endpoint}|${prompt}`) ?? 1;
    const asked = String(body.resolution ?? '480p');
    const request: XaiVideoRequest = {
      id: crypto.randomUUID(),
      endpoint,
      model,
      prompt,
      scenario,
      duration,
      billedSeconds: duration,
      priceShare,
      length: endpoint === 'videos/edits' ? duration : (source.length ?? 0) + duration,
      // An extension or an edit keeps its source's resolution, capped at 720p.
      resolution: source.resolution ? capAt720(source.resolution) : asked,
      aspectRatio: source.aspectRatio ?? String(body.aspect_ratio ?? '16:9'),
      image: body.image === undefined ? undefined : String((body.image as { url: string }).url).startsWith('data:') ? 'data' : 'url',
      references: Array.isArray(body.reference_images) ? body.reference_images.length : undefined,
      videoUrl: endpoint === 'videos/generations' ? undefined : String((body.video as { url: string }).url).slice(0, 200),
      startedAt: Date.now(),
      durationMs: scenario.slowMs ?? this.o.generationMs,
      moderated: scenario.moderate !== undefined && attempt <= scenario.moderate,
      polls: 0,
      mediaToken: crypto.randomUUID(),
    };
    this.requests.set(request.id, request);
    return request;
  }

  /** xAI's 400 message for a video body, or what its source video is (an extension's, an edit's). */
  videoProblem(endpoint: XaiVideoEndpoint, body: Record<string, unknown>, prompt: string): string | { length?: number; resolution?: string; aspectRatio?: string } {
    const model = body.model;
    if (typeof model !== 'string' || !isVideoModel(model)) return `Model "${String(model)}" does not exist or does not generate videos`;
    const spec = VIDEO_MODELS[model];
    if (endpoint === 'videos/generations') {
      const refs = body.reference_images;
      const problem =
        !prompt && body.image === undefined ? 'prompt: required when no image is given'
        : body.duration !== undefined && (!int(body.duration) || body.duration < GENERATION_SECONDS.min || body.duration > GENERATION_SECONDS.max) ? `duration: ${JSON.stringify(body.duration)} is not an integer from ${GENERATION_SECONDS.min} to ${GENERATION_SECONDS.max}`
        : body.aspect_ratio !== undefined && !ASPECT_RATIOS.includes(String(body.aspect_ratio)) ? `aspect_ratio: "${String(body.aspect_ratio)}" is not one of ${ASPECT_RATIOS.join(', ')}`
        : body.resolution !== undefined && !(spec.resolutions as readonly string[]).includes(String(body.resolution)) ? `resolution: "${String(body.resolution)}" is not supported by ${model} (${spec.resolutions.join(', ')})`
        : refs !== undefined && (!Array.isArray(refs) || refs.length < 1 || refs.length > MAX_REFERENCE_IMAGES) ? `reference_images: between 1 and ${MAX_REFERENCE_IMAGES} images`
        : refs !== undefined && body.image !== undefined ? 'reference_images: cannot be combined with image'
        : imageProblem(body.image) ?? (Array.isArray(refs) ? refs.map((r, i) => imageProblem(r, `reference_images[${i}]`)).find(Boolean) : undefined);
      return problem ?? {};
    }
    if (endpoint === 'videos/extensions') {
      if (!spec.extends) return `Model "${model}" does not support video extension; use grok-imagine-video`;
      if (body.duration !== undefined && (!int(body.duration) || body.duration < EXTENSION_SECONDS.min || body.duration > EXTENSION_SECONDS.max)) {
        return `duration: ${JSON.stringify(body.duration)} is not an integer from ${EXTENSION_SECONDS.min} to ${EXTENSION_SECONDS.max} (the seconds the extension adds)`;
      }
      if (body.aspect_ratio !== undefined || body.resolution !== undefined) return 'aspect_ratio and resolution are not supported for video extension: the output matches the input video';
    }
    const video = videoProblem(body.video);
    if (video) return video;
    const source = this.sourceVideo(String((body.video as { url: string }).url));
    if (!source) return 'video.url: the video could not be fetched or read as an mp4';
    if (endpoint === 'videos/extensions' && (source.length < EXTENSION_SOURCE_SECONDS.min || source.length > EXTENSION_SOURCE_SECONDS.max)) {
      return `video: the input video is ${source.length} s; it must be between ${EXTENSION_SOURCE_SECONDS.min} and ${EXTENSION_SOURCE_SECONDS.max} seconds`;
    }
    if (endpoint === 'videos/edits' && source.length > MAX_EDIT_INPUT_SECONDS) return `video: the input video is ${source.length} s; at most ${MAX_EDIT_INPUT_SECONDS} s can be edited`;
    return source;
  }

  /** A video's length and look: one of ours by its URL, or an uploaded mp4 by its movie header. */
  private sourceVideo(url: string): { length: number; resolution?: string; aspectRatio?: string } | undefined {
    const data = /^data:video\/mp4;base64,(.+)$/.exec(url);
    if (data) {
      const seconds = mp4Seconds(Buffer.from(data[1]!, 'base64'));
      return seconds === undefined ? undefined : { length: seconds };
    }
    const ours = this.videoAt(url);
    return ours ? { length: ours.length, resolution: ours.resolution, aspectRatio: ours.aspectRatio } : undefined;
  }

  /** What a finished request is billed: its seconds at its model × resolution, times its share. */
  videoCost(r: XaiVideoRequest): number {
    const usd = this.prices[r.model]?.[r.resolution as keyof VideoPriceTable[string]] ?? 0;
    return Math.round(r.billedSeconds * usdToTicks(usd) * r.priceShare);
  }

  /** GET /videos/{id}: pending with progress, then done | expired | failed. */
  videoStatus(id: string, origin: string): Answer {
    const r = this.requests.get(id);
    if (!r) return { status: 404, body: { code: 'not_found', error: `No video request with id ${id}` } };
    r.polls += 1;
    if (r.scenario.pollError && r.polls === 1) return { status: 503, body: { code: 'unavailable', error: 'The service is temporarily unavailable' } };
    const elapsed = Date.now() - r.startedAt;
    if (r.scenario.stuck || elapsed < r.durationMs) {
      const progress = r.scenario.stuck ? 50 : Math.min(99, Math.floor((elapsed / r.durationMs) * 100));
      return { status: 200, body: { status: 'pending', model: r.model, progress } };
    }
    return { status: 200, body: this.videoResult(r, origin) };
  }

  /** A finished request's answer (also a batch's result for it). */
  videoResult(r: XaiVideoRequest, origin: string): Record<string, unknown> {
    if (r.scenario.expired) return { status: 'expired', model: r.model };
    if (r.scenario.failed) return { status: 'failed', model: r.model, error: { code: 'generation_failed', message: 'Video generation failed' } };
    // The URL lives urlTtlMs from when the video was done, however late it is first asked for.
    if (!this.media.has(r.mediaToken)) this.media.set(r.mediaToken, { file: 'video', expiresAt: r.startedAt + r.durationMs + this.o.urlTtlMs, requestId: r.id, downloads: 0 });
    return {
      status: 'done',
      model: r.model,
      progress: 100,
      video: { url: `${origin}/xai-media/${r.mediaToken}/video.mp4`, duration: r.length, respect_moderation: !r.moderated },
      usage: { cost_in_usd_ticks: this.videoCost(r) },
    };
  }

  /** Whether a request has finished generating (a batch counts it then). */
  finished(r: XaiVideoRequest): boolean {
    return !r.scenario.stuck && Date.now() - r.startedAt >= r.durationMs;
  }

  /** POST /images/generations: synchronous; the caller waits `imageDelayMs` before sending the answer. */
  submitImage(body: Record<string, unknown>, origin: string, priceShare = 1): Answer & { delayMs: number } {
    const rawPrompt = typeof body.prompt === 'string' ? body.prompt : '';
    const { prompt, scenario } = parseXaiScenario(rawPrompt);
    const endpoint = 'images/generations';
    const refuse = this.refusal(endpoint, prompt, rawPrompt, scenario);
    if (refuse) return { ...refuse, delayMs: 0 };
    const n = body.n ?? 1;
    const problem =
      typeof body.model !== 'string' || !IMAGE_MODELS.includes(body.model) ? `Model "${String(body.model)}" does not exist or does not generate images`
      : !prompt ? 'prompt: required'
      : !Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_IMAGES_PER_CALL ? `n: ${JSON.stringify(n)} is not an integer from 1 to ${MAX_IMAGES_PER_CALL}`
      : body.resolution !== undefined && !(IMAGE_RESOLUTIONS as readonly string[]).includes(String(body.resolution)) ? `resolution: "${String(body.resolution)}" is not one of ${IMAGE_RESOLUTIONS.join(', ')}`
      : body.response_format !== undefined && body.response_format !== 'url' && body.response_format !== 'b64_json' ? `response_format: "${String(body.response_format)}" is not url or b64_json`
      : undefined;
    if (problem) return { ...this.record(endpoint, prompt, rawPrompt, invalid(problem)), delayMs: 0 };
    const attempt = this.tries.get(`${endpoint}|${prompt}`)!;
    const moderated = scenario.moderate !== undefined && attempt <= scenario.moderate;
    const requestId = crypto.randomUUID();
    const data = Array.from({ length: n as number }, () => {
      const token = crypto.randomUUID();
      this.media.set(token, { file: 'image', expiresAt: Date.now() + this.o.urlTtlMs, requestId, downloads: 0 });
      return { url: `${origin}/xai-media/${token}/image.jpg`, revised_prompt: prompt, ...(moderated ? { respect_moderation: false } : {}) };
    });
    const usage = { cost_in_usd_ticks: Math.round((n as number) * this.o.imageTicks * priceShare) };
    return { ...this.record(endpoint, prompt, rawPrompt, { status: 200, body: { data, usage } }, requestId), delayMs: scenario.slowMs ?? this.o.imageMs };
  }

  /** A generated file by its temporary URL's token; undefined once expired or unknown. */
  mediaFile(token: string, count: boolean): Media['file'] | undefined {
    const m = this.media.get(token);
    if (!m || m.expiresAt <= Date.now()) return undefined;
    if (count) m.downloads += 1;
    return m.file;
  }

  /** Whole-file downloads of a request's files. */
  downloads(requestId: string): number {
    let n = 0;
    for (const m of this.media.values()) if (m.requestId === requestId) n += m.downloads;
    return n;
  }

  /** Rate limit, 5xx and invalid markers: the answers given before a body is even read. */
  private refusal(endpoint: XaiEndpoint, prompt: string, rawPrompt: string, scenario: XaiScenario): Answer | undefined {
    const key = `${endpoint}|${prompt}`;
    const attempt = (this.tries.get(key) ?? 0) + 1;
    this.tries.set(key, attempt);
    if (scenario.ratelimitS !== undefined && attempt === 1) {
      return this.record(endpoint, prompt, rawPrompt, rateLimited(scenario.ratelimitS));
    }
    if (this.o.maxSubmissionsPerSecond !== undefined && endpoint !== 'images/generations') {
      const since = Date.now() - 1000;
      const recent = this.submissions.filter((s) => s.endpoint !== 'images/generations' && s.status === 200 && s.at > since).length;
      if (recent >= this.o.maxSubmissionsPerSecond) return this.record(endpoint, prompt, rawPrompt, rateLimited(1));
    }
    if (attempt <= scenario.errors) return this.record(endpoint, prompt, rawPrompt, { status: 500, body: { code: 'internal', error: 'Internal server error' } });
    if (scenario.invalid) return this.record(endpoint, prompt, rawPrompt, invalid('prompt: the prompt could not be processed (#sim:invalid)'));
    return undefined;
  }

  record(endpoint: XaiEndpoint, prompt: string, rawPrompt: string, answer: Answer, requestId?: string): Answer {
    this.submissions.push({ at: Date.now(), endpoint, prompt, rawPrompt, status: answer.status, requestId });
    return answer;
  }

  /** The finished video a URL of ours points at (an extension extends it). */
  private videoAt(url: string): XaiVideoRequest | undefined {
    const token = /\/xai-media\/([0-9a-f-]{36})\/video\.mp4$/.exec(url)?.[1];
    if (!token) return undefined;
    const m = this.media.get(token);
    return m ? this.requests.get(m.requestId) : undefined;
  }
}

function rateLimited(seconds: number): Answer {
  return {
    status: 429,
    headers: { 'retry-after': String(seconds) },
    body: { code: 'rate_limited', error: `Too many requests: try again in ${seconds} s` },
  };
}

function imageProblem(image: unknown, field = 'image'): string | undefined {
  if (image === undefined) return undefined;
  const url = (image as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') return `${field}.url: required when ${field} is given`;
  if (/^data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=]+$/.test(url) || /^https?:\/\//.test(url)) return undefined;
  return `${field}.url: must be an http(s) URL or a data:image/…;base64 URI`;
}

function videoProblem(video: unknown): string | undefined {
  const url = (video as { url?: unknown } | null)?.url;
  if (typeof url !== 'string' || !(/^https?:\/\//.test(url) || url.startsWith('data:video/mp4;base64,'))) return 'video.url: required, an http(s) URL (or a data:video/mp4 URI) of the input video';
  return undefined;
}

function capAt720(resolution: string): string {
  return resolution === '1080p' ? EXTENSION_MAX_RESOLUTION : resolution;
}
