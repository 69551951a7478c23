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
import type { ChosenOptions, OptionRequest } from './videoOptions';
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
  // Grok's generations take tens of seconds; a shorter wait is not worth a redraw (offscreen.ts).
  hideAfterMs: 5000,
  // The most often a page is looked at: a look follows a change of the page (pageChanges.ts),
  // never sooner than pollMs after the previous one, so a page that changes all the time (an
  // animation) costs no more than a 50 ms poll; a stream being read wakes it instead (watch.ts).
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

/** What openAhead may do on the page besides opening it (all before the press of Make video). */
export interface AheadWork {
  options?: OptionRequest;
  prompt?: string;
}

/** What was done ahead on a session's page, for the generation that adopts it. */
interface Ahead {
  session: Session;
  /** The options asked for ahead, and what the page showed as chosen then. */
  options?: OptionRequest;
  chosen?: ChosenOptions;
  /** The prompt entered ahead (read back as taken). */
  prompt?: string;
}

/**
 * How long a post opened ahead (openAhead) waits for its generation to adopt it before its
 * context goes back to the account's ready ones: the slave's gate answers in milliseconds, so
 * an item that does not come by then waits for its account (a cooldown) or went elsewhere.
 */
export const AHEAD_MS = 10_000;

/**
 * The Grok Imagine driver: one browser per process (GrokBrowser), one context per
 * generation at a time (kept for the account's next one after a run that went well, with
 * BROWSER_PREWARM). Every run returns a typed outcome; an abort closes the context at once
 * and rejects with the signal's reason.
 */
export class GrokDriver {
  readonly browser: GrokBrowser;
  private readonly t: DriverTimeouts;
  /** Posts opened ahead (openAhead), by account and URL, until a generation adopts them. */
  private readonly ahead = new Map<string, Promise<Ahead | undefined>>();

  constructor(readonly settings: DriverSettings) {
    this.browser = new GrokBrowser(settings);
    this.t = { ...DEFAULT_TIMEOUTS, ...settings.timeouts };
  }

  async close(): Promise<void> {
    const ahead = [...this.ahead.values()];
    this.ahead.clear();
    await Promise.all(ahead.map((a) => a.then((s) => s?.session.close())));
    await this.browser.close();
  }

  /**
   * Opens `postUrl` on `account` now, chooses `work.options` and enters `work.prompt` there,
   * for the generation of the same account and post that comes next (generateVideo adopts it
   * and goes on from the press of Make video): the page's work runs while the slave's
   * bookkeeping, the workflow's next task and the account gate run, instead of after them
   * (issue 24: page work that can happen while waiting for the slot). Nothing is generated
   * ahead: the press that spends the account's quota waits for the gate. Only with kept
   * contexts (storageState and BROWSER_PREWARM): one not adopted within AHEAD_MS goes back to
   * the account's ready contexts. A page that did not open (a wall, an error) is closed and
   * forgotten, options or a prompt not taken are left to the generation: it does the work
   * again and reports what the page shows.
   */
  openAhead(account: string, postUrl: string, work: AheadWork = {}): void {
    if (!this.settings.prewarm || this.settings.authMode !== 'storageState') return;
    let sameSite = false;
    try {
      sameSite = new URL(postUrl).origin === new URL(this.settings.baseUrl).origin;
    } catch {
      // not a URL: the generation reports it
    }
    const key = aheadKey(account, postUrl);
    if (!sameSite || this.ahead.has(key)) return;
    const opened = (async (): Promise<Ahead | undefined> => {
      const session = await this.browser.openSession(account);
      const post = new PostPage(session.page, this.t, this.settings.rateLimitCooldownMs);
      try {
        await post.open(postUrl);
      } catch {
        await session.close();
        return undefined;
      }
      const done: Ahead = { session };
      try {
        if (work.options) {
          done.chosen = await post.chooseOptions(work.options);
          done.options = work.options;
        }
        if (work.prompt !== undefined) {
          await post.enterPrompt(work.prompt);
          done.prompt = work.prompt;
        }
      } catch {
        // left to the generation, which reports it
      }
      return done;
    })().catch(() => undefined);
    this.ahead.set(key, opened);
    const timer = setTimeout(() => {
      if (this.ahead.get(key) !== opened) return;
      this.ahead.delete(key);
      void opened.then((a) => a?.session.release());
    }, AHEAD_MS);
    timer.unref();
  }

  /** Posts opened ahead and not adopted yet. */
  aheadCount(): number {
    return this.ahead.size;
  }

  /** The post opened ahead for this account and URL, if any (taken: nobody else adopts it). */
  private takeAhead(account: string, postUrl: string | undefined): Promise<Ahead | undefined> | undefined {
    if (!postUrl) return undefined;
    const key = aheadKey(account, postUrl);
    const opened = this.ahead.get(key);
    this.ahead.delete(key);
    return opened;
  }

  /**
   * One video, from the post to the downloaded file. The waits left on the way to Grok's
   * generation, and why each is there (issue 24):
   * - the post's document and its prompt box (PostPage.open): typing before the page's
   *   scripts wired the box loses the text; done ahead when the slave could (openAhead);
   * - the Video Options menu: one read, a click per choice not chosen yet, a read back of the
   *   button's label (videoOptions.ts says why each); done ahead too;
   * - the prompt read back: a box that did not take the text must not be submitted;
   * - the press of Make video: only once the listeners are set up (set up beside the options,
   *   PostPage.listenForVideo), and never ahead: it spends the account's quota.
   */
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
    const ahead = this.takeAhead(req.account, req.postUrl);
    return this.run(req, 'video', opts, clock, async (session, quota, adopted) => {
      // What was done ahead holds only on the page it was done on.
      let early = adopted;
      const page = session.page;
      const post = new PostPage(page, this.t, this.settings.rateLimitCooldownMs, opts.signal, this.settings.headless);
      const composer = new ComposerPage(page, this.t, this.settings.rateLimitCooldownMs, opts.signal);
      // 1. the post: a permalink, an upload, or text → image first.
      if (req.postUrl) {
        // The claim and the job's start refuse another site's URL already (payloadRules.ts);
        // this is the last line before a logged-in page would open it.
        if (new URL(req.postUrl).origin !== new URL(this.settings.baseUrl).origin) {
          throw new OutcomeError({ kind: 'failed', reason: `imageUrl: not a post on ${new URL(this.settings.baseUrl).origin}; not opened`, retryable: false });
        }
        progress(2, 'opening post');
        // Opened ahead (openAhead) and still there: ready already.
        if (!early || page.url() !== new URL(req.postUrl).toString()) {
          early = undefined;
          await post.open(req.postUrl);
        }
      } else if (req.imagePath) {
        progress(2, 'uploading image');
        const problem = imageFileProblem(req.imagePath, this.settings.imagesDir);
        if (problem) throw new OutcomeError({ kind: 'failed', reason: `imagePath: ${problem}`, retryable: false });
        early = undefined;
        await composer.open(this.settings.baseUrl);
        await composer.upload(req.imagePath);
        await post.ready();
      } else {
        progress(2, 'generating the image');
        early = undefined;
        await composer.open(this.settings.baseUrl);
        const images = await composer.generate(req.prompt, (p) => progress(2 + p * 0.08, `image ${p}%`));
        await composer.openImagePost(images[0]!);
        await post.ready();
      }
      const postUrl = page.url();
      // The video already on the post (a new one must differ): asked beside the options.
      const previousVideo = post.video();
      // 2. options, prompt, generate.
      progress(10, 'choosing video options');
      clock.step('options');
      // What the press of Make video needs set up first is set up meanwhile (PostPage.listenForVideo).
      post.listenForVideo();
      let chosen: ChosenOptions;
      let previous: VideoInfo | undefined;
      const asked: OptionRequest = { duration: req.duration ?? 'max', resolution: req.resolution, aspectRatio: req.aspectRatio, mode: req.mode };
      try {
        // Chosen ahead (openAhead) for the same request: not again.
        const ready = early?.chosen && sameOptions(early.options, asked) ? early.chosen : undefined;
        [chosen, previous] = await Promise.all([ready ?? post.chooseOptions(asked), previousVideo]);
        progress(12, `options ${Object.values(chosen).filter(Boolean).join(' ') || 'default'}`);
        clock.step('prompt');
        if (early?.prompt !== req.prompt) await post.enterPrompt(req.prompt);
      } catch (err) {
        await post.stopListening();
        throw err;
      }
      // Extensions ("Extend video") each add the chosen duration: the steps to reach extendTo.
      const stepS = parseInt(chosen.duration ?? '', 10);
      if (req.extendTo !== undefined && !(stepS > 0)) {
        await post.stopListening();
        throw failed('extend: the page did not show a chosen duration to extend by', false);
      }
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
    }, ahead);
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

  /**
   * A session, the abort wiring, outcome mapping and failure artifacts around a run. `ahead`:
   * the work done ahead for this run (openAhead); the body is given it when adopted.
   */
  private async run<T extends { kind: 'success'; steps?: ItemSteps; quota?: ServiceQuota }>(
    req: { jobId: string; itemIndex: number; account: string },
    what: string,
    opts: RunOptions,
    clock: StepClock,
    body: (session: Session, quota: { reread(): void }, adopted: Ahead | undefined) => Promise<T>,
    ahead?: Promise<Ahead | undefined>,
  ): Promise<T | FailureOutcome> {
    const { signal } = opts;
    const log = this.settings.logger?.child({ jobId: req.jobId, item: req.itemIndex, account: req.account });
    signal?.throwIfAborted();
    let session: Session;
    let adopted: Ahead | undefined;
    try {
      const early = ahead ? await untilAborted(ahead, signal) : undefined;
      if (early && !early.session.closed && !early.session.page.isClosed()) {
        session = early.session;
        adopted = early;
      } else session = await this.browser.openSession(req.account, signal);
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
    // Only a run that went well hands its context back for the account's next one (browser.ts).
    let wentWell = false;
    try {
      const result = await body(session, quotaReads, adopted);
      result.steps = clock.snapshot();
      const left = await quota;
      if (left) result.quota = left;
      if (session.tracing) await session.context.tracing.stop().catch(() => {});
      log?.info({ what, steps: result.steps }, `${what} generated`);
      wentWell = !signal?.aborted;
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
      await (wentWell ? session.release() : session.close());
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

function aheadKey(account: string, postUrl: string): string {
  return `${account}\n${postUrl}`;
}

/**
 * Waits for the work done ahead unless the signal aborts first; a session that arrives after
 * the abort is closed (its run will not happen).
 */
async function untilAborted(ahead: Promise<Ahead | undefined>, signal?: AbortSignal): Promise<Ahead | undefined> {
  if (!signal) return ahead;
  signal.throwIfAborted();
  return new Promise<Ahead | undefined>((resolve, reject) => {
    const onAbort = () => {
      void ahead.then((a) => a?.session.close());
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void ahead.then((a) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) void a?.session.close();
      else resolve(a);
    });
  });
}

function sameOptions(a: OptionRequest | undefined, b: OptionRequest): boolean {
  return !!a && a.duration === b.duration && a.resolution === b.resolution && a.aspectRatio === b.aspectRatio && a.mode === b.mode;
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
