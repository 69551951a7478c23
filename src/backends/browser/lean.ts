import type { CDPSession, Page } from 'playwright';

// CPU per session: a page left alone decodes and loops every video it shows (the post's
// result, both A/B candidates), which on a shared machine costs more than the rest of a
// generation. The driver needs only the videos' URLs — it downloads the file itself with the
// same session's cookies, so Grok still sees that file fetched once, by this session — so the
// page is kept from fetching media, and from fetching fonts it never needs to read text.
//
// Refused in the browser's network layer by DevTools' Fetch domain, paused only for these
// patterns: no other request of the page waits for this process. Not page.route() (it pauses
// every request of the page in Node), and not Network.setBlockedURLs (it works only with the
// session's Network domain enabled, which sends this process an event for every request and
// every chunk the page receives — a stream of some hundred events per generation, parsed here
// and by the browser for nothing).
export const BLOCKED_URL_PATTERNS = ['*.mp4', '*.mp4?*', '*.webm', '*.webm?*', '*.m3u8', '*.m3u8?*', '*.woff', '*.woff2', '*.ttf'];

/** Keeps a page from fetching what the driver never needs; lasts as long as the returned session (the page's life, across navigations). */
export async function keepLean(page: Page): Promise<CDPSession | undefined> {
  try {
    const cdp = await page.context().newCDPSession(page);
    cdp.on('Fetch.requestPaused', (e) => void cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'BlockedByClient' }).catch(() => {}));
    // Fetch patterns: `*` any run of characters, `?` any one (the query's `?` included).
    await cdp.send('Fetch.enable', { patterns: BLOCKED_URL_PATTERNS.map((urlPattern) => ({ urlPattern, requestStage: 'Request' as const })) });
    return cdp;
  } catch {
    return undefined; // not Chromium: the page plays its media, which costs CPU but nothing else
  }
}
