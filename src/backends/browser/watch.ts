import type { Page, Request } from 'playwright';
import { anyOf, parseCooldownMs, SEL, TEXTS } from './selectors';
import { failed, OutcomeError, type FailureOutcome } from './types';
import { sleep } from './util';
import type { GenerationTraffic } from './network';

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

/** Any blocking state on the page: the login wall, moderation, rate limit, errors. */
export async function blockingOutcome(page: Page, defaultCooldownMs: number): Promise<FailureOutcome | undefined> {
  // One round trip in the common case (nothing blocking), then the details.
  const signInPage = /\/sign-in\b/.test(page.url());
  if (!signInPage) {
    const blockers = [SEL.signInLink, SEL.moderatedToast, SEL.rateLimitToast, SEL.serverErrorToast, SEL.networkErrorToast, SEL.notFound];
    const any = blockers.map((s) => anyOf(page, s)).reduce((a, b) => a.or(b));
    if ((await any.count().catch(() => 0)) === 0) return undefined;
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
 * Records, in the page, the latest percentage shown — even one that came and went between
 * two polls — so "a percentage was seen" and the progress report do not depend on polling
 * luck when the machine is slow or the generation fast.
 */
export async function installPercentWatcher(page: Page): Promise<void> {
  // A string, not a function: transpilers (tsx/esbuild keepNames) may wrap named inner
  // functions in helpers that do not exist in the page.
  const script = `(() => {
    const re = new RegExp(${JSON.stringify(TEXTS.percent.source)});
    const w = window;
    w.__gfPercent = undefined;
    if (w.__gfObserver) w.__gfObserver.disconnect();
    function check(n) {
      const t = n.nodeType === Node.TEXT_NODE || n.nodeType === Node.ELEMENT_NODE ? n.textContent : null;
      const m = t && t.length < 12 ? re.exec(t) : null;
      if (m) w.__gfPercent = Math.min(100, Number(m[1]));
    }
    const obs = new MutationObserver(function (muts) {
      for (const m of muts) {
        if (m.type === 'characterData') check(m.target);
        m.addedNodes.forEach(function (n) {
          check(n);
          if (n.nodeType === Node.ELEMENT_NODE) n.querySelectorAll('span,div,p').forEach(check);
        });
      }
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true });
    w.__gfObserver = obs;
  })()`;
  await page.evaluate(script);
}

/** The latest percentage the watcher saw, if any. */
export async function watchedPercent(page: Page): Promise<number | undefined> {
  const p = await page.evaluate(() => (window as unknown as { __gfPercent?: number }).__gfPercent).catch(() => undefined);
  return typeof p === 'number' && Number.isFinite(p) ? p : undefined;
}

/** Failed fetch/XHR requests (a dropped connection), excluding the page's own cancellations. */
export function trackNetworkFailures(page: Page): { failure(): string | undefined; dispose(): void } {
  let failure: string | undefined;
  const onFailed = (r: Request) => {
    const type = r.resourceType();
    const text = r.failure()?.errorText ?? '';
    if ((type === 'fetch' || type === 'xhr') && !/ERR_ABORTED|NS_BINDING_ABORTED|cancelled/i.test(text)) failure = text || 'request failed';
  };
  page.on('requestfailed', onFailed);
  return { failure: () => failure, dispose: () => page.off('requestfailed', onFailed) };
}

/**
 * While the generation's stream is read (network.ts), the page is looked at once a second, not
 * every poll: the lines carry progress, the video and moderation, and the page is only asked
 * for what only it shows (a toast, a login wall, the A/B question). Each look costs the
 * renderer and this process a few DevTools round trips, which at 20 a second per session is
 * most of a waiting session's CPU.
 */
export const DOM_CHECK_WHILE_STREAMING_MS = 1000;

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

export async function watchGeneration<T>(args: WatchArgs<T>): Promise<T> {
  const { page, signal, timeouts } = args;
  const net = trackNetworkFailures(page);
  const start = Date.now();
  let lastPercent: number | undefined;
  let lastChange = Date.now();
  let seen = false;
  let lastDom = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const stream = args.traffic?.state;
      const live = args.traffic?.live() ?? false;
      // The page is looked at on every poll until the stream speaks, then once a second, and
      // whenever the stream says it ended (a video, a choice, moderation, an error).
      const ended = !!stream && (!!stream.videoUrl || stream.choice || stream.moderated || !!stream.error);
      const dom = !live || ended || Date.now() - lastDom >= DOM_CHECK_WHILE_STREAMING_MS;
      if (dom) {
        lastDom = Date.now();
        const blocked = await blockingOutcome(page, args.defaultCooldownMs);
        if (blocked) throw new OutcomeError(blocked);
      }
      const netFailure = net.failure();
      if (netFailure) throw failed(`network: ${netFailure}`, true);

      if (stream?.moderated) throw new OutcomeError({ kind: 'moderated', message: stream.moderatedWhy ?? 'Content Moderated (reported by the generation stream)' });
      if (stream?.error === 'unauthenticated') throw new OutcomeError({ kind: 'authRequired', message: 'the session is logged out (generation stream)' });
      if (stream?.error) throw failed(`generation error: Server failed to respond (${stream.error})`, true);

      const p = stream?.progress ?? (await readPercent(page)) ?? (seen ? undefined : await watchedPercent(page));
      if (p !== undefined) {
        seen = true;
        if (p !== lastPercent) {
          lastPercent = p;
          lastChange = Date.now();
          args.onPercent?.(p);
        }
      }
      if (seen) {
        await args.beforeDone?.({ dom });
        const result = await args.done({ dom });
        if (result !== undefined) return result;
      }
      const now = Date.now();
      if (!seen && now - start > timeouts.progressStartMs) throw failed('no progress percentage appeared after pressing generate', true);
      if (seen && lastPercent !== undefined && now - lastChange > timeouts.stuckMs) {
        throw failed(`stuck: progress stayed at ${lastPercent}% for ${Math.round((now - lastChange) / 1000)} s`, true);
      }
      if (now - start > timeouts.generationMs) throw failed(`timeout: generation took over ${Math.round(timeouts.generationMs / 1000)} s`, true);
      // The DOM fallback polls every pollMs (no page event tells a percentage changed without
      // injecting a script); a stream being read wakes the loop at its next line instead.
      if (args.traffic && live) await args.traffic.nextChange(DOM_CHECK_WHILE_STREAMING_MS, signal);
      else await sleep(timeouts.pollMs, signal);
    }
  } finally {
    net.dispose();
  }
}
