import type { Page } from 'playwright';
import { anyOf, find, pick, pickAttached, SEL, URLS } from './selectors';
import { failed, OutcomeError } from './types';
import { blockingOutcome, installPercentWatcher, shownOrBlocked, watchGeneration, type WatchTimeouts } from './watch';
import { fillBox, pollUntil } from './util';
import { PageChanges } from './pageChanges';

export interface ComposerTimeouts extends WatchTimeouts {
  navigationMs: number;
  actionMs: number;
}

export interface GeneratedImage {
  /** Absolute URL of the image file. */
  src: string;
  /** Absolute URL of the image's post page. */
  postUrl: string;
}

/** Page object of the Grok Imagine composer (`/imagine`): text → images, image upload. */
export class ComposerPage {
  constructor(
    readonly page: Page,
    private readonly t: ComposerTimeouts,
    private readonly defaultCooldownMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  async open(baseUrl: string): Promise<void> {
    await this.page.goto(URLS.composer(baseUrl), { waitUntil: 'domcontentloaded', timeout: this.t.navigationMs });
    // The prompt box or a blocking state, whichever shows first (see PostPage.ready).
    await shownOrBlocked(this.page, SEL.imaginePrompt, { what: 'composer', timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, defaultCooldownMs: this.defaultCooldownMs, signal: this.signal });
  }

  /** Uploads a local image; resolves with the new post's URL once its page is open. */
  async upload(imagePath: string): Promise<string> {
    const input = await pickAttached(this.page, SEL.uploadInput);
    if (!input) throw failed(`could not find ${SEL.uploadInput.description}`, true);
    await input.setInputFiles(imagePath, { timeout: this.t.actionMs });
    // The page navigates to the new post once Grok stored the upload, or shows why not.
    return pollUntil(
      async () => {
        if (URLS.isPost(this.page.url())) return this.page.url();
        const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
        return undefined;
      },
      { timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('upload: no post page opened', true), changes: new PageChanges(this.page) },
    );
  }

  private async images(): Promise<GeneratedImage[]> {
    for (const css of SEL.generatedImages.css) {
      const found = await this.page
        .$$eval(css, (els) =>
          els
            .filter((e) => (e as HTMLElement).offsetParent !== null)
            .map((e) => ({ src: (e as HTMLImageElement).currentSrc || (e as HTMLImageElement).src, postUrl: (e.closest('a') as HTMLAnchorElement | null)?.href ?? '' })),
        )
        .catch(() => [] as GeneratedImage[]);
      if (found.length > 0) return found;
    }
    return [];
  }

  /** Types the prompt, submits, and waits for the generated images. */
  async generate(prompt: string, onPercent: (p: number) => void, onSubmit?: () => void): Promise<GeneratedImage[]> {
    // What is there already, the box, the submit button and the percentage watcher: asked at once.
    const [shown, { locator: box }, submit] = await Promise.all([
      this.images(),
      find(this.page, SEL.imaginePrompt, this.t.actionMs),
      pick(this.page, SEL.imagineSubmit),
      installPercentWatcher(this.page),
    ]);
    const before = new Set(shown.map((i) => i.src));
    await fillBox(box, prompt, this.t.actionMs);
    onSubmit?.();
    if (submit) await submit.click({ timeout: this.t.actionMs });
    else await box.press('Enter');
    return watchGeneration<GeneratedImage[]>({
      page: this.page,
      signal: this.signal,
      timeouts: this.t,
      defaultCooldownMs: this.defaultCooldownMs,
      onPercent,
      done: async ({ dom }) => {
        // Images show in the page only: looked for when it changed other than its percentage.
        if (!dom) return undefined;
        const now = (await this.images()).filter((i) => !before.has(i.src) && i.postUrl);
        if (now.length === 0) return undefined;
        // Wait until each shown image has really loaded.
        const loaded = await anyOf(this.page, SEL.generatedImages)
          .evaluateAll((els) => els.every((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0))
          .catch(() => false);
        return loaded ? now : undefined;
      },
    });
  }

  /** Opens a generated image's post page. */
  async openImagePost(image: GeneratedImage): Promise<void> {
    const link = this.page.locator(`a[href="${new URL(image.postUrl).pathname}"]`).first();
    if ((await link.count()) > 0) {
      await Promise.all([this.page.waitForURL((u) => URLS.isPost(u.toString()), { timeout: this.t.navigationMs }), link.click({ timeout: this.t.actionMs })]);
    } else {
      await this.page.goto(image.postUrl, { waitUntil: 'domcontentloaded', timeout: this.t.navigationMs });
    }
  }
}
