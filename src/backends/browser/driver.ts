import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config';
import { projectPath } from '../../shared/config';
import { grokTarget } from '../../shared/grokTarget';
import { imageFileProblem } from '../../shared/imageFile';
import { StepClock, type ItemSteps } from '../../shared/itemSteps';
import type { ServiceQuota } from '../types';
import { saveArtifacts } from './artifacts';
import { GrokBrowser, type BrowserSettings, type Session } from './browser';
import { ComposerPage } from './composerPage';
import { PostPage, type PostPageTimeouts, type VideoInfo } from './postPage';
import { readQuota } from './quota';
import { URLS } from './selectors';
import {
  failed,
  OutcomeError,
  type DownloadedFile,
  type FailureOutcome,
  type GenerationOutcome,
  type ImageOutcome,
  type ImageRequest,
  type RunOptions,
  type VideoRequest,
  type VideoSuccess,
} from './types';
import { downloadTo, safeMessage, sha256File, withSuffix } from './util';

export * from './types';

export interface DriverTimeouts extends PostPageTimeouts {
  downloadMs: number;
}

export const DEFAULT_TIMEOUTS: DriverTimeouts = {
  navigationMs: 30_000,
  actionMs: 10_000,
  progressStartMs: 30_000,
  stuckMs: 120_000,
  generationMs: 10 * 60_000,
  videoReadyMs: 30_000,
  upscaleMs: 5 * 60_000,
  downloadMs: 120_000,
  // The DOM fallback's poll (no page event says a percentage or a toast appeared without
  // injecting a script); a generation whose stream is read waits on its lines instead (watch.ts).
  pollMs: 50,
};

export interface DriverSettings extends BrowserSettings {
  baseUrl: string;
  artifactsDir: string;
  /** IMAGES_DIR: an imagePath is uploaded only from inside it (imageFile.ts). */
  imagesDir: string;
  rateLimitCooldownMs: number;
  timeouts?: Partial<DriverTimeouts>;
  logger?: Logger;
}

/** Driver settings from the validated configuration: GROK_BASE_URL, or the simulator. */
export function driverSettingsFromConfig(config: Config, overrides: Partial<DriverSettings> = {}): DriverSettings {
  const target = grokTarget(config);
  return {
    baseUrl: target.baseUrl,
    chromiumPath: config.CHROMIUM_PATH,
    headless: config.BROWSER_HEADLESS,
    prewarm: config.BROWSER_PREWARM,
    authMode: config.AUTH_MODE,
    accountsDir: target.accountsDir,
    artifactsDir: projectPath(config.ARTIFACTS_DIR),
    imagesDir: projectPath(config.IMAGES_DIR),
    trace: config.PLAYWRIGHT_TRACE,
    rateLimitCooldownMs: config.RATE_LIMIT_COOLDOWN_MS,
    ...overrides,
  };
}

interface SidecarMeta {
  mediaUrl: string;
  videoId: string;
  postUrl: string;
  hd: boolean;
  files: Array<{ mediaUrl: string; filePath: string }>;
  deleted: boolean;
  duration?: string;
  resolution?: string;
  lengthS?: number;
  /** VideoRequest.owner: whose item the files are. */
  owner?: string;
}

const PROGRESS_TOTAL = 100;

/**
 * The Grok Imagine driver: one browser per process (GrokBrowser), one context per
 * generation. Every run returns a typed outcome; an abort closes the context at once and
 * rejects with the signal's reason.
 */
export class GrokDriver {
  readonly browser: GrokBrowser;
  private readonly t: DriverTimeouts;

  constructor(readonly settings: DriverSettings) {
    this.browser = new GrokBrowser(settings);
    this.t = { ...DEFAULT_TIMEOUTS, ...settings.timeouts };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  async generateVideo(req: VideoRequest, opts: RunOptions = {}): Promise<GenerationOutcome> {
    const progress = (current: number, message: string) => opts.onProgress?.(Math.round(current), PROGRESS_TOTAL, message);
    // Idempotency: an earlier attempt already downloaded this item.
    const reused = await this.reuse(req);
    if (reused) {
      progress(100, 'already downloaded');
      return reused;
    }
    const clock = new StepClock();
    clock.step('page');
    return this.run(req, 'video', opts, clock, async (session, quota) => {
      const page = session.page;
      const post = new PostPage(page, this.t, this.settings.rateLimitCooldownMs, opts.signal);
      const composer = new ComposerPage(page, this.t, this.settings.rateLimitCooldownMs, opts.signal);
      // 1. the post: a permalink, an upload, or text → image first.
      if (req.postUrl) {
        // The claim and the job's start refuse another site's URL already (payloadRules.ts);
        // this is the last line before a logged-in page would open it.
        if (new URL(req.postUrl).origin !== new URL(this.settings.baseUrl).origin) {
          throw new OutcomeError({ kind: 'failed', reason: `imageUrl: not a post on ${new URL(this.settings.baseUrl).origin}; not opened`, retryable: false });
        }
        progress(2, 'opening post');
        await post.open(req.postUrl);
      } else if (req.imagePath) {
        progress(2, 'uploading image');
        const problem = imageFileProblem(req.imagePath, this.settings.imagesDir);
        if (problem) throw new OutcomeError({ kind: 'failed', reason: `imagePath: ${problem}`, retryable: false });
        await composer.open(this.settings.baseUrl);
        await composer.upload(req.imagePath);
        await post.ready();
      } else {
        progress(2, 'generating the image');
        await composer.open(this.settings.baseUrl);
        const images = await composer.generate(req.prompt, (p) => progress(2 + p * 0.08, `image ${p}%`));
        await composer.openImagePost(images[0]!);
        await post.ready();
      }
      const postUrl = page.url();
      const previous = await post.video();
      // 2. options, prompt, generate.
      progress(10, 'choosing video options');
      clock.step('options');
      const chosen = await post.chooseOptions({ duration: req.duration ?? 'max', resolution: req.resolution, aspectRatio: req.aspectRatio, mode: req.mode });
      progress(12, `options ${Object.values(chosen).filter(Boolean).join(' ') || 'default'}`);
      clock.step('prompt');
      await post.enterPrompt(req.prompt);
      // Extensions ("Extend video") each add the chosen duration: the steps to reach extendTo.
      const stepS = parseInt(chosen.duration ?? '', 10);
      if (req.extendTo !== undefined && !(stepS > 0)) throw failed('extend: the page did not show a chosen duration to extend by', false);
      const extensions = req.extendTo !== undefined ? Math.max(0, Math.ceil(req.extendTo / stepS) - 1) : 0;
      const span = 72 / (extensions + 1); // progress 14..86 shared by the generation and its extensions
      const files: DownloadedFile[] = [];
      let video: VideoInfo | undefined;
      for (let step = 0; step <= extensions; step++) {
        const base = 14 + step * span;
        const what = step === 0 ? 'generating' : `extension ${step}/${extensions}`;
        progress(base, what);
        clock.step('submit');
        if (step === 0) await post.makeVideo();
        else await post.extend();
        // Submitted until Grok's first progress; from there on the time is Grok's own.
        let started = false;
        video = await post.waitForVideo(video?.src ?? previous?.src, (p) => {
          if (!started) clock.step('generation');
          started = true;
          progress(base + (p / 100) * span * 0.8, `${what} ${p}%`);
        });
        // Download with the context's cookies (the URL is known: nothing goes through the page); each step its own file.
        clock.step('download');
        if (step === extensions) quota.reread();
        const target = step === 0 ? req.downloadPath : withSuffix(req.downloadPath, `-ext${step}`);
        const file = await downloadTo(session.context.request, video.src, target, { timeoutMs: this.t.downloadMs, expect: /video|octet-stream/ });
        files.push(strip(file));
        progress(base + span, `${what}: downloaded ${file.bytes} bytes`);
      }
      const last = video!; // the loop ran at least once
      // 3. upscale, delete (the final video).
      const videoId = last.videoId ?? URLS.videoId(last.src) ?? new URL(last.src).pathname.split('/').filter(Boolean).slice(-2, -1)[0] ?? 'unknown';
      let final: DownloadedFile = files.at(-1)!;
      let hd = false;
      if (req.upscale) {
        progress(91, 'upscaling');
        clock.step('upscale');
        const hdUrl = await post.upscale(last.src);
        const hdFile = await downloadTo(session.context.request, hdUrl, withSuffix(req.downloadPath, '_hd'), {
          timeoutMs: this.t.downloadMs,
          expect: /video|octet-stream/,
        });
        files.push(strip(hdFile));
        final = strip(hdFile);
        hd = true;
        progress(96, 'upscaled');
      }
      let deleted = false;
      if (req.deleteAfterDownload) {
        progress(97, 'deleting on Grok');
        clock.step('delete');
        try {
          await post.deleteVideo(hd ? final.mediaUrl : last.src);
          deleted = true;
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          this.settings.logger?.warn({ jobId: req.jobId, item: req.itemIndex, err: safeMessage(err) }, 'delete after download failed');
        }
      }
      clock.step();
      const lengthS = stepS > 0 ? stepS * (extensions + 1) : undefined;
      const outcome: VideoSuccess = { kind: 'success', ...final, videoId, postUrl, hd, files, deleted, reused: false, duration: chosen.duration, resolution: chosen.resolution, lengthS };
      await this.writeSidecar(req, outcome);
      progress(100, 'done');
      return outcome;
    });
  }

  async generateImage(req: ImageRequest, opts: RunOptions = {}): Promise<ImageOutcome> {
    const count = Math.max(1, req.count ?? 1);
    const progress = (current: number, message: string) => opts.onProgress?.(Math.round(current), PROGRESS_TOTAL, message);
    const clock = new StepClock();
    clock.step('page');
    return this.run(req, 'image', opts, clock, async (session, quota) => {
      const composer = new ComposerPage(session.page, this.t, this.settings.rateLimitCooldownMs, opts.signal);
      progress(2, 'opening composer');
      await composer.open(this.settings.baseUrl);
      const images: Array<DownloadedFile & { postUrl: string }> = [];
      while (images.length < count) {
        clock.step('prompt');
        let started = false;
        const batch = await composer.generate(req.prompt, (p) => {
          if (!started) clock.step('generation');
          started = true;
          progress(5 + (images.length / count) * 90 + (p * 0.8 * 90) / 100 / count, `generating ${p}%`);
        }, () => clock.step('submit'));
        clock.step('download');
        quota.reread();
        for (const im of batch) {
          if (images.length >= count) break;
          const target = images.length === 0 ? req.downloadPath : withSuffix(req.downloadPath, `-${images.length + 1}`);
          const file = await downloadTo(session.context.request, im.src, target, { timeoutMs: this.t.downloadMs, expect: /image|octet-stream/ });
          images.push({ ...strip(file), postUrl: im.postUrl });
          progress(5 + (images.length / count) * 90, `downloaded ${images.length}/${count}`);
        }
      }
      clock.step();
      progress(100, 'done');
      return { kind: 'success', images };
    });
  }

  /** One context, the abort wiring, outcome mapping and failure artifacts around a run. */
  private async run<T extends { kind: 'success'; steps?: ItemSteps; quota?: ServiceQuota }>(
    req: { jobId: string; itemIndex: number; account: string },
    what: string,
    opts: RunOptions,
    clock: StepClock,
    body: (session: Session, quota: { reread(): void }) => Promise<T>,
  ): Promise<T | FailureOutcome> {
    const { signal } = opts;
    const log = this.settings.logger?.child({ jobId: req.jobId, item: req.itemIndex, account: req.account });
    signal?.throwIfAborted();
    let session: Session;
    try {
      session = await this.browser.openSession(req.account, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const outcome = toOutcome(err, req.account);
      outcome.steps = clock.snapshot();
      logOutcome(log, what, outcome);
      return outcome;
    }
    // What Grok says is left on the account, read beside the page's work (its own request,
    // no page): the pool skips an account with none left (src/slave/accounts/grokQuota.ts).
    // Read again once the generation has counted (beside the download): the latest is kept.
    const read = () => readQuota(session.context.request, this.settings.baseUrl, this.t.actionMs);
    let quota = read();
    const quotaReads = { reread: () => void (quota = read()) };
    // An abort closes the context immediately: every pending Playwright wait then rejects.
    const onAbort = () => void session.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await body(session, quotaReads);
      result.steps = clock.snapshot();
      const left = await quota;
      if (left) result.quota = left;
      if (session.tracing) await session.context.tracing.stop().catch(() => {});
      log?.info({ what, steps: result.steps }, `${what} generated`);
      return result;
    } catch (err) {
      if (signal?.aborted) {
        await session.close();
        throw signal.reason;
      }
      const outcome = toOutcome(err, req.account);
      outcome.steps = clock.snapshot();
      const left = await quota;
      if (left) outcome.quota = left;
      outcome.artifactsDir = await saveArtifacts(session, this.settings.artifactsDir, req.jobId, req.itemIndex, outcome.kind);
      logOutcome(log, what, outcome);
      return outcome;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await session.close();
    }
  }

  private sidecarPath(req: VideoRequest): string {
    return `${req.downloadPath}.meta.json`;
  }

  private async reuse(req: VideoRequest): Promise<VideoSuccess | undefined> {
    try {
      const meta = JSON.parse(await fs.promises.readFile(this.sidecarPath(req), 'utf8')) as SidecarMeta;
      // Files of another database's job of the same id are not this item's.
      if (meta.owner !== req.owner) return undefined;
      const files: DownloadedFile[] = [];
      for (const f of meta.files) {
        if (!fs.existsSync(f.filePath) || fs.statSync(f.filePath).size === 0) return undefined;
        files.push({ mediaUrl: f.mediaUrl, filePath: f.filePath, ...(await sha256File(f.filePath)) });
      }
      const final = files[files.length - 1];
      if (!final) return undefined;
      return { kind: 'success', ...final, videoId: meta.videoId, postUrl: meta.postUrl, hd: meta.hd, files, deleted: meta.deleted, reused: true, duration: meta.duration, resolution: meta.resolution, lengthS: meta.lengthS };
    } catch {
      return undefined;
    }
  }

  private async writeSidecar(req: VideoRequest, o: VideoSuccess): Promise<void> {
    const meta: SidecarMeta = {
      mediaUrl: o.mediaUrl,
      videoId: o.videoId,
      postUrl: o.postUrl,
      hd: o.hd,
      files: o.files.map((f) => ({ mediaUrl: f.mediaUrl, filePath: f.filePath })),
      deleted: o.deleted,
      duration: o.duration,
      resolution: o.resolution,
      lengthS: o.lengthS,
      owner: req.owner,
    };
    await fs.promises.writeFile(this.sidecarPath(req), JSON.stringify(meta, null, 2));
  }
}

function strip(f: DownloadedFile & { reused?: boolean }): DownloadedFile {
  return { mediaUrl: f.mediaUrl, filePath: f.filePath, sha256: f.sha256, bytes: f.bytes };
}

function toOutcome(err: unknown, account: string): FailureOutcome {
  if (err instanceof OutcomeError) {
    const o = { ...err.outcome };
    if (o.kind === 'authRequired' && !o.message.startsWith('account ')) o.message = `account ${account} needs a new login: ${o.message}`;
    return o;
  }
  const name = err instanceof Error ? err.name : '';
  const message = safeMessage(err);
  if (name === 'TimeoutError') return { kind: 'failed', reason: `timeout: ${message}`, retryable: true };
  if (/Target (page, context or browser )?(has been )?closed|browser has disconnected/i.test(message)) {
    return { kind: 'failed', reason: `browser closed: ${message}`, retryable: true };
  }
  if (/net::ERR_|ECONNREFUSED|ECONNRESET|socket hang up/i.test(message)) return { kind: 'failed', reason: `network: ${message}`, retryable: true };
  if (/invalid account name/.test(message)) return { kind: 'failed', reason: message, retryable: false };
  return { kind: 'failed', reason: message, retryable: true };
}

function logOutcome(log: Logger | undefined, what: string, o: FailureOutcome): void {
  if (!log) return;
  const fields = { what, outcome: o.kind, artifactsDir: o.artifactsDir };
  switch (o.kind) {
    case 'moderated':
      log.warn({ ...fields, message: o.message }, 'content moderated');
      break;
    case 'rateLimited':
      log.warn({ ...fields, cooldownMs: o.cooldownMs, message: o.message }, 'rate limited');
      break;
    case 'authRequired':
      log.error({ ...fields, message: o.message }, 'authentication required');
      break;
    case 'failed':
      log.error({ ...fields, reason: o.reason, retryable: o.retryable }, `${what} generation failed`);
      break;
  }
}
