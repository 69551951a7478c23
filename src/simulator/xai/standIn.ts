import crypto from 'node:crypto';
import { usdToTicks } from '../../backends/api/cost';
import { parseXaiScenario, type XaiScenario } from './scenarios';

// The stand-in of xAI's Imagine API (README "Browser or API"): the paths, bodies, statuses,
// error codes and Retry-After of https://api.x.ai/v1 as grokflow's API backend uses them,
// in memory, with the prompt markers of scenarios.ts. No HTTP here (routes.ts): each call
// returns the status, headers and body to send, so the rules read in one place.

/** The key the stand-in accepts unless told otherwise; what `npm start` uses without XAI_API_KEY. */
export const STAND_IN_API_KEY = 'xai-simulator-key';

export type XaiEndpoint = 'videos/generations' | 'videos/extensions' | 'images/generations';

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
  /** Price the stand-in charges per second of video, in ticks (default $0.05). */
  videoTicksPerSecond?: number;
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
  endpoint: 'videos/generations' | 'videos/extensions';
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

const VIDEO_MODELS = ['grok-imagine-video'];
const IMAGE_MODELS = ['grok-imagine-image'];
const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4', '3:2', '2:3'];
const RESOLUTIONS = ['480p', '720p'];

const invalid = (message: string): Answer => ({ status: 400, body: { code: 'invalid_argument', error: message } });

export class XaiStandIn {
  /** `<simulator url>/v1`: what XAI_BASE_URL names to reach the stand-in; set once listening. */
  baseUrl = '';
  readonly keys: Set<string>;
  readonly submissions: XaiSubmission[] = [];
  readonly requests = new Map<string, XaiVideoRequest>();
  private readonly media = new Map<string, Media>();
  private readonly tries = new Map<string, number>();
  private readonly o: Required<Omit<XaiStandInOptions, 'apiKeys' | 'maxSubmissionsPerSecond'>> & Pick<XaiStandInOptions, 'maxSubmissionsPerSecond'>;

  constructor(options: XaiStandInOptions = {}) {
    this.keys = new Set(options.apiKeys ?? [STAND_IN_API_KEY]);
    this.o = {
      generationMs: options.generationMs ?? 3000,
      imageMs: options.imageMs ?? 200,
      urlTtlMs: options.urlTtlMs ?? 3_600_000,
      videoTicksPerSecond: options.videoTicksPerSecond ?? usdToTicks(0.05),
      maxSubmissionsPerSecond: options.maxSubmissionsPerSecond,
    };
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

  /** POST /videos/generations and /videos/extensions. */
  submitVideo(endpoint: 'videos/generations' | 'videos/extensions', body: Record<string, unknown>): Answer {
    const extension = endpoint === 'videos/extensions';
    const rawPrompt = typeof body.prompt === 'string' ? body.prompt : '';
    const { prompt, scenario } = parseXaiScenario(rawPrompt);
    const refuse = this.refusal(endpoint, prompt, rawPrompt, scenario);
    if (refuse) return refuse;

    const model = body.model;
    const problem =
      typeof model !== 'string' || !VIDEO_MODELS.includes(model) ? `Model "${String(model)}" does not exist or does not generate videos`
      : !extension && !prompt && body.image === undefined ? 'prompt: required when no image is given'
      : body.duration !== undefined && (!Number.isInteger(body.duration) || (body.duration as number) < 1 || (body.duration as number) > 15) ? `duration: ${JSON.stringify(body.duration)} is not an integer from 1 to 15`
      : !extension && body.aspect_ratio !== undefined && !ASPECT_RATIOS.includes(String(body.aspect_ratio)) ? `aspect_ratio: "${String(body.aspect_ratio)}" is not one of ${ASPECT_RATIOS.join(', ')}`
      : !extension && body.resolution !== undefined && !RESOLUTIONS.includes(String(body.resolution)) ? `resolution: "${String(body.resolution)}" is not one of ${RESOLUTIONS.join(', ')}`
      : imageProblem(body.image)
        ?? (extension ? videoProblem(body.video) : undefined);
    if (problem) return this.record(endpoint, prompt, rawPrompt, invalid(problem));

    const duration = (body.duration as number | undefined) ?? 6;
    const extended = extension ? this.videoAt(String((body.video as { url: string }).url)) : undefined;
    const attempt = this.tries.get(`${endpoint}|${prompt}`)!;
    const request: XaiVideoRequest = {
      id: crypto.randomUUID(),
      endpoint,
      model: model as string,
      prompt,
      scenario,
      duration,
      length: (extended?.length ?? 0) + duration,
      resolution: extended?.resolution ?? String(body.resolution ?? '480p'),
      aspectRatio: extended?.aspectRatio ?? String(body.aspect_ratio ?? '16:9'),
      image: body.image === undefined ? undefined : String((body.image as { url: string }).url).startsWith('data:') ? 'data' : 'url',
      videoUrl: extension ? String((body.video as { url: string }).url) : undefined,
      startedAt: Date.now(),
      durationMs: scenario.slowMs ?? this.o.generationMs,
      moderated: scenario.moderate !== undefined && attempt <= scenario.moderate,
      polls: 0,
      mediaToken: crypto.randomUUID(),
    };
    this.requests.set(request.id, request);
    return this.record(endpoint, prompt, rawPrompt, { status: 200, body: { request_id: request.id } }, request.id);
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
    if (r.scenario.expired) return { status: 200, body: { status: 'expired', model: r.model } };
    if (r.scenario.failed) return { status: 200, body: { status: 'failed', model: r.model, error: { code: 'generation_failed', message: 'Video generation failed' } } };
    if (!this.media.has(r.mediaToken)) this.media.set(r.mediaToken, { file: 'video', expiresAt: Date.now() + this.o.urlTtlMs, requestId: r.id, downloads: 0 });
    return {
      status: 200,
      body: {
        status: 'done',
        model: r.model,
        progress: 100,
        video: { url: `${origin}/xai-media/${r.mediaToken}/video.mp4`, duration: r.length, respect_moderation: !r.moderated },
        usage: { cost_in_usd_ticks: r.duration * this.o.videoTicksPerSecond },
      },
    };
  }

  /** POST /images/generations: synchronous; the caller waits `imageDelayMs` before sending the answer. */
  submitImage(body: Record<string, unknown>, origin: string): Answer & { delayMs: number } {
    const rawPrompt = typeof body.prompt === 'string' ? body.prompt : '';
    const { prompt, scenario } = parseXaiScenario(rawPrompt);
    const endpoint = 'images/generations';
    const refuse = this.refusal(endpoint, prompt, rawPrompt, scenario);
    if (refuse) return { ...refuse, delayMs: 0 };
    const n = body.n ?? 1;
    const problem =
      typeof body.model !== 'string' || !IMAGE_MODELS.includes(body.model) ? `Model "${String(body.model)}" does not exist or does not generate images`
      : !prompt ? 'prompt: required'
      : !Number.isInteger(n) || (n as number) < 1 || (n as number) > 10 ? `n: ${JSON.stringify(n)} is not an integer from 1 to 10`
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
    return { ...this.record(endpoint, prompt, rawPrompt, { status: 200, body: { data } }, requestId), delayMs: scenario.slowMs ?? this.o.imageMs };
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

  private record(endpoint: XaiEndpoint, prompt: string, rawPrompt: string, answer: Answer, requestId?: string): Answer {
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

function imageProblem(image: unknown): string | undefined {
  if (image === undefined) return undefined;
  const url = (image as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') return 'image.url: required when image is given';
  if (/^data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=]+$/.test(url) || /^https?:\/\//.test(url)) return undefined;
  return 'image.url: must be an http(s) URL or a data:image/…;base64 URI';
}

function videoProblem(video: unknown): string | undefined {
  const url = (video as { url?: unknown } | null)?.url;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return 'video.url: required, an http(s) URL of the video to extend';
  return undefined;
}
