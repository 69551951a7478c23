// Scenario markers (docs/ARCHITECTURE.md, "The simulator"). A prompt selects a behaviour with `#sim:<name>[=<value>]`;
// the simulator strips every marker before "generating", so the prompt it records is clean.
//
//   #sim:moderate        content moderated on every try
//   #sim:moderate=N      moderated on the first N tries (counted per account + kind + clean prompt)
//   #sim:ratelimit       "Rate limit reached" on the first try; the account cools down, a later try succeeds
//   #sim:expired         the session is logged out: the login wall
//   #sim:netdrop         the connection drops mid-generation; the next try succeeds
//   #sim:stuck           progress stops short of 100 % and never finishes
//   #sim:slow=S          generation takes S seconds instead of the default
// Simulator extensions (not in the design's table, documented here and in server.ts):
//   #sim:error           the "Server failed to respond" toast mid-generation
//   #sim:ab              the A/B "Which video do you prefer?" choice instead of one video
//   #sim:softblock       two side-by-side candidates, the second blocked (isSoftBlock): the first is the video
//   #sim:softblock=2     both candidates blocked (isSoftBlock, isDisallowed): the item is moderated

export interface Scenario {
  /** undefined: never; Infinity: every try; N: the first N tries. */
  moderate?: number;
  ratelimit: boolean;
  expired: boolean;
  netdrop: boolean;
  stuck: boolean;
  slowMs?: number;
  error: boolean;
  ab: boolean;
  /** Side-by-side candidates blocked: 1 the second, 2 both. */
  softblock?: number;
}

const MARKER = /#sim:([a-z]+)(?:=([0-9]+(?:\.[0-9]+)?))?/gi;

export function emptyScenario(): Scenario {
  return { ratelimit: false, expired: false, netdrop: false, stuck: false, error: false, ab: false };
}

/** Parses and strips the markers; unknown markers are stripped and ignored. */
export function parseScenario(prompt: string, base: Scenario = emptyScenario()): { prompt: string; scenario: Scenario } {
  const scenario: Scenario = { ...base };
  for (const m of prompt.matchAll(MARKER)) {
    const name = m[1]!.toLowerCase();
    const value = m[2] === undefined ? undefined : Number(m[2]);
    switch (name) {
      case 'moderate':
        scenario.moderate = value === undefined ? Infinity : Math.floor(value);
        break;
      case 'ratelimit':
        scenario.ratelimit = true;
        break;
      case 'expired':
        scenario.expired = true;
        break;
      case 'netdrop':
        scenario.netdrop = true;
        break;
      case 'stuck':
        scenario.stuck = true;
        break;
      case 'slow':
        if (value !== undefined) scenario.slowMs = Math.round(value * 1000);
        break;
      case 'error':
        scenario.error = true;
        break;
      case 'ab':
        scenario.ab = true;
        break;
      case 'softblock':
        scenario.softblock = Math.min(2, Math.max(1, Math.floor(value ?? 1)));
        break;
      default:
        break;
    }
  }
  const clean = prompt.replace(MARKER, '').replace(/\s{2,}/g, ' ').trim();
  return { prompt: clean, scenario };
}
