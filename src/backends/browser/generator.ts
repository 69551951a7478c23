import type { Generator, ItemOutcome, ItemRequest, RunOptions } from '../types';
import type { GrokDriver } from './driver';
import type { ImageOutcome } from './types';

/** The browser backend: Grok Imagine's pages, driven in Chromium with the user's own accounts. */
export function browserGenerator(driver: GrokDriver): Generator & { driver: GrokDriver } {
  return {
    driver,
    async generate(req: ItemRequest, opts: RunOptions = {}): Promise<ItemOutcome> {
      const common = { jobId: String(req.jobId), itemIndex: req.itemIndex, account: req.account, prompt: req.prompt, downloadPath: req.downloadPath };
      if (req.kind === 'image') return firstImage(await driver.generateImage(common, opts));
      const v = req.video;
      if (!v) throw new Error(`video item ${req.jobId}/${req.itemIndex} has no video options`);
      const outcome = await driver.generateVideo({
        ...common,
        postUrl: v.postUrl,
        imagePath: v.imagePath,
        duration: v.duration,
        resolution: v.resolution,
        aspectRatio: v.aspectRatio,
        mode: v.mode,
        extendTo: v.extendTo,
        upscale: v.upscale,
        deleteAfterDownload: v.deleteAfterDownload,
        owner: req.owner,
      }, opts);
      if (outcome.kind !== 'success') return outcome;
      // The driver lists SD then HD (the last is the main file); an older sidecar lists none.
      const all = outcome.files.length > 0 ? outcome.files : [outcome];
      const files = all.map((f, i) => ({ mediaUrl: f.mediaUrl, filePath: f.filePath, sha256: f.sha256, bytes: f.bytes, hd: outcome.hd && i === all.length - 1 }));
      return { kind: 'success', files, duration: outcome.duration, resolution: outcome.resolution, steps: outcome.steps, quota: outcome.quota };
    },
    prepare: (req) => driver.openAhead(req.account, req.postUrl, {
      options: { duration: req.video.duration ?? 'max', resolution: req.video.resolution, aspectRatio: req.video.aspectRatio, mode: req.video.mode },
      ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
    }),
    preparing: () => driver.aheadCount(),
    close: () => driver.close(),
  };
}

// An image item is one image: the page may offer several, the item keeps the first.
function firstImage(outcome: ImageOutcome): ItemOutcome {
  if (outcome.kind !== 'success') return outcome;
  const image = outcome.images[0];
  if (!image) return { kind: 'failed', reason: 'no image was downloaded', retryable: true };
  return { kind: 'success', files: [{ mediaUrl: image.mediaUrl, filePath: image.filePath, sha256: image.sha256, bytes: image.bytes, hd: false }], steps: outcome.steps, quota: outcome.quota };
}
