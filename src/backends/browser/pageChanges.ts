import type { Page } from 'playwright';
import { TEXTS } from './selectors';
import { sleep } from './util';

// Waiting on the page instead of polling it. One MutationObserver in the page counts its
// changes (a node added or removed, a text or an attribute changed, an image or a video
// loaded or failed) and remembers the latest progress percentage it saw. The driver then
// asks "has anything changed since change N?" in one round trip that waits in the page:
// it answers at once when something did, else at the next change, else after a bound.
// A look at the page (a handful of locator queries) is made only when there is something new
// to see, not every poll interval: no fixed poll, and no look spent on an unchanged page.
//
// A change that only rewrote the progress percentage ("37%" → "41%") is counted apart: the
// answer carries the new percentage, so a generation's progress costs the driver one round
// trip per report instead of a look (five queries of Playwright's selector engine, in the
// renderer and in this process) per tick of the page's counter (issue 24: ~8 a second on the
// simulator). Anything else — a toast, the video, a wall, a navigation — is a change to look at.

/**
 * The in-page state, kept on `window.__gf`: `seq` (changes seen), `percent`, the observer
 * and the waiters to wake. A string, not a function: transpilers (tsx/esbuild keepNames) may
 * wrap named inner functions in helpers that do not exist in the page. `fresh` is true when
 * this call created it (a new document: everything on it is new to the driver).
 */
const ENSURE = `
  const w = window;
  let fresh = false;
  if (!w.__gf || !w.__gf.obs) {
    fresh = true;
    const re = new RegExp(${JSON.stringify(TEXTS.percent.source)});
    const st = { seq: 0, other: 0, percent: undefined, waiters: new Set(), obs: undefined };
    const percentOf = (t) => {
      const m = t && t.length < 12 ? re.exec(t) : null;
      return m ? Math.min(100, Number(m[1])) : undefined;
    };
    const check = (n) => {
      const p = n.nodeType === Node.TEXT_NODE || n.nodeType === Node.ELEMENT_NODE ? percentOf(n.textContent) : undefined;
      if (p !== undefined) st.percent = p;
    };
    const onlyText = (nodes) => Array.prototype.every.call(nodes, (n) => n.nodeType === Node.TEXT_NODE);
    // A record that only rewrote a percentage: its text, or the text nodes of an element that now reads one.
    const percentOnly = (m) => (m.type === 'characterData' && percentOf(m.target.textContent) !== undefined)
      || (m.type === 'childList' && onlyText(m.addedNodes) && onlyText(m.removedNodes) && percentOf(m.target.textContent) !== undefined);
    const wake = (other) => {
      st.seq++;
      if (other) st.other++;
      for (const f of Array.from(st.waiters)) f();
    };
    st.obs = new MutationObserver((muts) => {
      let other = false;
      for (const m of muts) {
        if (m.type === 'characterData') check(m.target);
        m.addedNodes.forEach((n) => {
          check(n);
          if (n.nodeType === Node.ELEMENT_NODE) n.querySelectorAll('span,div,p').forEach(check);
        });
        if (!percentOnly(m)) other = true;
      }
      wake(other);
    });
    st.obs.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
    // An image or a video that finished loading changes what the page shows without a mutation.
    document.addEventListener('load', () => wake(true), true);
    document.addEventListener('error', () => wake(true), true);
    w.__gf = st;
  }
  const st = w.__gf;
`;
/**
 * Starts recording, in the page, the latest percentage shown — even one that came and went
 * between two looks — so "a percentage was seen" and the progress report do not depend on
 * looking at the right moment when the machine is slow or the generation fast. Forgets the
 * percentage of an earlier generation on the same page (an extension).
 */
export async function installPercentWatcher(page: Page): Promise<void> {
  await page.evaluate(`(() => { ${ENSURE} st.percent = undefined; })()`);
}

/** The latest percentage the watcher saw, if any. */
export async function watchedPercent(page: Page): Promise<number | undefined> {
  const p = await page.evaluate(() => (window as unknown as { __gf?: { percent?: number } }).__gf?.percent).catch(() => undefined);
  return typeof p === 'number' && Number.isFinite(p) ? p : undefined;
}

/**
 * What a wait saw: `other` — something besides the percentage changed (or the document is new,
 * or the page could not be asked: look at it); `percent` — only the percentage did (`percent`
 * holds it); `quiet` — nothing changed within the bound.
 */
export interface PageWake {
  kind: 'other' | 'percent' | 'quiet';
  percent?: number;
}

const PAGE_ANSWERED = new Error('the page answered first');

/**
 * The changes of one page, as seen by one waiter: `next(ms)` resolves once the page changed
 * since the previous `next` returned (at once if it already has), or after `ms`. A navigation
 * is a change (a new document); a closed page ends the wait (the next look then fails).
 */
export class PageChanges {
  /** The change counts the last answer carried; -1: none yet (the first wait returns at once). */
  private seen = -1;
  private seenOther = -1;
  /** Only the latest call's answer moves `seen`: a wait given up on may answer later. */
  private calls = 0;

  constructor(private readonly page: Page) {}

  /**
   * @param opts.percentAfterMs a change of the percentage alone wakes the wait only this long
   * after the call (undefined: at once, like any change); other changes always wake it at once.
   * `ms` ≤ 0 asks without waiting.
   */
  async next(ms: number, signal?: AbortSignal, opts: { percentAfterMs?: number } = {}): Promise<PageWake> {
    const bound = Math.max(0, Math.round(ms));
    const percentAfter = Math.max(0, Math.round(opts.percentAfterMs ?? 0));
    const script = `(() => { ${ENSURE}
      const since = ${this.seen}, sinceOther = ${this.seenOther};
      const answer = () => [st.seq, st.other, st.percent === undefined ? null : st.percent, fresh];
      if (fresh || st.other !== sinceOther || ${bound} === 0 || (st.seq !== since && ${percentAfter} === 0)) return answer();
      const t0 = Date.now();
      return new Promise((resolve) => {
        let later;
        const done = () => { clearTimeout(timer); clearTimeout(later); st.waiters.delete(check); resolve(answer()); };
        const check = () => {
          if (st.other !== sinceOther) return done();
          if (st.seq === since || later !== undefined) return;
          const left = t0 + ${percentAfter} - Date.now();
          if (left <= 0) done(); else later = setTimeout(done, left);
        };
        const timer = setTimeout(done, ${Math.max(1, bound)});
        st.waiters.add(check);
        check();
      });
    })()`;
    const call = ++this.calls;
    const since = this.seen;
    const sinceOther = this.seenOther;
    let wake: PageWake = { kind: 'other' };
    const inPage = this.page.evaluate(script).then(
      (got) => {
        if (call !== this.calls || !Array.isArray(got)) return;
        const [seq, other, percent, fresh] = got as [number, number, number | null, boolean];
        this.seen = seq;
        this.seenOther = other;
        wake = fresh || since < 0 || other !== sinceOther ? { kind: 'other' } : seq !== since ? { kind: 'percent', ...(percent !== null ? { percent } : {}) } : { kind: 'quiet' };
      },
      () => {
        if (call !== this.calls) return;
        this.seen = this.seenOther = -1; // the document went away (a navigation) or the page closed
      },
    );
    // Bounded here too: a renderer too busy to answer must not hold the caller past `ms`.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([inPage, sleep(bound + 50, stop.signal)]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stop.abort(PAGE_ANSWERED);
    }
    signal?.throwIfAborted();
    return wake;
  }
}
