import { z } from 'zod';

// The API backend's resume token, saved on the item's row (job_items.backend_token) through
// the generator's resume hook: every xAI request of the item in order, how each ended and
// what it cost. Written after each submission and before its first poll, so a retried
// activity polls what it finds here instead of submitting (and paying) again; and the
// item's cost is the sum of what is here, whatever attempt recorded it.

const request = z.object({
  /** xAI's request id; an image (synchronous, no id) gets a local one. */
  id: z.string().min(1),
  kind: z.enum(['generation', 'extension', 'edit', 'image', 'batch']),
  /**
   * How it ended; absent: submitted, not yet seen to end. `unanswered`: an image request
   * whose POST never answered (the worker died during it).
   */
  end: z.enum(['done', 'moderated', 'expired', 'failed', 'unanswered']).optional(),
  costTicks: z.number().int().nonnegative().optional(),
  /** An image request's file URLs (it has no id to poll them again by). */
  urls: z.array(z.string()).optional(),
  /** A batch request's file, downloaded as soon as its result came (its URL lives one hour). */
  file: z.object({ sha256: z.string(), bytes: z.number().int().nonnegative() }).optional(),
  /** The video's length as xAI reported it. */
  seconds: z.number().nonnegative().optional(),
  /** A failed request: xAI's own error code and message, as it gave them. */
  error: z.object({ code: z.string().optional(), message: z.string() }).optional(),
});
export type TokenRequest = z.infer<typeof request>;

const token = z.object({ v: z.literal(1), requests: z.array(request) });
export type ResumeToken = z.infer<typeof token>;

export function parseToken(text: string | null | undefined): ResumeToken {
  if (!text) return { v: 1, requests: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = token.safeParse(json);
  if (!parsed.success) throw new Error(`the item's backend_token is not the API backend's: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export const serializeToken = (t: ResumeToken): string => JSON.stringify(t);

/** Every request's cost, ended or not (an unknown cost counts 0). */
export const tokenCostTicks = (t: ResumeToken): number => t.requests.reduce((n, r) => n + (r.costTicks ?? 0), 0);

/**
 * The requests of the current try: those after the last one that ended without a video
 * (moderated, expired, failed, unanswered). A new try starts from a new generation.
 */
export function currentChain(t: ResumeToken): TokenRequest[] {
  let start = 0;
  t.requests.forEach((r, i) => {
    if (r.end && r.end !== 'done') start = i + 1;
  });
  return t.requests.slice(start);
}
