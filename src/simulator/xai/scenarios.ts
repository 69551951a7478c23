// Prompt markers of the xAI API stand-in, in the browser simulator's `#sim:<name>[=<value>]`
// style (../scenarios.ts). The stand-in strips them before "generating"; tries are counted per
// endpoint + clean prompt, so "the first try" means the first submission of that prompt.
//
//   #sim:moderate        done, but `video.respect_moderation: false` (images: the same field) on every try
//   #sim:moderate=N      the same on the first N tries
//   #sim:ratelimit[=S]   the first try is refused: 429 with `Retry-After: S` (default 1 s)
//   #sim:expired         the request ends `status: "expired"`
//   #sim:failed          the request ends `status: "failed"` with an error message
//   #sim:slow=S          the generation takes S seconds instead of the default
//   #sim:stuck           the request stays `pending` forever
//   #sim:error[=N]       the first N submissions (default 1) answer 500
//   #sim:pollerror       the first poll of the request answers 503
//   #sim:invalid         400 naming the prompt as the bad argument

export interface XaiScenario {
  /** undefined: never; Infinity: every try; N: the first N tries. */
  moderate?: number;
  /** Retry-After in seconds of the first try; undefined: no rate limit. */
  ratelimitS?: number;
  expired: boolean;
  failed: boolean;
  slowMs?: number;
  stuck: boolean;
  /** Submissions answered 500 (the first N). */
  errors: number;
  pollError: boolean;
  invalid: boolean;
}

const MARKER = /#sim:([a-z]+)(?:=([0-9]+(?:\.[0-9]+)?))?/gi;

export function parseXaiScenario(raw: string): { prompt: string; scenario: XaiScenario } {
  const scenario: XaiScenario = { expired: false, failed: false, stuck: false, errors: 0, pollError: false, invalid: false };
  for (const m of raw.matchAll(MARKER)) {
    const value = m[2] === undefined ? undefined : Number(m[2]);
    switch (m[1]!.toLowerCase()) {
      case 'moderate':
        scenario.moderate = value === undefined ? Infinity : Math.floor(value);
        break;
      case 'ratelimit':
        scenario.ratelimitS = value ?? 1;
        break;
      case 'expired':
        scenario.expired = true;
        break;
      case 'failed':
        scenario.failed = true;
        break;
      case 'slow':
        if (value !== undefined) scenario.slowMs = Math.round(value * 1000);
        break;
      case 'stuck':
        scenario.stuck = true;
        break;
      case 'error':
        scenario.errors = value === undefined ? 1 : Math.floor(value);
        break;
      case 'pollerror':
        scenario.pollError = true;
        break;
      case 'invalid':
        scenario.invalid = true;
        break;
      default:
        break;
    }
  }
  return { prompt: raw.replace(MARKER, '').replace(/\s{2,}/g, ' ').trim(), scenario };
}
