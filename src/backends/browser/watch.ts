import type { Locator, Page, Request } from 'playwright';
import { anyOf, parseCooldownMs, pick, SEL, TEXTS, type Sel } from './selectors';
import { failed, OutcomeError, type FailureOutcome } from './types';
import { firstOf, QUIET_LOOK_MS, sleep } from './util';
import type { GenerationTraffic } from './network';
import { PageChanges, watchedPercent, type PageWake } from './pageChanges';

export { installPercentWatcher } from './pageChanges';

// Telling the outcomes apart while a generation runs: toasts, walls, the percentage, and
// whatever the caller calls "done" (a playable video, a grid of images).

export interface WatchTimeouts {
  /** No percentage at all after pressing generate. */
  progressStartMs: number;
  /** The percentage did not move for this long. */
  stuckMs: number;
  /** The whole generation. */
  generationMs: number;
  pollMs: number;
}

/** Every visible element of any blocking state, as one locator (one round trip to ask). */
function anyBlocker(page: Page): Locator {
  const blockers = [SEL.signInLink, SEL.moderatedToast, SEL.rateLimitToast, SEL.serverErrorToast, SEL.networkErrorToast, SEL.notFound];
  return blockers.map((s) => anyOf(page, s)).reduce((a, b) => a.or(b));
}

/** Any blocking state on the page: the login wall, moderation, rate limit, errors. */
export async function blockingOutcome(page: Page, defaultCooldownMs: number): Promise<FailureOutcome | undefined> {
  // One round trip in the common case (nothing blocking), then the details.
  const signInPage = /\/sign-in\b/.test(page.url());
  if (!signInPage) {
    if ((await anyBlocker(page).count().catch(() => 0)) === 0) return undefined;
  }
  const [wallIn, wallUp] = await Promise.all([anyOf(page, SEL.signInLink).count(), anyOf(page, SEL.signUpLink).count()]);
  if ((wallIn > 0 && wallUp > 0) || signInPage) {
    return { kind: 'authRequired', message: 'the session is logged out (login wall)' };
  }
  const moderated = anyOf(page, SEL.moderatedToast);
  if ((await moderated.count()) > 0) {
    return { kind: 'moderated', message: ((await moderated.first().textContent().catch(() => '')) ?? '').trim() || 'Content Moderated' };
  }
  const limited = anyOf(page, SEL.rateLimitToast);
  if ((await limited.count()) > 0) {
    // The whole toast (message + upgrade offer) is the text to read a waiting time from.
    const text = (await limited.first().evaluate((e) => (e.closest('[role="alert"],[role="status"]') ?? e).textContent ?? '').catch(() => '')).trim();
    return { kind: 'rateLimited', cooldownMs: parseCooldownMs(text) ?? defaultCooldownMs, message: text || 'Rate limit reached' };
  }
  if ((await anyOf(page, SEL.serverErrorToast).count()) > 0) {
    return { kind: 'failed', reason: 'generation error: Server failed to respond', retryable: true };
  }
  if ((await anyOf(page, SEL.networkErrorToast).count()) > 0) {
    return { kind: 'failed', reason: 'network: the connection dropped mid-generation', retryable: true };
  }
  if ((await anyOf(page, SEL.notFound).count()) > 0) {
    return { kind: 'failed', reason: 'the post does not exist', retryable: false };
  }
  return undefined;
}

/** Current percentage shown, if any. */
export async function readPercent(page: Page): Promise<number | undefined> {
  const texts = await anyOf(page, SEL.progress).allTextContents().catch(() => [] as string[]);
  for (const t of texts) {
    const m = TEXTS.percent.exec(t);
    if (m) return Math.min(100, Number(m[1]));
  }
  return undefined;
}

/**
 * Waits until `sel` shows, or a blocking state does (the login wall, not found, a toast),
 * whichever first; throws the blocking state's outcome. The wait is one locator wait in the
 * page (Playwright re-checks at each animation frame there), not a poll from here. A
 * redirect to a sign-in page may show neither, so the wait is cut in slices of a second that
 * each end with a look at the URL; a page that shows a blocker's link while its content is
 * fine (a header "Sign in") goes on waiting for `sel`.
 */
export async function shownOrBlocked(
  page: Page,
  sel: Sel,
  o: { what: string; timeoutMs: number; pollMs: number; defaultCooldownMs: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  const either = anyOf(page, sel).or(anyBlocker(page)).first();
  const changes = new PageChanges(page);
  for (;;) {
    o.signal?.throwIfAborted();
    const left = deadline - Date.now();
    const seen = await either.waitFor({ state: 'visible', timeout: Math.max(1, Math.min(QUIET_LOOK_MS, left)) }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof Error && err.name === 'TimeoutError') return false;
        throw err;
      },
    );
    // Both asked at once: one round trip's latency.
    const [blocked, shown] = await Promise.all([blockingOutcome(page, o.defaultCooldownMs), seen ? pick(page, sel) : undefined]);
    if (blocked) throw new OutcomeError(blocked);
    if (shown) return;
    if (Date.now() >= deadline) throw failed(`${o.what} did not show ${sel.description}`, true);
    // Seen but not ours (a blocker's link alone): wait for a change before asking again.
    if (seen) {
      await changes.next(Math.min(QUIET_LOOK_MS, deadline - Date.now()), o.signal);
      await sleep(o.pollMs, o.signal);
    }
  }
}

/**
 * Failed fetch/XHR requests (a dropped connection), excluding the page's own cancellations;
 * `failed` resolves at the first one (a wait for the page's next change ends there too).
 */
export function trackNetworkFailures(page: Page): { failure(): string | undefined; failed: Promise<void>; dispose(): void } {
  let failure: string | undefined;
  let wake!: () => void;
  const failed = new Promise<void>((r) => (wake = r));
  const onFailed = (r: Request) => {
    const type = r.resourceType();
    const text = r.failure()?.errorText ?? '';
    if ((type === 'fetch' || type === 'xhr') && !/ERR_ABORTED|NS_BINDING_ABORTED|cancelled/i.test(text)) {
      failure = text || 'request failed';
      wake();
    }
  };
  page.on('requestfailed', onFailed);
  return { failure: () => failure, failed, dispose: () => page.off('requestfailed', onFailed) };
}

/**
 * While the generation's stream is read (network.ts), the page is asked once a second, not
 * every poll, whether anything besides its percentage changed, and looked at only then: the
 * lines carry progress, the video and moderation, and the page is only asked for what only it
 * shows (a toast, a login wall, the A/B question). Each look costs the renderer and this
 * process a few DevTools round trips, which at 20 a second per session was most of a waiting
 * session's CPU.
 */
export const DOM_CHECK_WHILE_STREAMING_MS = 1000;

/**
 * Without a stream, a change of the page's percentage alone wakes the watch loop at most this
 * often once the first percentage was seen (the first wakes it at once: the submit step ends
 * there): the page may count every 100 ms, and each wake is a round trip for both processes.
 * Any other change (the video, a toast) wakes it at once. Progress reports are throttled to
 * PROGRESS_THROTTLE_MS (1 s) further on anyway.
 */
export const PERCENT_WAKE_MS = 250;

export interface WatchArgs<T> {
  page: Page;
  signal?: AbortSignal;
  timeouts: WatchTimeouts;
  defaultCooldownMs: number;
  /**
   * Returns the result once the generation is done (called only after a percentage was seen).
   * `dom`: whether the page may be looked at this time (false: the stream alone, see above).
   */
  done(look: { dom: boolean }): Promise<T | undefined>;
  /** The generation's own traffic, read first; the DOM is the fallback. */
  traffic?: GenerationTraffic;
  /** Called on every poll before done(): e.g. resolve an A/B choice. */
  beforeDone?(look: { dom: boolean }): Promise<void>;
  onPercent?(p: number): void;
}

/**
 * Watches a generation until `done` returns its result, or a blocking state, a dropped
 * connection, a stuck or missing percentage or the time limit ends it.
 *
 * Why it waits where it does: the page is looked at when it changed (PageChanges: one round
 * trip waiting in the page), at most once per `pollMs` (a page that animates all the time costs
 * no more than a poll), and once a second when nothing changes (the timeouts; what no mutation
 * shows). A change of the percentage alone is no reason to look: the wait's answer carries it
 * (PERCENT_WAKE_MS). While the generation's stream is read the stream's lines wake it instead
 * (see DOM_CHECK_WHILE_STREAMING_MS). A look asks its questions at once (one round trip's
 * latency, not one per question).
 */
export async function watchGeneration<T>(args: WatchArgs<T>): Promise<T> {
  const { page, signal, timeouts } = args;
  const net = trackNetworkFailures(page);
  const changes = new PageChanges(page);
  const start = Date.now();
  let lastPercent: number | undefined;
  let lastChange = Date.now();
  let seen = false;
  let lastDom = 0;
  // What the page's last wait saw; the first look is a whole one.
  let wake: PageWake = { kind: 'other' };
  try {
    for (;;) {
      signal?.throwIfAborted();
      const lookAt = Date.now();
      const stream = args.traffic?.state;
      const live = args.traffic?.live() ?? false;
      // The page is looked at when it changed other than its percentage (or was quiet for a
      // second) until the stream speaks; then when the stream says it ended (a video, a
      // choice, moderation, an error), and when a once-a-second question finds it changed.
      const ended = !!stream && (!!stream.videoUrl || stream.choice || stream.moderated || !!stream.error);
      let dom: boolean;
      if (ended) dom = true;
      else if (live) {
        dom = false;
        if (Date.now() - lastDom >= DOM_CHECK_WHILE_STREAMING_MS) {
          lastDom = Date.now();
          dom = (await changes.next(0, signal)).kind === 'other';
        }
      } else dom = wake.kind !== 'percent';
      if (dom) lastDom = Date.now();
      const fromStream = stream?.progress;
      const fromWake = wake.kind === 'percent' ? wake.percent : undefined;
      const askPercent = dom && fromStream === undefined;
      const seenBefore = seen;
      const [blocked, shown, watched, , result] = await Promise.all([
        dom ? blockingOutcome(page, args.defaultCooldownMs) : undefined,
        askPercent ? readPercent(page) : undefined,
        askPercent && !seen ? watchedPercent(page) : undefined,
        // Once a percentage was seen, the end is looked for in the same round trip.
        seenBefore ? args.beforeDone?.({ dom }) : undefined,
        seenBefore ? args.done({ dom }) : undefined,
      ]);
      if (blocked) throw new OutcomeError(blocked);
      const netFailure = net.failure();
      if (netFailure) throw failed(`network: ${netFailure}`, true);

      if (stream?.moderated) throw new OutcomeError({ kind: 'moderated', message: stream.moderatedWhy ?? 'Content Moderated (reported by the generation stream)' });
      if (stream?.error === 'unauthenticated') throw new OutcomeError({ kind: 'authRequired', message: 'the session is logged out (generation stream)' });
      if (stream?.error) throw failed(`generation error: Server failed to respond (${stream.error})`, true);

      const p = fromStream ?? shown ?? watched ?? fromWake;
      if (p !== undefined) {
        seen = true;
        if (p !== lastPercent) {
          lastPercent = p;
          lastChange = Date.now();
          args.onPercent?.(p);
        }
      }
      if (result !== undefined) return result;
      // The first percentage was seen in this look: the end may already be there too.
      if (seen && !seenBefore) {
        await args.beforeDone?.({ dom });
        const now = await args.done({ dom });
        if (now !== undefined) return now;
      }
      const now = Date.now();
      if (!seen && now - start > timeouts.progressStartMs) throw failed('no progress percentage appeared after pressing generate', true);
      if (seen && lastPercent !== undefined && now - lastChange > timeouts.stuckMs) {
        throw failed(`stuck: progress stayed at ${lastPercent}% for ${Math.round((now - lastChange) / 1000)} s`, true);
      }
      if (now - start > timeouts.generationMs) throw failed(`timeout: generation took over ${Math.round(timeouts.generationMs / 1000)} s`, true);
      if (args.traffic && live) {
        // A stream being read wakes the loop at its next line.
        await args.traffic.nextChange(DOM_CHECK_WHILE_STREAMING_MS, signal);
      } else {
        // Before the stream speaks (or without one): the page's next change, a line of the
        // stream, or a failed request, whichever first. Anything but the page's answer is a
        // reason for a whole look.
        const traffic = args.traffic;
        let woke: PageWake = { kind: 'other' };
        await firstOf(signal, [
          async (s) => {
            const w = await changes.next(QUIET_LOOK_MS, s, { percentAfterMs: seen ? PERCENT_WAKE_MS : 0 });
            if (!s.aborted) woke = w;
          },
          () => net.failed,
          ...(traffic ? [(s: AbortSignal) => traffic.nextChange(QUIET_LOOK_MS, s)] : []),
        ]);
        wake = woke;
        const left = timeouts.pollMs - (Date.now() - lookAt);
        if (left > 0) await sleep(left, signal);
      }
    }
  } finally {
    net.dispose();
  }
}
