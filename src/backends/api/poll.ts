import { setTimeout as delay } from 'node:timers/promises';
import type { VideoState, XaiClient } from './client';
import { XaiError } from './errors';

export type FinalVideoState = Exclude<VideoState, { status: 'pending' }>;

export interface PollOptions {
  intervalMs: number;
  signal?: AbortSignal;
  /** Each pending answer's progress (0–100), when xAI gives one. */
  onProgress?: (percent: number) => void;
  /**
   * Failed looks in a row (5xx, no answer) tolerated before giving up. A blip during a
   * minutes-long generation is not worth an activity attempt: the next look usually works.
   */
  maxUnavailable?: number;
}

/** Looks at a request every `intervalMs` until it is done, expired or failed. */
export async function waitForVideo(client: XaiClient, requestId: string, opts: PollOptions): Promise<FinalVideoState> {
  const maxUnavailable = opts.maxUnavailable ?? 5;
  let unavailable = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    let wait = opts.intervalMs;
    try {
      const state = await client.videoState(requestId, opts.signal);
      unavailable = 0;
      if (state.status !== 'pending') return state;
      if (state.progress !== undefined) opts.onProgress?.(state.progress);
    } catch (err) {
      if (!(err instanceof XaiError)) throw err;
      if (err.kind === 'unavailable' && ++unavailable <= maxUnavailable) {
        wait = opts.intervalMs * unavailable;
      } else if (err.kind === 'rateLimited') {
        wait = Math.max(opts.intervalMs, err.retryAfterMs ?? opts.intervalMs);
      } else {
        throw err;
      }
    }
    await sleep(wait, opts.signal);
  }
}

/** A wait that ends early when the signal aborts, rejecting with the signal's reason. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    // timers/promises rejects with an AbortError; callers expect the signal's own reason.
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
