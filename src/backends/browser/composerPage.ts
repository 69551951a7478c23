import type { Page } from 'playwright';
import { anyOf, find, pick, pickAttached, SEL, URLS } from './selectors';
import { failed, OutcomeError } from './types';
import { blockingOutcome, installPercentWatcher, watchGeneration, type WatchTimeouts } from './watch';
import { pollUntil } from './util';

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
    await pollUntil(
      async () => {
        const blocked = await blockingOutcome(this.page, this.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
        return (await pick(this.page, SEL.imaginePrompt)) ? true : undefined;
      },
      { timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed(`composer did not show ${SEL.imaginePrompt.description}`, true) },
    );
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
      { timeoutMs: this.t.navigationMs, pollMs: this.t.pollMs, signal: this.signal, onTimeout: () => failed('upload: no post page opened', true) },
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
    const before = new Set((await this.images()).map((i) => i.src));
    const { locator: box } = await find(this.page, SEL.imaginePrompt, this.t.actionMs);
    await box.click({ timeout: this.t.actionMs });
    await box.fill(prompt, { timeout: this.t.actionMs });
    await installPercentWatcher(this.page);
    onSubmit?.();
    const submit = await pick(this.page, SEL.imagineSubmit);
    if (submit) await submit.click({ timeout: this.t.actionMs });
    else await box.press('Enter');
    return watchGeneration<GeneratedImage[]>({
      page: this.page,
      signal: this.signal,
      timeouts: this.t,
      defaultCooldownMs: this.defaultCooldownMs,
      onPercent,
      done: async () => {
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
