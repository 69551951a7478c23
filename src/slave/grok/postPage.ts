import type { Locator, Page } from 'playwright';
import { allOf, anyOf, find, pick, SEL, TEXTS, URLS, type Sel } from './selectors';
import { failed, OutcomeError, type Duration } from './types';
import { blockingOutcome, installPercentWatcher, watchGeneration, type WatchTimeouts } from './watch';
import { pollUntil } from './util';
import { GenerationTraffic } from './network';

export interface PostPageTimeouts extends WatchTimeouts {
  navigationMs: number;
  actionMs: number;
  videoReadyMs: number;
  upscaleMs: number;
}

/** The duration and resolution a generation runs with, as the page shows them ('10s', '720p'). */
export interface ChosenOptions {
  duration?: string;
  resolution?: string;
}

/** The two kinds of Video Options choices: how an item reads, how the menu button states it. */
interface OptionKind {
  name: string;
  item: RegExp;
  inLabel: RegExp;
  unit: string;
}
const OPTIONS = {
  duration: { name: 'duration', item: TEXTS.durationOption, inLabel: /(\d+)\s*s\b/, unit: 's' },
  resolution: { name: 'resolution', item: TEXTS.resolutionOption, inLabel: /(\d+)\s*p\b/, unit: 'p' },
} satisfies Record<string, OptionKind>;

export interface VideoInfo {
  src: string;
  readyState: number;
  duration: number;
  /** From the generation stream, when it told. */
  videoId?: string;
}

/** Page object of a Grok Imagine post page (`/imagine/post/<uuid>`). */
export class PostPage {
  private traffic?: GenerationTraffic;

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

  /**
   * Opens "Video Options" and picks the duration ('max': the longest offered) and the
   * resolution (default: the highest offered), then reads back what the page shows as chosen.
   * A requested value the menu does not offer fails the item, listing what it offers.
   */
  async chooseOptions(duration: Duration, resolution?: string): Promise<ChosenOptions> {
    const button = await pick(this.page, SEL.videoOptions);
    if (!button) return {}; // a UI without options
    const clicked: ChosenOptions = {
      duration: await this.chooseFromMenu(button, OPTIONS.duration, duration === 'max' ? undefined : duration),
      resolution: await this.chooseFromMenu(button, OPTIONS.resolution, resolution),
    };
    await this.closeMenu();
    // Read back: the menu button states the current choice ("10s · 720p"); where it says
    // nothing about one, the click is what we know.
    const label = (await button.innerText({ timeout: this.t.actionMs }).catch(() => '')).trim();
    const shown: ChosenOptions = {};
    for (const key of ['duration', 'resolution'] as const) {
      const m = OPTIONS[key].inLabel.exec(label);
      shown[key] = m ? `${m[1]}${OPTIONS[key].unit}` : clicked[key];
      if (clicked[key] && shown[key] !== clicked[key]) throw failed(`chose ${key} ${clicked[key]} but Video Options shows ${shown[key]}`, true);
    }
    return shown;
  }

  /** The visible option texts of one kind (whatever their role: menu items, options, plain buttons). */
  private optionItems(kind: OptionKind): Locator {
    return this.page.getByText(kind.item).filter({ visible: true });
  }

  private async chooseFromMenu(button: Locator, kind: OptionKind, wanted?: string): Promise<string | undefined> {
    const items = this.optionItems(kind);
    const anyOption = items.or(this.optionItems(kind === OPTIONS.duration ? OPTIONS.resolution : OPTIONS.duration));
    if ((await anyOption.count()) === 0) {
      await button.click({ timeout: this.t.actionMs });
      await anyOption.first().waitFor({ state: 'visible', timeout: this.t.actionMs }).catch((err: unknown) => {
        throw err instanceof Error && err.name === 'TimeoutError' ? failed(`the Video Options menu showed no duration or resolution choice`, true) : err;
      });
    }
    const offered = [...new Set((await items.allInnerTexts()).map((t) => t.trim()))];
    if (offered.length === 0) {
      if (wanted) throw failed(`${kind.name} ${wanted} is not offered (the menu has no ${kind.name} choice)`, false);
      return undefined;
    }
    const valueOf = (t: string) => Number(kind.item.exec(t)?.[1] ?? NaN);
    const target = wanted
      ? offered.find((o) => valueOf(o) === valueOf(wanted))
      : offered.reduce((a, b) => (valueOf(b) > valueOf(a) ? b : a));
    if (!target) throw failed(`${kind.name} ${wanted} is not offered (offered: ${offered.join(', ')})`, false);
    await items.filter({ hasText: new RegExp(`^\\s*${valueOf(target)}\\s*${kind.unit}\\s*$`) }).first().click({ timeout: this.t.actionMs });
    return `${valueOf(target)}${kind.unit}`;
  }

  /** Closes a menu this UI keeps open after a choice. */
  private async closeMenu(): Promise<void> {
    if ((await this.optionItems(OPTIONS.duration).or(this.optionItems(OPTIONS.resolution)).count()) > 0) await this.page.keyboard.press('Escape');
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
              return { src: v.currentSrc || v.src, readyState: v.readyState, duration: Number.isFinite(v.duration) ? v.duration : 0 };
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
    this.traffic = await GenerationTraffic.watch(this.page);
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
        // Network first: the stream's video URL, unless it asked for an A/B choice (the page's).
        const net = traffic?.state;
        if (net?.videoUrl && !net.choice && net.videoUrl !== previousSrc) return { src: net.videoUrl, readyState: 4, duration: 0, videoId: net.videoId };
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
    return pollUntil(
      async () => {
        const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
        const v = await this.video();
        const badge = (await anyOf(this.page, SEL.hdBadge).count()) > 0;
        if (v && URLS.isHdVideo(v.src) && v.readyState >= 2) return v.src;
        if (badge) return v && URLS.isHdVideo(v.src) ? v.src : URLS.hdOf(sdSrc);
        return undefined;
      },
      { timeoutMs: this.t.upscaleMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('upscale: no HD version appeared', true) },
    );
  }

  /** More options → Delete → confirm; waits until the video is gone. */
  async deleteVideo(src: string): Promise<void> {
    await this.openMoreOptions();
    const item = await this.need(SEL.deleteItem);
    await item.click({ timeout: this.t.actionMs });
    const dialog = await this.need(SEL.confirmDialog);
    const confirm = await this.need(SEL.confirmDelete, dialog);
    await confirm.click({ timeout: this.t.actionMs });
    await pollUntil(
      async () => {
        const v = await this.video();
        return !v || v.src !== src ? true : undefined;
      },
      { timeoutMs: this.t.actionMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('delete: the video is still there', true) },
    );
  }
}
