import { usdToTicks } from './cost';
import { EXTENSION_MAX_RESOLUTION, EXTENSION_SECONDS, GENERATION_SECONDS, MAX_CHAIN_SECONDS, MAX_IMAGES_PER_CALL } from './limits';
import { videoTicksPerSecond, videoUsdPerSecond, type Prices } from './prices';

// How a video payload becomes xAI requests: one generation, then at most one extension (the
// API extends a source of 2–15 s by 2–10 s, limits.ts), so a chain is at most 25 s. The same
// arithmetic gives the budget's estimate.

export type { Prices };

/** The payload's duration in seconds: `max` is the API's longest generation, `6s`/`10s` what they say. */
export function videoSeconds(duration: string | undefined): number {
  switch (duration ?? 'max') {
    case 'max':
      return GENERATION_SECONDS.max;
    case '6s':
      return 6;
    case '10s':
      return 10;
    default:
      throw new RangeError(`duration "${duration}" is not max, 6s or 10s`);
  }
}

/**
 * The seconds of each request: the generation first, then the extension (if any) that brings
 * the video to at least `extendTo`. When one extension of at most 10 s cannot reach it from
 * the duration asked for, the generation is made longer (at most 15 s): `extend: 25` on `6s`
 * is a 15 s generation and a 10 s extension. An extension is never shorter than 2 s.
 */
export function videoSteps(duration: string | undefined, extendTo: number | undefined): number[] {
  let first = videoSeconds(duration);
  if (extendTo === undefined || extendTo <= first) return [first];
  if (extendTo > MAX_CHAIN_SECONDS) throw new RangeError(`extend ${extendTo} s is more than the API's ${MAX_CHAIN_SECONDS} s`);
  first = Math.max(first, Math.min(GENERATION_SECONDS.max, extendTo - EXTENSION_SECONDS.max));
  if (extendTo <= first) return [first];
  const add = Math.min(EXTENSION_SECONDS.max, Math.max(EXTENSION_SECONDS.min, extendTo - first));
  return [first, add];
}

/** The resolution each step is billed at: an extension's output is capped at 720p. */
export function stepResolution(step: number, resolution: string | undefined): string | undefined {
  return step > 0 && resolution === '1080p' ? EXTENSION_MAX_RESOLUTION : resolution;
}

/** Calls an image job of `count` images makes: 10 images at most per call. */
export function imageCalls(count: number): number[] {
  const calls: number[] = [];
  for (let left = count; left > 0; left -= MAX_IMAGES_PER_CALL) calls.push(Math.min(MAX_IMAGES_PER_CALL, left));
  return calls;
}

export interface VideoEstimateInput {
  model: string;
  duration?: string;
  extendTo?: number;
  resolution?: string;
}

/** What one item is expected to cost, in ticks: each step's seconds at its model × resolution price, or an image's price. */
export function itemEstimateTicks(kind: 'video' | 'image', prices: Prices, video?: VideoEstimateInput): number {
  if (kind === 'image') return usdToTicks(prices.XAI_IMAGE_USD);
  if (!video) throw new Error('a video estimate needs the video options');
  return videoSteps(video.duration, video.extendTo)
    .reduce((sum, seconds, i) => sum + seconds * videoTicksPerSecond(prices, video.model, stepResolution(i, video.resolution)), 0);
}

/** How the estimate was worked out, for the budget's message. */
export function estimateDetail(prices: Prices, video: VideoEstimateInput): string {
  const steps = videoSteps(video.duration, video.extendTo);
  const seconds = steps.reduce((a, b) => a + b, 0);
  return `${seconds} s of ${video.model} at ${video.resolution ?? '480p'}, $${videoUsdPerSecond(prices, video.model, video.resolution)}/s`;
}
