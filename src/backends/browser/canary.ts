import type { Page } from 'playwright';
import { GrokBrowser, type BrowserSettings } from './browser';
import { anyOf, find, pick, pickAttached, SEL, URLS, type Sel } from './selectors';
import { OutcomeError } from './types';
import type { ServiceQuota } from '../types';
import { readQuota } from './quota';
import { blockingOutcome } from './watch';
import { VideoOptionsMenu } from './videoOptions';

// The canary (`grokflow accounts check <name>`): opens the configured Grok with an account's
// saved session and checks, without generating anything, that it is logged in and that every
// selector of the composer and the post page resolves — so a redesign shows up here before
// jobs fail on it.

export interface CanaryRow {
  page: 'composer' | 'post';
  selector: string;
  /** The strategy that found it ('role button "…"', 'text …', 'css …'); undefined: missing. */
  via?: string;
  ms: number;
  /** 'skipped: …' when the page cannot show it (e.g. video actions on a post without video). */
  note?: string;
}

export interface CanaryReport {
  account: string;
  loggedIn: boolean;
  rows: CanaryRow[];
  /** Descriptions of what could not be found (empty: all good). */
  missing: string[];
  /** What Grok's quota_info said the account has left (absent: Grok did not say). */
  quota?: ServiceQuota;
}

export interface CanaryOptions {
  baseUrl: string;
  /** A post permalink for the post-page selectors; default: the first post the composer links to. */
  postUrl?: string;
  /** How long each selector may take to show once its page has loaded. */
  actionMs: number;
  navigationMs: number;
  /** No post to check (none given, none linked from the composer) is a note, not a failure (the scheduled canary). */
  postOptional?: boolean;
}

const COMPOSER: Array<keyof typeof SEL> = ['imaginePrompt', 'imagineSubmit'];
const POST: Array<keyof typeof SEL> = ['promptBox', 'makeVideo', 'videoOptions'];
/** Shown only once the post has a video. */
const POST_VIDEO: Array<keyof typeof SEL> = ['moreOptions', 'download'];

export async function runCanary(settings: BrowserSettings, account: string, o: CanaryOptions): Promise<CanaryReport> {
  const browser = new GrokBrowser({ ...settings, prewarm: false });
  const report: CanaryReport = { account, loggedIn: false, rows: [], missing: [] };
  try {
    const session = await browser.openSession(account).catch((err: unknown) => {
      if (err instanceof OutcomeError && err.outcome.kind === 'authRequired') return undefined;
      throw err;
    });
    if (!session) {
      report.missing.push('a saved session (log in first)');
      return report;
    }
    try {
      const page = session.page;
      await page.goto(URLS.composer(o.baseUrl), { waitUntil: 'load', timeout: o.navigationMs });
      // Logged in? Whichever shows first: the composer's prompt box or the login wall.
      await anyOf(page, SEL.imaginePrompt).or(anyOf(page, SEL.signInLink)).first().waitFor({ state: 'visible', timeout: o.navigationMs }).catch(() => undefined);
      const blocked = await blockingOutcome(page, 0);
      if (blocked?.kind === 'authRequired' || URLS.isSignIn(page.url())) {
        report.missing.push('a logged-in session (the login wall is shown)');
        return report;
      }
      report.loggedIn = true;
      const quota = await readQuota(session.context.request, o.baseUrl, o.actionMs);
      if (quota) report.quota = quota;
      for (const key of COMPOSER) report.rows.push(await probe(page, 'composer', SEL[key], o.actionMs));
      const t0 = Date.now();
      const upload = await pickAttached(page, SEL.uploadInput);
      report.rows.push({ page: 'composer', selector: SEL.uploadInput.description, via: upload ? 'attached input' : undefined, ms: Date.now() - t0 });

      const postUrl = o.postUrl ?? (await page.locator('main a[href*="/imagine/post/"]').first().getAttribute('href', { timeout: 1000 }).catch(() => null));
      if (!postUrl) {
        if (o.postOptional) report.rows.push({ page: 'post', selector: 'the post page', ms: 0, note: 'skipped: no post to check it on' });
        else report.missing.push('a post to check the post page on (pass --post <permalink>)');
      } else {
        await page.goto(new URL(postUrl, o.baseUrl).toString(), { waitUntil: 'load', timeout: o.navigationMs });
        const shown = await blockingOutcome(page, 0);
        if (shown) report.missing.push(`the post page (${shown.kind === 'failed' ? shown.reason : shown.message})`);
        for (const key of POST) report.rows.push(await probe(page, 'post', SEL[key], o.actionMs));
        const button = await pick(page, SEL.videoOptions);
        if (button) {
          const t1 = Date.now();
          const offered = await new VideoOptionsMenu(page, button, o.actionMs).offered().catch(() => undefined);
          const ok = offered && offered.duration.length > 0 && offered.resolution.length > 0;
          report.rows.push({
            page: 'post',
            selector: 'the duration and resolution choices of Video Options',
            via: ok ? `text: ${[...offered.duration, ...offered.resolution].join(', ')}` : undefined,
            ms: Date.now() - t1,
          });
        }
        const hasVideo = (await page.locator('video').count()) > 0;
        for (const key of POST_VIDEO) {
          if (hasVideo) report.rows.push(await probe(page, 'post', SEL[key], o.actionMs));
          else report.rows.push({ page: 'post', selector: SEL[key].description, ms: 0, note: 'skipped: the post has no video' });
        }
      }
    } finally {
      await session.close();
    }
    report.missing.push(...report.rows.filter((r) => !r.via && !r.note).map((r) => r.selector));
    return report;
  } finally {
    await browser.close();
  }
}

async function probe(page: Page, where: CanaryRow['page'], sel: Sel, timeoutMs: number): Promise<CanaryRow> {
  const t0 = Date.now();
  try {
    const hit = await find(page, sel, timeoutMs);
    return { page: where, selector: sel.description, via: hit.via, ms: hit.ms };
  } catch (err) {
    if (err instanceof OutcomeError) return { page: where, selector: sel.description, ms: Date.now() - t0 };
    throw err;
  }
}
