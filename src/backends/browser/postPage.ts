import type { Locator, Page } from 'playwright';
import { allOf, anyOf, find, pick, SEL, URLS, type Sel } from './selectors';
import { failed, OutcomeError } from './types';
import { VideoOptionsMenu, type ChosenOptions, type OptionRequest } from './videoOptions';
import { blockingOutcome, installPercentWatcher, shownOrBlocked, watchGeneration, type WatchTimeouts } from './watch';
import { fillBox, firstOf, pollUntil } from './util';
import { GenerationTraffic } from './network';
import { PageChanges } from './pageChanges';
import { offscreenAfter, type Offscreen } from './offscreen';

export interface PostPageTimeouts extends WatchTimeouts {
  navigationMs: number;
  actionMs: number;
  videoReadyMs: number;
  upscaleMs: number;
  /** A wait for Grok's result longer than this goes on with the window minimized (offscreen.ts). */
  hideAfterMs: number;
}

export interface VideoInfo {
  src: string;
  /** From the generation stream, when it told. */
  videoId?: string;
}

/** Page object of a Grok Imagine post page (`/imagine/post/<uuid>`). */
export class PostPage {
  private traffic?: GenerationTraffic;
  /** listenForVideo's setup, until makeVideo takes it. */
  private listening?: Promise<Locator>;
  /** The last generation's traffic, kept after it ended (tests read what the page received). */
  lastTraffic?: GenerationTraffic;

  constructor(
    readonly page: Page,
    private readonly t: PostPageTimeouts,
    private readonly defaultCooldownMs: number,
    private readonly signal?: AbortSignal,
    /** Minimize the window while Grok generates (offscreen.ts): the browser is headless. */
    private readonly hideWhileWaiting = false,
  ) {}

  async open(url: string): Promise<void> {
    // Until the document is parsed: its scripts have run (a page that hydrates wires its
    // inputs then), so what is typed next is not lost.
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: this.t.navigationMs });
    await this.ready();
  }

  /** Waits for the prompt box, or for a blocking state (login wall, not found…), whichever shows first. */
  async ready(): Promise<void> {
    await shownOrBlocked(this.page, SEL.promptBox, { what: 'post page', timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, defaultCooldownMs: this.defaultCooldownMs, signal: this.signal });
  }

  private async need(sel: Sel, root: Page | Locator = this.page): Promise<Locator> {
    return (await find(root, sel, this.t.actionMs)).locator;
  }

  /** Chooses the Video Options (videoOptions.ts) and returns what the page shows as chosen. */
  async chooseOptions(req: OptionRequest): Promise<ChosenOptions> {
    const button = await pick(this.page, SEL.videoOptions);
    if (!button) {
      // A UI without options: only an explicit request is a problem.
      const asked = Object.entries(req).filter(([k, v]) => v !== undefined && !(k === 'duration' && v === 'max'));
      if (asked.length > 0) throw failed(`${asked.map(([k, v]) => `${k} ${v}`).join(', ')} asked for, but the page has no ${SEL.videoOptions.description}`, false);
      return {};
    }
    return new VideoOptionsMenu(this.page, button, this.t.actionMs).choose(req);
  }

  async enterPrompt(prompt: string): Promise<void> {
    // The box was just seen (ready): one look, not a wait, unless it has gone since.
    const box = (await pick(this.page, SEL.promptBox)) ?? (await this.need(SEL.promptBox));
    await fillBox(box, prompt, this.t.actionMs);
    // Read back in one round trip in the common case (a textarea), whatever the editor: in
    // Playwright's utility world, where fill ran, not the page's own world, which would get a
    // second copy of Playwright's injected script compiled (~60 ms of renderer CPU a page load).
    const value = await box.inputValue({ timeout: this.t.actionMs }).catch(async (err: unknown) => {
      if (!(err instanceof Error) || !/not an <input>|not an input/i.test(err.message)) throw err;
      return box.innerText({ timeout: this.t.actionMs }); // a contenteditable editor
    });
    if (value.trim() !== prompt.trim()) throw failed('the prompt box did not take the prompt', true);
  }

  /** The result video (not one of an A/B pair) and its state, if any. */
  async video(): Promise<VideoInfo | undefined> {
    // Every fallback selector in one round trip, in priority order.
    return this.page
      .evaluate(
        ([sels, ab]) => {
          for (const sel of sels) {
            for (const el of Array.from(document.querySelectorAll(sel))) {
              const v = el as HTMLVideoElement;
              if (ab.some((name) => v.closest(`[aria-label="${name}"]`))) continue; // an A/B candidate
              if (!v.isConnected || v.offsetParent === null) continue;
              return { src: v.currentSrc || v.src };
            }
          }
          return undefined;
        },
        [SEL.resultVideo.css, allOf('abQuestion')] as const,
      )
      .catch(() => undefined);
  }

  /**
   * Presses "Make video". What must be listening before the press — the percentage watcher in
   * the page, the generation's stream reader — is set up at the same time as the button is
   * found: three round trips' latency as one.
   */
  async makeVideo(): Promise<void> {
    const early = this.listening;
    this.listening = undefined;
    const button = await (early ?? this.listenWhile(() => this.need(SEL.makeVideo)));
    await button.click({ timeout: this.t.actionMs });
  }

  /**
   * Starts what makeVideo needs before its press (the listeners, the button found) beside the
   * options and the prompt, which do not touch them: off the path to the press. Undone by
   * stopListening when no press follows.
   */
  listenForVideo(): void {
    if (this.listening) return;
    this.listening = this.listenWhile(() => this.need(SEL.makeVideo));
    this.listening.catch(() => {}); // makeVideo (or stopListening) reads the failure
  }

  /** Undoes listenForVideo when Make video was not pressed (the run failed before it). */
  async stopListening(): Promise<void> {
    const early = this.listening;
    this.listening = undefined;
    if (!early) return;
    await early.catch(() => undefined);
    await this.traffic?.dispose();
    this.traffic = undefined;
  }

  /** Sets up the percentage watcher and the stream reader while `find` runs; returns its answer. */
  private async listenWhile<T>(find: () => Promise<T>): Promise<T> {
    const traffic = GenerationTraffic.watch(this.page);
    try {
      const [, found] = await Promise.all([installPercentWatcher(this.page), find()]);
      this.traffic = this.lastTraffic = await traffic;
      return found;
    } catch (err) {
      void traffic.then((t) => t.dispose(), () => undefined);
      throw err;
    }
  }

  /** Waits for the generation to end in a playable new video (rejects with an OutcomeError otherwise). */
  async waitForVideo(previousSrc: string | undefined, onPercent: (p: number) => void): Promise<VideoInfo> {
    const traffic = this.traffic;
    const hidden = offscreenAfter(this.page, this.hideWhileWaiting ? this.t.hideAfterMs : undefined);
    try {
      return await this.watchVideo(previousSrc, onPercent, traffic, hidden);
    } finally {
      // Not waited for: what follows at once (the download) needs no frames, and a click
      // before the window is back is slower, never wrong.
      void hidden.restore();
      await traffic?.dispose();
    }
  }

  private watchVideo(previousSrc: string | undefined, onPercent: (p: number) => void, traffic: GenerationTraffic | undefined, hidden: Offscreen): Promise<VideoInfo> {
    let abResolved = false;
    return watchGeneration<VideoInfo>({
      page: this.page,
      traffic,
      signal: this.signal,
      timeouts: this.t,
      defaultCooldownMs: this.defaultCooldownMs,
      onPercent,
      beforeDone: async ({ dom }) => {
        if (abResolved || !dom) return;
        if ((await anyOf(this.page, SEL.abQuestion).count()) === 0) return;
        const choice = await pick(this.page, SEL.abChoice);
        if (choice) {
          await hidden.restore(); // a click waits for animation frames
          await choice.click({ timeout: this.t.actionMs });
          abResolved = true;
        }
      },
      done: async ({ dom }) => {
        // Network first: the stream's video URL, unless it asked for an A/B choice (the page's).
        const net = traffic?.state;
        if (net?.videoUrl && !net.choice && net.videoUrl !== previousSrc) return { src: net.videoUrl, videoId: net.videoId };
        if (!dom) return undefined;
        // DOM fallback: a new video source. Its media are not fetched by the page (lean.ts):
        // the download checks that the URL serves a video.
        const v = await this.video();
        if (!v || !v.src || v.src === previousSrc) return undefined;
        return v;
      },
    });
  }

  private async openMoreOptions(): Promise<void> {
    const more = await this.need(SEL.moreOptions);
    await more.click({ timeout: this.t.actionMs });
  }

  /** More options → Extend video: a new generation continuing the current video (then waitForVideo). */
  async extend(): Promise<void> {
    const item = await this.listenWhile(async () => {
      await this.openMoreOptions();
      return this.need(SEL.extendItem);
    });
    await item.click({ timeout: this.t.actionMs });
  }

  /** More options → Upscale video; waits for the HD badge / HD source. Returns the HD URL. */
  async upscale(sdSrc: string): Promise<string> {
    await this.openMoreOptions();
    const item = await this.need(SEL.upscaleItem);
    // Network first: Grok's POST /rest/media/video/upscale answers the HD file's URL (hdMediaUrl)
    // once it exists; a page that upscales otherwise shows it in the DOM (the poll below).
    let hdFromWire: string | undefined;
    const changes = new PageChanges(this.page);
    const wire = this.page
      .waitForResponse((r) => r.request().method() === 'POST' && URLS.isUpscaleCall(r.url()) && r.ok(), { timeout: this.t.upscaleMs })
      .then(async (r) => {
        const body = (await r.json().catch(() => ({}))) as { hdMediaUrl?: unknown };
        if (typeof body.hdMediaUrl === 'string' && body.hdMediaUrl) hdFromWire = new URL(body.hdMediaUrl, r.url()).toString();
      })
      .catch(() => undefined);
    await item.click({ timeout: this.t.actionMs });
    return pollUntil(
      async () => {
        if (hdFromWire) return hdFromWire;
        const [blocked, v, badge] = await Promise.all([
          blockingOutcome(this.page, this.defaultCooldownMs),
          this.video(),
          anyOf(this.page, SEL.hdBadge).count().then((n) => n > 0, () => false),
        ]);
        if (blocked) throw new OutcomeError(blocked);
        if (v && URLS.isHdVideo(v.src)) return v.src;
        if (badge) return URLS.hdOf(sdSrc);
        return undefined;
      },
      {
        timeoutMs: this.t.upscaleMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('upscale: no HD version appeared', true),
        // Looked at again when the page changed or the upscale call answered.
        changes: { next: (ms, signal) => firstOf(signal, [(s) => changes.next(ms, s), () => wire]) },
      },
    ).finally(() => void wire);
  }

  /** More options → Delete → confirm; waits until the video is gone. */
  async deleteVideo(src: string): Promise<void> {
    await this.openMoreOptions();
    const item = await this.need(SEL.deleteItem);
    await item.click({ timeout: this.t.actionMs });
    const dialog = await this.need(SEL.confirmDialog);
    const confirm = await this.need(SEL.confirmDelete, dialog);
    await confirm.click({ timeout: this.t.actionMs });
    // Grok removes the video once its DELETE answered: the page, not the click, says it is gone.
    const changes = new PageChanges(this.page);
    await pollUntil(
      async () => {
        const v = await this.video();
        return !v || v.src !== src ? true : undefined;
      },
      { timeoutMs: this.t.actionMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('delete: the video is still there', true), changes },
    );
  }
}
