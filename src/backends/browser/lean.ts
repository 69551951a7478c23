import type { CDPSession, Page } from 'playwright';

// CPU per session: a page left alone decodes and loops every video it shows (the post's
// result, both A/B candidates), which on a shared machine costs more than the rest of a
// generation. The driver needs only the videos' URLs — it downloads the file itself with the
// same session's cookies, so Grok still sees that file fetched once, by this session — so the
// page is kept from fetching media, and from fetching fonts it never needs to read text.
//
// Blocked in the network layer (DevTools Network.setBlockedURLs), not with page.route():
// routing pauses every request of the page in Node, which costs more than it saves.
export const BLOCKED_URL_PATTERNS = ['*.mp4', '*.mp4?*', '*.webm', '*.webm?*', '*.m3u8', '*.m3u8?*', '*.woff', '*.woff2', '*.ttf'];

/** Keeps a page from fetching what the driver never needs; lasts as long as the returned session. */
export async function keepLean(page: Page): Promise<CDPSession | undefined> {
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBlockedURLs', { urls: BLOCKED_URL_PATTERNS });
    return cdp;
  } catch {
    return undefined; // not Chromium: the page plays its media, which costs CPU but nothing else
  }
}
