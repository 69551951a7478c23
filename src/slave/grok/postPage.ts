import type { Locator, Page } from 'playwright';
import { anyOf, pick, SEL, TEXTS, URLS } from './selectors';
import { failed, OutcomeError, type Duration } from './types';
import { blockingOutcome, installPercentWatcher, watchGeneration, type WatchTimeouts } from './watch';
import { sleep } from './util';

export interface PostPageTimeouts extends WatchTimeouts {
  navigationMs: number;
  actionMs: number;
  videoReadyMs: number;
  upscaleMs: number;
}

export interface VideoInfo {
  src: string;
  readyState: number;
  duration: number;
}

/** Page object of a Grok Imagine post page (`/imagine/post/<uuid>`). */
export class PostPage {
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

  /** Waits for the prompt box, or for a blocking state (login wall, not found…). */
  async ready(): Promise<void> {
    const deadline = Date.now() + this.t.navigationMs;
    for (;;) {
      const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
      if (blocked) throw new OutcomeError(blocked);
      if (await pick(this.page, SEL.promptBox)) return;
      if (Date.now() > deadline) throw failed(`post page did not show ${SEL.promptBox.description}`, true);
      await sleep(this.t.pollMs, this.signal);
    }
  }

  private async need(sel: (typeof SEL)[keyof typeof SEL], root: Page | Locator = this.page): Promise<Locator> {
    const deadline = Date.now() + this.t.actionMs;
    for (;;) {
      const l = await pick(root, sel);
      if (l) return l;
      if (Date.now() > deadline) throw failed(`could not find ${sel.description}`, true);
      await sleep(this.t.pollMs, this.signal);
    }
  }

  /**
   * Opens "Video Options" and picks the duration ('max': the longest offered) and the
   * resolution (default: the highest offered). Returns what was chosen.
   */
  async chooseOptions(duration: Duration, resolution?: string): Promise<{ duration?: string; resolution?: string }> {
    const chosen: { duration?: string; resolution?: string } = {};
    if (!(await pick(this.page, SEL.videoOptions))) return chosen; // a UI without options
    chosen.duration = await this.chooseFromMenu(SEL.durationItems, TEXTS.durationOption, duration === 'max' ? undefined : duration);
    chosen.resolution = await this.chooseFromMenu(SEL.resolutionItems, TEXTS.resolutionOption, resolution);
    return chosen;
  }

  private async chooseFromMenu(sel: (typeof SEL)['durationItems'], pattern: RegExp, wanted?: string): Promise<string | undefined> {
    const button = await this.need(SEL.videoOptions);
    await button.click({ timeout: this.t.actionMs });
    const items = anyOf(this.page, sel);
    await items.first().waitFor({ state: 'visible', timeout: this.t.actionMs }).catch(() => {});
    const texts = (await items.allTextContents()).map((s) => s.trim());
    const offered = [...new Set(texts.filter((s) => pattern.test(s)))];
    if (offered.length === 0) {
      await this.page.keyboard.press('Escape');
      return undefined;
    }
    let target: string | undefined;
    if (wanted) {
      target = offered.find((o) => o.replace(/\s+/g, '') === wanted.replace(/\s+/g, ''));
      if (!target) throw failed(`option ${wanted} is not offered (offered: ${offered.join(', ')})`, false);
    } else {
      target = offered.reduce((a, b) => (Number(pattern.exec(b)![1]) > Number(pattern.exec(a)![1]) ? b : a));
    }
    const item = items.filter({ hasText: new RegExp(`^\\s*${target.replace(/\s+/g, '\\s*')}\\s*$`) }).first();
    await item.click({ timeout: this.t.actionMs });
    // Menus close after a choice; close it if this UI keeps it open.
    if ((await items.count()) > 0) await this.page.keyboard.press('Escape');
    return target;
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
              if (v.closest(`[aria-label="${ab}"]`)) continue; // an A/B candidate
              if (!v.isConnected || v.offsetParent === null) continue;
              return { src: v.currentSrc || v.src, readyState: v.readyState, duration: Number.isFinite(v.duration) ? v.duration : 0 };
            }
            return undefined;
          },
          [css, TEXTS.abQuestion] as const,
        )
        .catch(() => undefined);
      if (info) return info;
    }
    return undefined;
  }

  async makeVideo(): Promise<void> {
    await installPercentWatcher(this.page);
    const button = await this.need(SEL.makeVideo);
    await button.click({ timeout: this.t.actionMs });
  }

  /** Waits for the generation to end in a playable new video (rejects with an OutcomeError otherwise). */
  async waitForVideo(previousSrc: string | undefined, onPercent: (p: number) => void): Promise<VideoInfo> {
    let abResolved = false;
    return watchGeneration<VideoInfo>({
      page: this.page,
      signal: this.signal,
      timeouts: this.t,
      defaultCooldownMs: this.defaultCooldownMs,
      onPercent,
      beforeDone: async () => {
        if (abResolved) return;
        if ((await anyOf(this.page, SEL.abQuestion).count()) === 0) return;
        const choice = await pick(this.page, SEL.abChoice);
        if (choice) {
          await choice.click({ timeout: this.t.actionMs });
          abResolved = true;
        }
      },
      done: async () => {
        const v = await this.video();
        if (!v || !v.src || v.src === previousSrc) return undefined;
        if (v.readyState >= 2 && v.duration > 0) return v;
        return undefined;
      },
    });
  }

  private async openMoreOptions(): Promise<void> {
    const more = await this.need(SEL.moreOptions);
    await more.click({ timeout: this.t.actionMs });
  }

  /** More options → Upscale video; waits for the HD badge / HD source. Returns the HD URL. */
  async upscale(sdSrc: string): Promise<string> {
    await this.openMoreOptions();
    const item = await this.need(SEL.upscaleItem);
    await item.click({ timeout: this.t.actionMs });
    const deadline = Date.now() + this.t.upscaleMs;
    for (;;) {
      const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
      if (blocked) throw new OutcomeError(blocked);
      const v = await this.video();
      const badge = (await anyOf(this.page, SEL.hdBadge).count()) > 0;
      if (v && URLS.isHdVideo(v.src) && v.readyState >= 2) return v.src;
      if (badge) return v && URLS.isHdVideo(v.src) ? v.src : URLS.hdOf(sdSrc);
      if (Date.now() > deadline) throw failed('upscale: no HD version appeared', true);
      await sleep(this.t.pollMs, this.signal);
    }
  }

  /** More options → Delete → confirm; waits until the video is gone. */
  async deleteVideo(src: string): Promise<void> {
    await this.openMoreOptions();
    const item = await this.need(SEL.deleteItem);
    await item.click({ timeout: this.t.actionMs });
    const dialog = await this.need(SEL.confirmDialog);
    const confirm = await this.need(SEL.confirmDelete, dialog);
    await confirm.click({ timeout: this.t.actionMs });
    const deadline = Date.now() + this.t.actionMs;
    for (;;) {
      const v = await this.video();
      if (!v || v.src !== src) return;
      if (Date.now() > deadline) throw failed('delete: the video is still there', true);
      await sleep(this.t.pollMs, this.signal);
    }
  }
}
