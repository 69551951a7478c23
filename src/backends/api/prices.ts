import { usdToTicks } from './cost';
import { VIDEO_RESOLUTIONS, type VideoResolution } from './limits';

// What a video second costs, by model and resolution: the budget's estimate, and the cost an
// item records when xAI reports none. xAI's reported `usage.cost_in_usd_ticks` is the truth
// whenever it is there. The table is a setting (XAI_VIDEO_PRICES) so a price change at xAI is
// an environment change, not a release.
//
// Defaults: grok-imagine-video at xAI's published $0.05/s (480p) and $0.07/s (720p)
// (docs.x.ai/developers/models, pricing); grok-imagine-video-1.5 at $0.08/s (480p) and
// $0.14/s (720p) as listed for its preview, and $0.20/s at 1080p, grokflow's own guess where
// no published figure was found: set XAI_VIDEO_PRICES to xAI's price when you have it.

export const DEFAULT_VIDEO_PRICES = 'grok-imagine-video:480p=0.05,720p=0.07;grok-imagine-video-1.5:480p=0.08,720p=0.14,1080p=0.20';

/** USD per second, by model, then resolution. */
export type VideoPriceTable = Record<string, Partial<Record<VideoResolution, number>>>;

/** `model:res=usd,res=usd;model:…` → the table; throws naming the bad part. */
export function parseVideoPrices(text: string): VideoPriceTable {
  const table: VideoPriceTable = {};
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([\w.-]+):(.+)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not model:resolution=usd[,resolution=usd…]`);
    const row: Partial<Record<VideoResolution, number>> = {};
    for (const cell of m[2]!.split(',').map((c) => c.trim())) {
      const c = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(cell);
      if (!c || !(VIDEO_RESOLUTIONS as readonly string[]).includes(c[1]!)) throw new Error(`"${cell}" in ${m[1]} is not resolution=usd (resolutions: ${VIDEO_RESOLUTIONS.join(', ')})`);
      row[c[1] as VideoResolution] = Number(c[2]);
    }
    table[m[1]!] = row;
  }
  if (Object.keys(table).length === 0) throw new Error('names no model');
  return table;
}

/** What a parse error of the setting says, or undefined: for config.ts's check. */
export function videoPricesProblem(text: string): string | undefined {
  try {
    parseVideoPrices(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface Prices {
  /** The XAI_VIDEO_PRICES setting. */
  XAI_VIDEO_PRICES: string;
  XAI_IMAGE_USD: number;
}

/** Ticks per second of `model` at `resolution` (480p when unset, the API's default). */
export function videoTicksPerSecond(prices: Prices, model: string, resolution: string | undefined): number {
  const res = (resolution ?? '480p') as VideoResolution;
  const usd = parseVideoPrices(prices.XAI_VIDEO_PRICES)[model]?.[res];
  if (usd === undefined) throw new Error(`XAI_VIDEO_PRICES has no price for ${model} at ${res}`);
  return usdToTicks(usd);
}

/** The dollars of one cell, for messages. */
export function videoUsdPerSecond(prices: Prices, model: string, resolution: string | undefined): number {
  return parseVideoPrices(prices.XAI_VIDEO_PRICES)[model]?.[(resolution ?? '480p') as VideoResolution] ?? NaN;
}
