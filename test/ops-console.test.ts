import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotNull, sql } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { CHROMIUM_ARGS, SYSTEM_CHROMIUM } from '../src/shared/chromium';
import { loadConfig } from '../src/shared/config';
import { jobs } from '../src/shared/db/schema';
import { createLogger } from '../src/shared/logger';
import { startWeb, type WebConsole } from '../src/web/server';
import { ROOT } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// The console's pages for operating many jobs, in real Chromium on a database of a few
// hundred jobs (issue 25): search, bulk retry with its preview, pause with its banner, import
// with its preview and errors. No Temporal: nothing here needs a running workflow (a paused
// type's schedule is said not updated, which the CLI test with a master covers).

const VIDEO = 'GROK_VIDEO_GENERATION';
const DOCS = path.join(ROOT, 'docs');

async function shot(page: Page, name: string): Promise<void> {
  // The page's top, small: these go into docs/.
  await page.screenshot({ path: path.join(DOCS, `${name}.png`), clip: { x: 0, y: 0, width: 1100, height: 560 } });
}

describe('console: find, bulk actions, pause, import', () => {
  let t: TestDatabase;
  let web: WebConsole;
  let browser: Browser;
  let context: BrowserContext;
  let dir: string;
  let needle: number;
  const logger = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
  const count = async (where: ReturnType<typeof sql>) => Number((await t.db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(where))[0]!.n);

  before(async () => {
    t = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-ops-console-'));
    await t.pool.query(`
      INSERT INTO jobs (type, status, payload, progress, created_at)
      SELECT '${VIDEO}', 'COMPLETED', jsonb_build_object('prompt', 'a ' || (ARRAY['lighthouse','meadow','harbor','glacier'])[1 + g % 4] || ' at dusk, take ' || g), 100, now() - interval '2 days'
      FROM generate_series(1, 220) g`);
    await t.pool.query(`
      INSERT INTO jobs (type, status, payload, error_message, created_at)
      SELECT '${VIDEO}', 'ERROR', jsonb_build_object('prompt', 'night shot ' || g, 'pool', 'night', 'backend', CASE WHEN g <= 10 THEN 'api' ELSE 'browser' END, 'duration', '10s'), 'rate limited', now() - interval '9 hours'
      FROM generate_series(1, 40) g`);
    await t.pool.query(`INSERT INTO jobs (type, payload) SELECT 'GROK_IMAGE_GENERATION', jsonb_build_object('prompt', 'an icon of a ' || g) FROM generate_series(1, 40) g`);
    needle = Number((await t.pool.query(`INSERT INTO jobs (type, status, payload) VALUES ('${VIDEO}', 'COMPLETED', '{"prompt":"a zeppelin over Lisbon at noon"}') RETURNING id`)).rows[0].id);
    const config = loadConfig({ DATABASE_URL: t.url, DOWNLOADS_DIR: path.join(dir, 'downloads'), ARTIFACTS_DIR: path.join(dir, 'artifacts'), LOG_LEVEL: 'warn', LOG_PRETTY: 'false' });
    web = await startWeb(config, { db: t.db, logger, temporal: async () => { throw new Error('no Temporal in this test'); } }, 0);
    browser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await web?.close();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('searching the list for a word of a prompt shows that job with its summary', async () => {
    const page = await context.newPage();
    await page.goto(web.url);
    await page.getByLabel('Search prompts').fill('Zeppelin');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/search=Zeppelin/);
    const rows = page.locator('table.jobs tbody tr');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-job'), String(needle));
    assert.equal((await rows.first().locator('td.prompt').textContent())!.trim(), 'a zeppelin over Lisbon at noon');
    assert.equal((await rows.first().locator('td.count').textContent())!.trim(), '1');
    await shot(page, 'console-search');
    // A bad date is the page's message, not a 500.
    const bad = await page.goto(`${web.url}/?since=yesterday`);
    assert.equal(bad!.status(), 400);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /since must be a date/);
    await page.close();
  });

  test('a bulk retry from the filtered list previews 40 with the api jobs\' cost, retries 40 once; again, none', async () => {
    const page = await context.newPage();
    await page.goto(`${web.url}/?status=ERROR&pool=night`);
    assert.equal(await page.locator('[data-matching]').getAttribute('data-matching'), '40');
    await page.getByRole('link', { name: 'Retry the failed ones…' }).click();
    await page.locator('.preview-count').waitFor();
    assert.equal(await page.locator('.preview-count').getAttribute('data-count'), '40');
    assert.equal(await page.locator('table.preview tbody tr').count(), 40);
    // 10 api videos × 10 s × $0.05/s.
    assert.equal(await page.locator('.estimate').textContent(), '$5.00');
    await shot(page, 'console-bulk-preview');
    assert.equal(await count(sql`${jobs.retryOf} IS NOT NULL`), 0, 'the preview changes nothing');

    await page.getByRole('button', { name: 'Retry these 40 job(s)' }).click();
    await page.locator('.bulk-result').waitFor();
    assert.equal(await page.locator('.bulk-result').getAttribute('data-acted'), '40');
    const copies = await t.db.select().from(jobs).where(isNotNull(jobs.retryOf));
    assert.equal(copies.length, 40);
    assert.ok(copies.every((c) => c.status === 'PENDING'));

    await page.goto(`${web.url}/jobs/bulk?verb=retry&status=ERROR&pool=night`);
    assert.equal(await page.locator('.preview-count').getAttribute('data-count'), '0');
    assert.equal(await page.getByRole('button', { name: /Retry these/ }).count(), 0);
    assert.equal(await count(sql`${jobs.retryOf} IS NOT NULL`), 40);
    await page.close();
  });

  test('pausing a pool shows a banner on every page until it is resumed', async () => {
    const page = await context.newPage();
    await page.goto(`${web.url}/pauses`);
    assert.equal(await page.locator('.paused-banner').count(), 0);
    await page.getByLabel('or pool').fill('night');
    await page.getByLabel('Reason').fill('fixing alice');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('p.done').waitFor();
    assert.match(await page.locator('p.done').textContent() ?? '', /pool night paused/);
    for (const p of ['/', '/accounts', '/jobs/import']) {
      await page.goto(`${web.url}${p}`);
      assert.match(await page.locator('.paused-banner').textContent() ?? '', /paused: pool night \(fixing alice\)/, p);
    }
    await page.goto(`${web.url}/pauses`);
    await shot(page, 'console-pauses');
    await page.locator('tr[data-pause="pool:night"]').getByRole('button', { name: 'Resume' }).click();
    await page.locator('p.done').waitFor();
    assert.match(await page.locator('p.done').textContent() ?? '', /pool night resumed/);
    assert.equal(await page.locator('.paused-banner').count(), 0);
    await page.close();
  });

  test('importing a CSV: the preview lists the first rows and every error; one bad row refuses all, skipping it imports the others', async () => {
    const file = path.join(dir, 'spring.csv');
    fs.writeFileSync(file, 'key,prompt,count,duration\ns1,a tulip field,1,6s\ns2,a tulip close-up,2,\ns3,,1,\ns4,a tulip at night,,10s\n');
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/import`);
    await page.locator('[data-import-file]').setInputFiles(file);
    await page.waitForFunction(() => (document.querySelector('[data-import-content]') as HTMLTextAreaElement).value.includes('tulip'));
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('.import-summary').waitFor();
    assert.equal(await page.locator('.import-summary').getAttribute('data-valid'), '3');
    assert.equal(await page.locator('.import-errors li').count(), 1);
    assert.match(await page.locator('.import-errors li').textContent() ?? '', /^line 4: invalid payload: payload\.prompt: required/);
    assert.equal(await page.locator('table.import-rows tbody tr').count(), 3);
    await shot(page, 'console-import-preview');
    const before = await count(sql`true`);

    await page.getByRole('button', { name: 'Import 3 job(s)' }).click();
    await page.locator('[role=alert]').waitFor();
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /1 of 4 row\(s\) invalid, nothing imported[\s\S]*line 4/);
    assert.equal(await count(sql`true`), before, 'all or nothing');

    await page.getByLabel(/skip invalid rows/).check();
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('button', { name: 'Import 3 job(s)' }).click();
    await page.locator('.import-done').waitFor();
    assert.equal(await page.locator('.import-done').getAttribute('data-added'), '3');
    assert.equal(await count(sql`${jobs.importKey} IN ('s1', 's2', 's4')`), 3);
    await page.close();
  });
});
