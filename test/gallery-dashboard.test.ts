import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { formatUsd } from '../src/backends/api/cost';
import { CHROMIUM_ARGS, SYSTEM_CHROMIUM } from '../src/shared/chromium';
import { loadConfig } from '../src/shared/config';
import { createLogger } from '../src/shared/logger';
import { GALLERY_PAGE_SIZE } from '../src/web/galleryPage';
import { startWeb, type WebConsole } from '../src/web/server';
import { ROOT } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { seedJobs, type Seeded } from './helpers/seedJobs';

// The gallery and the dashboard in real Chromium, on a database holding a few hundred jobs
// of every status, several accounts and pools, api costs and real files. Screenshots land
// in test-results/ui (docs/gallery.png and docs/dashboard.png are copies of them).

const SHOTS = process.env.TEST_ARTIFACTS_DIR ? path.join(process.env.TEST_ARTIFACTS_DIR, 'ui') : path.join(ROOT, 'test-results', 'ui');

/** The page's first screen, kept small: the docs carry copies. */
async function shot(page: Page, name: string, height: number): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), clip: { x: 0, y: 0, width: 1280, height } });
}

describe('gallery and dashboard', () => {
  let t: TestDatabase;
  let dir: string;
  let web: WebConsole;
  let browser: Browser;
  let context: BrowserContext;
  let seeded: Seeded;
  const withFile = () => seeded.items.filter((i) => i.file);

  before(async () => {
    t = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-ui-'));
    const config = loadConfig({ DATABASE_URL: t.url, DOWNLOADS_DIR: path.join(dir, 'downloads'), ARTIFACTS_DIR: path.join(dir, 'artifacts'), LOG_LEVEL: 'warn', LOG_PRETTY: 'false' });
    seeded = await seedJobs(t, config.DOWNLOADS_DIR);
    const logger = createLogger(config);
    // No Temporal: these pages only read the database (a cancel would connect, none is made).
    web = await startWeb(config, { db: t.db, logger, temporal: async () => { throw new Error('no Temporal in this test'); } }, 0);
    browser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await web?.close();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the seeded database has what the pages need: hundreds of jobs, files of both kinds, costs and moderation', () => {
    assert.ok(seeded.jobIds.length >= 300);
    const files = withFile();
    assert.ok(files.length > GALLERY_PAGE_SIZE, `more finished files (${files.length}) than one gallery page`);
    assert.ok(files.some((i) => i.file!.endsWith('.mp4')) && files.some((i) => i.file!.endsWith('.jpg')));
    assert.ok(seeded.items.some((i) => i.costTicks) && seeded.items.some((i) => i.moderationRetries));
  });

  test('the gallery shows one poster per finished file, newest first, a page at a time, and a video plays on hover and on click', async () => {
    const page = await context.newPage();
    await page.goto(`${web.url}/gallery`);
    const tiles = page.locator('.gallery figure.tile');
    assert.equal(await tiles.count(), GALLERY_PAGE_SIZE);
    const newest = Math.max(...withFile().map((i) => i.jobId));
    assert.match((await tiles.first().locator('.meta').textContent())!, new RegExp(`#${newest}\\b`));
    // The rest come on the next pages, none twice.
    const seen = new Set<string>();
    let next: string | null = `${web.url}/gallery`;
    while (next) {
      await page.goto(next);
      for (const id of await tiles.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.item!))) seen.add(id);
      const more = page.locator('a[rel="next"]');
      next = (await more.count()) ? new URL((await more.getAttribute('href'))!, web.url).toString() : null;
    }
    assert.equal(seen.size, withFile().length);

    await page.goto(`${web.url}/gallery`);
    const video = page.locator('.tile[data-kind="video"] video').first();
    // The poster: the first frame is there before anything plays.
    await page.waitForFunction((v) => (v as HTMLVideoElement).readyState >= 2, await video.elementHandle(), { timeout: 60_000 });
    assert.equal(await video.evaluate((v: HTMLVideoElement) => v.paused), true);
    await video.hover();
    await page.waitForFunction((v) => { const e = v as HTMLVideoElement; return !e.paused && e.currentTime > 0.3; }, await video.elementHandle(), { timeout: 60_000 });
    await shot(page, 'gallery', 600);
    await page.mouse.move(5, 5);
    await page.waitForFunction((v) => (v as HTMLVideoElement).paused, await video.elementHandle());
    // A click plays it too (a touch screen has no hover), and a second click pauses it.
    const other = page.locator('.tile[data-kind="video"] video').nth(1);
    await other.dispatchEvent('click');
    await page.waitForFunction((v) => !(v as HTMLVideoElement).paused, await other.elementHandle());
    assert.equal(page.url(), `${web.url}/gallery`, 'the click played the video instead of leaving the page');
    await other.dispatchEvent('click');
    await page.waitForFunction((v) => (v as HTMLVideoElement).paused, await other.elementHandle());
    const image = page.locator('.tile[data-kind="image"] img').first();
    await image.scrollIntoViewIfNeeded();
    await page.waitForFunction((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0, await image.elementHandle());
    await page.close();
  });

  test('the gallery filters like the jobs list: account, type, pool, dates, words of the prompt; each tile says prompt, account and cost', async () => {
    const page = await context.newPage();
    await page.goto(`${web.url}/gallery?account=xai&type=image`);
    const expected = withFile().filter((i) => i.account === 'xai' && i.file!.endsWith('.jpg'));
    assert.ok(expected.length > 0 && expected.length <= GALLERY_PAGE_SIZE, `${expected.length} xai images`);
    const tiles = page.locator('.gallery figure.tile');
    assert.equal(await tiles.count(), expected.length);
    const first = tiles.first();
    assert.equal((await first.locator('.account').textContent())!.trim(), 'xai');
    assert.match((await first.locator('.cost').textContent())!, /^\$0\.\d+/);
    assert.match((await first.locator('.prompt').textContent())!, /at dusk, take \d+/);
    assert.equal(await page.locator('select[name=type] option[selected]').textContent(), 'GROK_IMAGE_GENERATION');

    // A pool and a date window that holds nothing: no tiles, said so.
    await page.goto(`${web.url}/gallery?pool=night&until=2001-01-01`);
    assert.equal(await tiles.count(), 0);
    assert.match((await page.locator('.empty').textContent())!, /match this filter/);
    // A bad value is named, with the status that fits.
    const res = await page.goto(`${web.url}/gallery?since=yesterday`);
    assert.equal(res!.status(), 400);
    assert.match((await page.locator('.error').textContent())!, /since must be a date \(2026-12-01\), a time .* or an age .*, got "yesterday"/);
    // A word of the prompt, as the jobs list searches: only the files of those jobs.
    await page.goto(`${web.url}/gallery?search=lighthouse`);
    const lighthouse = withFile().filter((i) => i.prompt.includes('lighthouse'));
    assert.ok(lighthouse.length > 0 && lighthouse.length <= GALLERY_PAGE_SIZE, `${lighthouse.length} lighthouse files`);
    assert.equal(await tiles.count(), lighthouse.length);
    assert.equal(await page.locator('input[name=search]').inputValue(), 'lighthouse');
    await page.close();
  });

  test('the dashboard draws four charts from the database, Chart.js served by the console', async () => {
    const page = await context.newPage();
    const scripts: string[] = [];
    page.on('request', (r) => { if (r.resourceType() === 'script') scripts.push(r.url()); });
    await page.goto(`${web.url}/dashboard`);
    await page.locator('body[data-charts="drawn"]').waitFor();
    assert.ok(scripts.every((s) => s.startsWith(web.url)), `every script from the console: ${scripts.join(', ')}`);
    const charts = await page.locator('canvas[data-chart]').evaluateAll((cs) => cs.map((c) => {
      const canvas = c as HTMLCanvasElement;
      // Pixels that are not blank: the series were drawn, not just the canvas made.
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) inked++;
      return { id: canvas.closest('section')!.id, series: Number(canvas.dataset.series), points: Number(canvas.dataset.points), inked, width: canvas.width };
    }));
    assert.deepEqual(charts.map((c) => c.id), ['jobs-per-hour', 'moderation', 'spend', 'duration']);
    for (const c of charts) {
      assert.ok(c.series >= 1 && c.points >= 1 && c.width > 100, JSON.stringify(c));
      assert.ok(c.inked > 2000, `${c.id} has drawn pixels: ${JSON.stringify(c)}`);
    }
    // The numbers match the rows: one series per status seen, every account's moderation.
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    assert.equal(byId['jobs-per-hour']!.series, 5, 'PENDING, INQUEUE, PROGRESS, COMPLETED, ERROR');
    assert.equal(byId.moderation!.points, 4, 'alice, bob, carol, xai');
    assert.equal(byId.spend!.series, 1, 'only the api account spends');
    assert.equal(byId.duration!.series, 2, 'p50 and p95');
    assert.equal(Number(await page.locator('[data-total="jobs"]').textContent()), seeded.jobIds.length);
    const spent = seeded.items.reduce((s, i) => s + (i.costTicks ?? 0), 0);
    assert.equal((await page.locator('[data-total="spent"]').textContent())!.trim(), formatUsd(spent));
    await shot(page, 'dashboard', 900);

    // Filtered like the gallery: one account's jobs only.
    await page.goto(`${web.url}/dashboard?account=alice`);
    await page.locator('body[data-charts="drawn"]').waitFor();
    const aliceJobs = new Set(seeded.items.filter((i) => i.account === 'alice').map((i) => i.jobId)).size;
    assert.equal(Number(await page.locator('[data-total="jobs"]').textContent()), aliceJobs);
    assert.equal(await page.locator('#moderation canvas').getAttribute('data-points'), '1');
    assert.match((await page.locator('#spend').textContent())!, /No data in this window/);
    await page.close();
  });
});
