import type { Locator, Page } from 'playwright';
import { allOf, anyOf, find, pick, SEL, URLS, type Sel } from './selectors';
import { failed, OutcomeError } from './types';
import { VideoOptionsMenu, type ChosenOptions, type OptionRequest } from './videoOptions';
import { blockingOutcome, installPercentWatcher, watchGeneration, type WatchTimeouts } from './watch';
import { pollUntil } from './util';
import { GenerationTraffic } from './network';

export interface PostPageTimeouts extends WatchTimeouts {
  navigationMs: number;
  actionMs: number;
  videoReadyMs: number;
  upscaleMs: number;
}

export interface VideoInfo {
  src: string;
  /** From the generation stream, when it told. */
  videoId?: string;
}

/** Page object of a Grok Imagine post page (`/imagine/post/<uuid>`). */
export class PostPage {
  private traffic?: GenerationTraffic;
  /** The last generation's traffic, kept after it ended (tests read what the page received). */
  lastTraffic?: GenerationTraffic;

  constructor(
    readonly page: Page,
    private readonly t: PostPageTimeouts,
    private readonly defaultCooldownMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: this.t.navigationMs });
    await this.ready();
  }

  /**
   * Waits for the prompt box, or for a blocking state (login wall, not found…). A poll, not
   * one locator wait: whichever of several unrelated states shows first ends it, and each
   * probe is one round trip (the blockers are asked as one union first).
   */
  async ready(): Promise<void> {
    await pollUntil(
      async () => {
        const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
        return (await pick(this.page, SEL.promptBox)) ? true : undefined;
      },
      { timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed(`post page did not show ${SEL.promptBox.description}`, true) },
    );
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
    const box = await this.need(SEL.promptBox);
    await box.click({ timeout: this.t.actionMs });
    await box.fill(prompt, { timeout: this.t.actionMs });
    const isEditable = await box.evaluate((e) => (e as HTMLElement).isContentEditable && e.tagName !== 'TEXTAREA');
    const value = isEditable ? await box.innerText() : await box.inputValue();
    if (value.trim() !== prompt.trim()) throw failed('the prompt box did not take the prompt', true);
  }

  /** The result video (not one of an A/B pair) and its state, if any. */
  async video(): Promise<VideoInfo | undefined> {
    for (const css of SEL.resultVideo.css) {
      const info = await this.page
        .evaluate(
          ([sel, ab]) => {
            for (const el of Array.from(document.querySelectorAll(sel))) {
              const v = el as HTMLVideoElement;
              if (ab.some((name) => v.closest(`[aria-label="${name}"]`))) continue; // an A/B candidate
              if (!v.isConnected || v.offsetParent === null) continue;
              return { src: v.currentSrc || v.src };
            }
            return undefined;
          },
          [css, allOf('abQuestion')] as const,
        )
        .catch(() => undefined);
      if (info) return info;
    }
    return undefined;
  }

  async makeVideo(): Promise<void> {
    await installPercentWatcher(this.page);
    const button = await this.need(SEL.makeVideo);
    this.traffic = this.lastTraffic = await GenerationTraffic.watch(this.page);
    await button.click({ timeout: this.t.actionMs });
  }

  /** Waits for the generation to end in a playable new video (rejects with an OutcomeError otherwise). */
  async waitForVideo(previousSrc: string | undefined, onPercent: (p: number) => void): Promise<VideoInfo> {
    const traffic = this.traffic;
    try {
      return await this.watchVideo(previousSrc, onPercent, traffic);
    } finally {
      await traffic?.dispose();
    }
  }

  private watchVideo(previousSrc: string | undefined, onPercent: (p: number) => void, traffic: GenerationTraffic | undefined): Promise<VideoInfo> {
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
    await installPercentWatcher(this.page);
    await this.openMoreOptions();
    const item = await this.need(SEL.extendItem);
    this.traffic = await GenerationTraffic.watch(this.page);
    await item.click({ timeout: this.t.actionMs });
  }

  /** More options → Upscale video; waits for the HD badge / HD source. Returns the HD URL. */
  async upscale(sdSrc: string): Promise<string> {
    await this.openMoreOptions();
    const item = await this.need(SEL.upscaleItem);
    // Network first: Grok's POST /rest/media/video/upscale answers the HD file's URL (hdMediaUrl)
    // once it exists; a page that upscales otherwise shows it in the DOM (the poll below).
    let hdFromWire: string | undefined;
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
        const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
        const v = await this.video();
        const badge = (await anyOf(this.page, SEL.hdBadge).count()) > 0;
        if (v && URLS.isHdVideo(v.src)) return v.src;
        if (badge) return v && URLS.isHdVideo(v.src) ? v.src : URLS.hdOf(sdSrc);
        return undefined;
      },
      { timeoutMs: this.t.upscaleMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('upscale: no HD version appeared', true) },
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
    await pollUntil(
      async () => {
        const v = await this.video();
        return !v || v.src !== src ? true : undefined;
      },
      { timeoutMs: this.t.actionMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('delete: the video is still there', true) },
    );
  }
}
