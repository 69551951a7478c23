import { usdToTicks } from './cost';

// How a video payload becomes xAI requests: the first generation's seconds, then the
// extensions that bring it to `extend` seconds. The same arithmetic gives the budget's estimate.

/** xAI's longest generation and extension, in seconds. */
export const MAX_SECONDS = 15;

/** The payload's duration in seconds: `max` is xAI's longest, `6s`/`10s` what they say. */
export function videoSeconds(duration: string | undefined): number {
  switch (duration ?? 'max') {
    case 'max':
      return MAX_SECONDS;
    case '6s':
      return 6;
    case '10s':
      return 10;
    default:
      throw new RangeError(`duration "${duration}" is not max, 6s or 10s`);
  }
}

/** Seconds each extension adds to reach `extendTo` from `first` (none when it is long enough already). */
export function extensionSteps(first: number, extendTo: number | undefined): number[] {
  const steps: number[] = [];
  for (let length = first; extendTo !== undefined && length < extendTo; ) {
    const add = Math.min(MAX_SECONDS, extendTo - length);
    steps.push(add);
    length += add;
  }
  return steps;
}

export interface Prices {
  XAI_VIDEO_USD_PER_SECOND: number;
  XAI_IMAGE_USD: number;
}

/** What one item is expected to cost, in ticks: seconds × price per second, or the price of an image. */
export function itemEstimateTicks(kind: 'video' | 'image', prices: Prices, video?: { duration?: string; extendTo?: number }): number {
  if (kind === 'image') return usdToTicks(prices.XAI_IMAGE_USD);
  const first = videoSeconds(video?.duration);
  const seconds = first + extensionSteps(first, video?.extendTo).reduce((a, b) => a + b, 0);
  return seconds * usdToTicks(prices.XAI_VIDEO_USD_PER_SECOND);
}
