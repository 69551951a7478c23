import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ImageResult, XaiClient } from './client';
import { MAX_IMAGES_PER_CALL } from './limits';

// xAI answers up to 10 images per call (`n`): a job's image items in groups of 10 share one
// call. The group's first item's row holds the call (RunOptions.shared); whichever item of
// the group comes first makes it, the others wait for its answer and take their image. A call
// whose maker died before answering (recorded, never answered) is taken over after STALE_MS:
// like a single image call that never answered, it may have been charged.

const STALE_MS = 120_000;
const LOOK_MS = 200;

const call = z.object({
  id: z.string(),
  at: z.number(),
  n: z.number().int().positive(),
  urls: z.array(z.string()).optional(),
  moderated: z.array(z.boolean()).optional(),
  costTicks: z.number().int().nonnegative().optional(),
});
export type SharedCall = z.infer<typeof call>;

function parseCall(text: string | null): SharedCall | undefined {
  if (!text) return undefined;
  try {
    const parsed = call.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Item `index` of a job of `count` images: its group's first item, the group's size, its place in it. */
export function imageGroup(index: number, count: number): { leader: number; size: number; position: number } {
  const leader = Math.floor(index / MAX_IMAGES_PER_CALL) * MAX_IMAGES_PER_CALL;
  return { leader, size: Math.min(MAX_IMAGES_PER_CALL, count - leader), position: index - leader };
}

/** The item's share of the call's cost: an equal part, the remainder on the first. */
export function shareOf(total: number, n: number, position: number): number {
  return Math.floor(total / n) + (position === 0 ? total % n : 0);
}

type Update = (index: number, change: (current: string | null) => string | undefined) => Promise<string | null>;

/** The call serving this item's group: made here when no live one is recorded, else awaited. */
export async function groupCall(
  o: { client: XaiClient; update: Update; group: ReturnType<typeof imageGroup>; request: () => Promise<ImageResult>; fallbackTicksEach: number; signal?: AbortSignal; onWait?: () => void },
): Promise<SharedCall> {
  for (;;) {
    o.signal?.throwIfAborted();
    const id = `images-${crypto.randomUUID()}`;
    let mine = false;
    const now = Date.now();
    const text = await o.update(o.group.leader, (current) => {
      const c = parseCall(current);
      if (c && (c.urls || now - c.at < STALE_MS)) return undefined;
      mine = true;
      return JSON.stringify({ id, at: now, n: o.group.size } satisfies SharedCall);
    });
    if (mine) {
      let result: ImageResult;
      try {
        result = await o.request();
      } catch (err) {
        // Nothing was answered: the next item to come makes the call again.
        await o.update(o.group.leader, (current) => (parseCall(current)?.id === id ? '' : undefined));
        throw err;
      }
      const done: SharedCall = { id, at: now, n: o.group.size, urls: result.urls, moderated: result.moderatedEach, costTicks: result.costTicks ?? o.fallbackTicksEach * o.group.size };
      await o.update(o.group.leader, () => JSON.stringify(done));
      return done;
    }
    const c = parseCall(text);
    if (c?.urls) return c;
    o.onWait?.();
    await delay(LOOK_MS, undefined, { signal: o.signal }).catch((err: unknown) => {
      throw o.signal?.aborted ? o.signal.reason : err;
    });
  }
}
