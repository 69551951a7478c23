import type { CDPSession, Page } from 'playwright';

// CPU per session while Grok generates (issue 24): a headless window is still laid out,
// rasterised and composited for every change of its page (Grok's progress, several a second),
// and ten windows waiting at once cost more CPU than anything else the driver does. A
// minimized window is not drawn: on 10 pages changing a text every 30 ms, the renderers went
// from 4.1 to 0.7 CPU-s over 5 s and the GPU process from 1.1 to 0.16. The page's scripts,
// timers, network and DOM (all the driver reads while it waits) run as before, but animation
// frames come once a second, and Playwright's actions wait for frames (a click took 1.2 s
// instead of 0.3, a screenshot 2.1 s instead of 0.4): so the window is minimized only while
// nothing is clicked — the wait for Grok's result — and restored before anything is.
// Only for a long wait (hideAfterMs, 5 s by default): a window brought back is drawn whole
// again, and for the simulator's 3 s generations the cycle cost more than it saved (the slave
// bench's 1-video overhead 0.87–0.98 s without it, 1.08–1.15 s with it from the wait's start);
// for 15 s ones it saves (`npm run bench -- sessions`). Headless only: a visible browser
// (BROWSER_HEADLESS=false) is one someone watches.

export interface Offscreen {
  /** Puts the window back (idempotent, never throws); call before any click or screenshot. */
  restore(): Promise<void>;
}

const NOTHING: Offscreen = { restore: async () => {} };

interface Handle {
  cdp: CDPSession;
  windowId: number;
}

// One DevTools session per page, for the page's life (kept contexts go from one generation to the next).
const handles = new WeakMap<Page, Promise<Handle | undefined>>();

function handleFor(page: Page): Promise<Handle | undefined> {
  let h = handles.get(page);
  if (!h) {
    h = (async () => {
      const cdp = await page.context().newCDPSession(page);
      const { windowId } = await cdp.send('Browser.getWindowForTarget');
      return { cdp, windowId };
    })().catch(() => undefined); // not Chromium, or the page is gone: drawn as before
    handles.set(page, h);
  }
  return h;
}

async function setState(page: Page, windowState: 'minimized' | 'normal'): Promise<boolean> {
  const h = await handleFor(page);
  if (!h) return false;
  return h.cdp.send('Browser.setWindowBounds', { windowId: h.windowId, bounds: { windowState } }).then(
    () => true,
    () => false,
  );
}

/**
 * Minimizes the page's window once `afterMs` has passed, until restore(); `undefined`: never
 * (a headed browser, or the setting off).
 */
export function offscreenAfter(page: Page, afterMs: number | undefined): Offscreen {
  if (afterMs === undefined || page.isClosed()) return NOTHING;
  let minimized: Promise<boolean> | undefined;
  const timer = setTimeout(() => (minimized = setState(page, 'minimized')), afterMs);
  timer.unref();
  let restored: Promise<void> | undefined;
  return {
    restore: () =>
      (restored ??= (async () => {
        clearTimeout(timer);
        if (minimized && (await minimized)) await setState(page, 'normal');
      })()),
  };
}
