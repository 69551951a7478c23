import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { CHROMIUM_ARGS, SYSTEM_CHROMIUM } from '../src/shared/chromium';
import { duration } from '../src/cli/format';
import { jobs } from '../src/shared/db/schema';
import { ITEM_STEPS, overheadMs, readSteps, STEP_MEANING } from '../src/shared/itemSteps';
import { freeLoopbackPort } from '../src/shared/freePort';
import { createLogger } from '../src/shared/logger';
import { WEB_LISTENER_NAME } from '../src/web/events';
import { startWeb, type WebConsole } from '../src/web/server';
import { ROOT, runCli } from './helpers/cli';
import { startProgram } from './helpers/program';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

// The web console in real Chromium against the running stack (Postgres, Temporal dev
// server, simulator, master, slave): live updates, playback, actions, and its defences.

const SHOTS = process.env.TEST_ARTIFACTS_DIR ? path.join(process.env.TEST_ARTIFACTS_DIR, 'web') : path.join(ROOT, 'test-results', 'web');
const TEMPORAL_UI = 'http://temporal-ui.example:8233';
const TOKEN = 'a-long-console-token-for-tests';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A GET exactly as written: no client normalises the `..` away. */
function rawGet(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web console', () => {
  let s: Stack;
  let web: WebConsole;
  let browser: Browser;
  let context: BrowserContext;
  let videoJob: number;
  let failedJob: number;
  const logger = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
  const deps = () => ({ db: s.t.db, logger, temporal: async () => s.env.client, temporalUiUrl: TEMPORAL_UI });
  const job = async (id: number) => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;

  before(async () => {
    s = await startStack();
    web = await startWeb(s.config, deps(), 0);
    browser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await web?.close();
    await s?.stop();
  });

  test('a job inserted with SQL appears, its progress climbs without a reload, and it reaches COMPLETED', async () => {
    const page = await context.newPage();
    await page.goto(web.url);
    await page.locator('body[data-live="connected"]').waitFor();
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });
    const completedBefore = Number(await page.locator('[data-count="COMPLETED"]').textContent());
    videoJob = await s.insertJob({ prompt: 'a red fox running through snow #sim:slow=6', upscale: true });
    const row = page.locator(`tr[data-job="${videoJob}"]`);
    await row.waitFor({ timeout: 60_000 });
    const seen: Array<{ status: string; progress: number }> = [];
    await waitFor(() => `job ${videoJob} to end in the page: ${JSON.stringify(seen)}`, async () => {
      const status = (await row.locator('.status').textContent())!.trim();
      const progress = await row.locator('progress').evaluate((p: HTMLProgressElement) => p.value);
      const last = seen[seen.length - 1];
      if (!last || last.status !== status || last.progress !== progress) seen.push({ status, progress });
      return status === 'COMPLETED' || status === 'ERROR';
    }, 180_000, 100);
    await shot(page, 'jobs-live');
    assert.equal(seen[seen.length - 1]!.status, 'COMPLETED', JSON.stringify(seen));
    const climbing = seen.filter((e) => e.status === 'PROGRESS' && e.progress > 0 && e.progress < 100).map((e) => e.progress);
    assert.ok(climbing.length >= 2, `progress seen climbing in the page: ${JSON.stringify(seen)}`);
    assert.deepEqual(climbing, [...climbing].sort((a, b) => a - b), 'progress only climbs');
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');
    assert.equal(Number(await page.locator('[data-count="COMPLETED"]').textContent()), completedBefore + 1, 'the COMPLETED count moved live');
    await page.close();
  });

  test('Postgres dropping the LISTEN connection: the page reloads by itself once the console listens again, and stays live', async () => {
    const page = await context.newPage();
    await page.goto(web.url);
    await page.locator('body[data-live="connected"]').waitFor();
    const listeners = async () => (await s.t.pool.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [WEB_LISTENER_NAME])).rows as Array<{ pid: number }>;
    const [before] = await listeners();
    assert.ok(before, 'the console listens on a connection of its own');
    const reloaded = page.waitForEvent('load', { timeout: 60_000 });
    await s.t.pool.query('SELECT pg_terminate_backend($1)', [before.pid]);
    await reloaded;
    await page.locator('body[data-live="connected"]').waitFor({ timeout: 60_000 });
    const [after] = await listeners();
    assert.ok(after && after.pid !== before.pid, 'a new LISTEN connection');
    const { rows } = await s.t.pool.query(`INSERT INTO jobs (type, payload, status) VALUES ('GROK_IMAGE_GENERATION', '{"prompt":"after the drop"}', 'ERROR') RETURNING id`);
    await page.locator(`tr[data-job="${rows[0].id}"]`).waitFor({ timeout: 30_000 });
    await shot(page, 'listen-reconnected');
    await page.close();
  });

  test('the job page plays the video (seeking through range requests), with HD badge, sha256, size, events and the workflow link', async () => {
    const [item] = await s.items(videoJob);
    assert.ok(item?.filePath && item.hd, `an HD file: ${JSON.stringify(item)}`);
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/${videoJob}`);
    const card = page.locator('article.item[data-item="0"]');
    await assert.doesNotReject(card.locator('.badge.hd').waitFor());
    assert.equal((await card.locator('code.sha').textContent())!.trim(), item.sha256);
    assert.match((await card.textContent())!, /KiB|MiB/);

    // Muted, so Chromium lets it play without a click.
    const video = card.locator('video');
    await video.evaluate((v: HTMLVideoElement) => v.play());
    await page.waitForFunction(() => {
      const v = document.querySelector('video')!;
      return v.readyState >= 2 && v.currentTime > 0.5;
    }, undefined, { timeout: 60_000 });
    const played = await video.evaluate((v: HTMLVideoElement) => ({ readyState: v.readyState, currentTime: v.currentTime, duration: v.duration, width: v.videoWidth }));
    assert.ok(played.readyState >= 2 && played.currentTime > 0.5 && played.width === 1280, JSON.stringify(played));
    const seeked = await video.evaluate((v: HTMLVideoElement) => new Promise<number>((resolve) => {
      v.pause();
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.currentTime = 3;
    }));
    assert.ok(Math.abs(seeked - 3) < 0.5, `seeked to ${seeked}`);
    await video.evaluate((v: HTMLVideoElement) => { v.currentTime = 1; });
    await shot(page, 'job-video');

    // Range requests: what the seek above relies on.
    const src = await video.getAttribute('src');
    const res = await fetch(new URL(src!, web.url), { headers: { range: 'bytes=100-199' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 100-199/${item.bytes}`);
    const expected = fs.readFileSync(item.filePath).subarray(100, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), expected);

    const timeline = (await page.locator('ol.timeline').textContent())!;
    for (const status of ['PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED']) assert.ok(timeline.includes(status), timeline);
    const current = await job(videoJob);
    const link = page.locator(`a[href^="${TEMPORAL_UI}"]`);
    assert.equal(await link.getAttribute('href'), `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(current.workflowId!)}`);
    assert.match((await page.locator('pre.payload').textContent())!, /a red fox running through snow/);
    await page.close();
  });

  test("the job page draws one bar per step the driver timed, each the item's stored time on the scale of the longest", async () => {
    const [item] = await s.items(videoJob);
    const steps = readSteps(item!.steps);
    const recorded = ITEM_STEPS.filter((st) => steps[st] !== undefined);
    // The upscaled video job of the first test went through every step but the delete.
    assert.deepEqual(recorded, ['page', 'options', 'prompt', 'submit', 'generation', 'download', 'upscale'], JSON.stringify(item!.steps));
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/${videoJob}`);
    const table = page.locator('article.item[data-item="0"] table.steps');
    const rows = await table.locator('tr[data-step]').evaluateAll((trs) => trs.map((tr) => {
      const bar = tr.querySelector('progress');
      return {
        step: tr.getAttribute('data-step'),
        label: tr.querySelector('th')?.textContent?.trim(),
        title: tr.getAttribute('title'),
        ms: tr.querySelector('td.ms')?.textContent?.trim(),
        bar: bar ? { value: bar.value, max: bar.max, position: bar.position, width: bar.getBoundingClientRect().width } : null,
      };
    }));
    // A row per recorded step, in the steps' order, then the driver's own time.
    assert.deepEqual(rows.map((r) => r.step), [...recorded, 'overhead']);
    const longest = Math.max(...recorded.map((st) => steps[st]!));
    for (const [i, st] of recorded.entries()) {
      const r = rows[i]!;
      assert.equal(r.label, st);
      assert.equal(r.title, STEP_MEANING[st]);
      assert.equal(r.ms, duration(steps[st]!), `${st}: the stored time in words`);
      assert.ok(r.bar && r.bar.width > 0, `${st}: a bar is drawn`);
      assert.equal(r.bar!.value, steps[st], `${st}: the bar's value is the stored time`);
      assert.equal(r.bar!.max, longest, `${st}: every bar on the longest step's scale`);
      assert.ok(Math.abs(r.bar!.position - steps[st]! / longest) < 1e-9, `${st}: filled ${r.bar!.position}`);
    }
    // The longest step fills its bar; the overhead row, barless, sums the driver's own steps.
    assert.equal(rows[recorded.findIndex((st) => steps[st] === longest)]!.bar!.position, 1);
    assert.equal(rows.at(-1)!.bar, null);
    assert.equal(rows.at(-1)!.ms, duration(overheadMs(steps)));
    await shot(page, 'job-steps');
    await page.close();
  });

  test('an image job shows its image', async () => {
    const id = await s.insertJob({ prompt: 'a lighthouse at dusk' }, 'GROK_IMAGE_GENERATION');
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000)).status, 'COMPLETED');
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/${id}`);
    const img = page.locator('article.item img.media');
    await page.waitForFunction(() => ((document.querySelector('article.item img.media') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    assert.ok(await img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), 'the image loaded');
    await shot(page, 'job-image');
    await page.close();
  });

  test('a failed job shows its message and its failure screenshot', async () => {
    failedJob = await s.insertJob({ prompt: 'a castle #sim:expired', account: 'bob' });
    const failed = await s.waitForJob(failedJob, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(failed.status, 'ERROR');
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/${failedJob}`);
    assert.equal((await page.locator('.summary .error').textContent())!.trim(), failed.errorMessage);
    const screenshot = page.locator('figure.failure img').first();
    await screenshot.waitFor();
    await page.waitForFunction(() => ((document.querySelector('figure.failure img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    assert.match((await screenshot.getAttribute('src'))!, new RegExp(`^/files/artifacts/${failedJob}/item-0-[^/]+/screenshot\\.png$`));
    await shot(page, 'job-failed');
    await page.close();
  });

  test('add (same validation and messages as the CLI), retry and cancel from the pages; a post without its CSRF token is refused', async () => {
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/new`);
    await page.locator('textarea[name=prompts]').fill('a cat surfing');
    await page.locator('input[name=count]').fill('500');
    await page.getByRole('button', { name: 'Add the job' }).click();
    const cli = await runCli(['jobs', 'add', '-p', 'a cat surfing', '-n', '500'], { env: s.configEnv });
    assert.equal(cli.code, 2, cli.stderr);
    const cliMessage = cli.stderr.trim().replace(/^grokflow: /, '');
    assert.equal((await page.locator('p.error').textContent())!.trim(), cliMessage);
    assert.match(cliMessage, /payload\.count: Too big/);
    await shot(page, 'add-invalid');

    // Valid: a PENDING row, then cancelled from its page while it runs.
    const post = s.simulator.createPost('default').url;
    await page.locator('input[name=count]').fill('1');
    await page.locator('textarea[name=prompts]').fill('a long one #sim:slow=120');
    await page.locator('input[name=imageUrl]').fill(post);
    await page.getByRole('button', { name: 'Add the job' }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    const added = Number(new URL(page.url()).pathname.split('/').pop());
    assert.deepEqual((await job(added)).payload, { prompt: 'a long one #sim:slow=120', count: 1, imageUrl: post });
    await s.untilGenerating(added, 120_000);
    await page.reload();
    await page.getByRole('button', { name: 'Cancel' }).click();
    const cancelled = await s.waitForJob(added, ['COMPLETED', 'ERROR'], 60_000);
    assert.equal(cancelled.errorMessage, 'cancelled');
    // The page follows the job live to its end.
    await page.locator('h1 .badge.s-ERROR').waitFor({ timeout: 30_000 });
    await shot(page, 'cancelled');

    // Retry of the failed job: a new job pointing back at it.
    await page.goto(`${web.url}/jobs/${failedJob}`);
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL((u) => /\/jobs\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${failedJob}`));
    const copy = Number(new URL(page.url()).pathname.split('/').pop());
    assert.equal((await job(copy)).retryOf, failedJob);
    await s.waitForJob(copy, ['COMPLETED', 'ERROR'], 120_000);
    // The page follows the new job live (reloading on each status change): wait for its end.
    await page.locator('h1 .badge.s-ERROR, h1 .badge.s-COMPLETED').waitFor({ timeout: 30_000 });
    await page.locator(`a[href="/jobs/${failedJob}"]`).waitFor({ timeout: 30_000 });
    assert.match((await page.locator('.summary').textContent())!, new RegExp(`retry of\\s*job ${failedJob}`), 'the retry links to the job it retries');
    await shot(page, 'retried');

    // The same POST from elsewhere, without the page's token: refused, nothing written.
    const count = async () => (await s.t.pool.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n as number;
    const before = await count();
    const forged = await fetch(`${web.url}/jobs/${failedJob}/retry`, { method: 'POST', redirect: 'manual' });
    assert.equal(forged.status, 403);
    const forgedAdd = await fetch(`${web.url}/jobs`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'prompts=forged' });
    assert.equal(forgedAdd.status, 403);
    assert.equal(await count(), before);
    await page.close();
  });

  test('accounts: cooldown, quota used and left, in flight and last error, as `accounts list` computes them; no storage state', async () => {
    await s.t.pool.query(`INSERT INTO accounts (name, daily_quota, cooldown_until) VALUES ('alice', 10, now() + interval '10 minutes')
                          ON CONFLICT (name) DO UPDATE SET daily_quota = 10, cooldown_until = now() + interval '10 minutes'`);
    const page = await context.newPage();
    await page.goto(`${web.url}/accounts`);
    const cli = JSON.parse((await runCli(['accounts', 'list', '--json'], { env: s.configEnv })).stdout) as Array<{ name: string; usedToday: number; quotaLeft: number | null; inFlight: number; concurrency: number; lastAuthError: string | null; lastError: string | null; cooldownSeconds: number }>;
    for (const a of cli) {
      const row = page.locator(`tr[data-account="${a.name}"]`);
      assert.equal((await row.locator('.left').textContent())!.trim(), a.quotaLeft === null ? 'unlimited' : String(a.quotaLeft), a.name);
      assert.equal((await row.locator('.in-flight').textContent())!.trim(), `${a.inFlight} of ${a.concurrency}`, a.name);
      assert.equal((await row.locator('.last-error').textContent())!.trim(), a.lastAuthError ?? a.lastError ?? '', a.name);
      assert.match((await row.locator('.used').textContent())!, new RegExp(`^${a.usedToday}`), a.name);
    }
    assert.match((await page.locator('tr[data-account="alice"] .cooldown').textContent())!, /^(59\d|600) s$/);
    assert.ok((await page.locator('tr[data-account="bob"] .last-error').textContent())!.length > 0, 'bob shows its login error');
    const html = await page.content();
    const state = fs.readFileSync(path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json'), 'utf8');
    for (const cookie of (JSON.parse(state) as { cookies: Array<{ value: string }> }).cookies) {
      assert.ok(!html.includes(cookie.value), 'no session cookie value in the page');
    }
    await shot(page, 'accounts');
    await page.close();
  });

  test('escapes what users wrote: a <script> in a prompt, a message, an error and a live NOTIFY never runs', async () => {
    const evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
    const { rows } = await s.t.pool.query(
      `INSERT INTO jobs (type, payload, status, account, error_message, progress_message, cost_ticks) VALUES ('GROK_VIDEO_GENERATION', $1, 'ERROR', 'mallory', $2, $2, 4200000000) RETURNING id`,
      [JSON.stringify({ prompt: evil }), evil],
    );
    const id = Number(rows[0].id);
    await s.t.pool.query(`INSERT INTO job_items (job_id, index, prompt, status, error) VALUES ($1, 0, $2, 'FAILED', $2)`, [id, evil]);
    const page = await context.newPage();
    await page.goto(`${web.url}/`);
    // Inserted only once the page listens: a NOTIFY before that is not for this page.
    await page.locator('body[data-live="connected"]').waitFor();
    // And live: a running job whose progress message is markup.
    const { rows: live } = await s.t.pool.query(`INSERT INTO jobs (type, payload, status) VALUES ('GROK_IMAGE_GENERATION', '{"prompt":"x"}', 'ERROR') RETURNING id`);
    await s.t.pool.query('UPDATE jobs SET progress = 40, progress_message = $2 WHERE id = $1', [live[0].id, evil]);
    await page.locator(`tr[data-job="${live[0].id}"] .message`).filter({ hasText: '<img' }).waitFor({ timeout: 30_000 });
    assert.equal((await page.locator(`tr[data-job="${id}"] .message`).textContent())!.trim().slice(0, 20), evil.slice(0, 20));
    await page.goto(`${web.url}/jobs/${id}`);
    assert.equal((await page.locator('article.item .prompt').textContent())!.trim(), evil);
    assert.ok((await page.locator('pre.payload').textContent())!.includes(JSON.stringify(evil).slice(1, -1)));
    // The cost, where a backend reported one (jobs.cost_ticks, 10^10 per dollar).
    assert.equal((await page.locator('dd.cost').textContent())!.trim(), '$0.42');
    await shot(page, 'escaped');
    for (const p of [`${web.url}/`, `${web.url}/jobs/${id}`, `${web.url}/accounts`]) {
      await page.goto(p);
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined, p);
      assert.equal(await page.locator('script').count(), 1, `only the console's own script on ${p}`);
      assert.equal(await page.locator('img[src="x"]').count(), 0, p);
    }
    await page.close();
  });

  test('never serves a file outside DOWNLOADS_DIR and ARTIFACTS_DIR', async () => {
    // The storage state lies next to the downloads folder: the prize of a traversal.
    const state = fs.readFileSync(path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json'), 'utf8');
    const probes = [
      '/files/downloads/../accounts/default.json',
      '/files/downloads/..%2faccounts%2fdefault.json',
      '/files/downloads/%2e%2e/accounts/default.json',
      '/files/downloads/%2e%2e%2faccounts%2fdefault.json',
      '/files/downloads/..%5caccounts%5cdefault.json',
      '/files/artifacts/../accounts/default.json',
      '/files/artifacts/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/files/downloads/../../../../../../etc/passwd',
      `/files/downloads/${encodeURIComponent(path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json'))}`,
      '/files/downloads//etc/passwd',
      '/static/../../../package.json',
      '/static/..%2f..%2f..%2fpackage.json',
    ];
    for (const probe of probes) {
      const r = await rawGet(web.url, probe);
      assert.ok(r.status >= 400 && r.status < 500, `${probe}: ${r.status}`);
      assert.ok(!r.body.includes('sim_session') && !r.body.includes(state.slice(0, 40)) && !r.body.includes('root:x:0') && !r.body.includes('"grokflow"'), `${probe} leaked: ${r.body.slice(0, 200)}`);
    }
    // A symbolic link inside the downloads folder that points out of it is not followed.
    const linkDir = path.join(s.configEnv.DOWNLOADS_DIR!, 'linked');
    fs.mkdirSync(linkDir, { recursive: true });
    fs.symlinkSync(path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json'), path.join(linkDir, 'leak.mp4'));
    const viaLink = await rawGet(web.url, '/files/downloads/linked/leak.mp4');
    assert.equal(viaLink.status, 404);
    assert.ok(!viaLink.body.includes('sim_session'));
    // A file path in the database that points elsewhere gets no link and is not served.
    const { rows } = await s.t.pool.query(`INSERT INTO jobs (type, payload, status) VALUES ('GROK_VIDEO_GENERATION', '{"prompt":"x"}', 'ERROR') RETURNING id`);
    const id = Number(rows[0].id);
    await s.t.pool.query(`INSERT INTO job_items (job_id, index, status, file_path, bytes) VALUES ($1, 0, 'COMPLETED', $2, 10)`, [id, path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json')]);
    const page = await context.newPage();
    await page.goto(`${web.url}/jobs/${id}`);
    assert.equal(await page.locator('article.item video, article.item a[href^="/files/"]').count(), 0);
    assert.ok(!(await page.content()).includes('sim_session'));
    await shot(page, 'outside-file');
    await page.close();
    // And inside the folder, a real file is served.
    const [item] = await s.items(videoJob);
    const inside = await rawGet(web.url, `/files/downloads/${videoJob}/${path.basename(item!.filePath!)}`, { range: 'bytes=0-3' });
    assert.equal(inside.status, 206);
  });

  test('the token wall: refuses to start beyond loopback without WEB_TOKEN; with it every request needs the cookie or the bearer header', async () => {
    await assert.rejects(startWeb({ ...s.config, WEB_HOST: '0.0.0.0' }, deps(), 0), /WEB_TOKEN: required when WEB_HOST \(0\.0\.0\.0\) is not a loopback address/);
    const walled = await startWeb({ ...s.config, WEB_HOST: '0.0.0.0', WEB_TOKEN: TOKEN }, deps(), 0);
    try {
      const [item] = await s.items(videoJob);
      const file = `/files/downloads/${videoJob}/${path.basename(item!.filePath!)}`;
      for (const p of ['/', `/jobs/${videoJob}`, '/accounts', '/events', file, '/static/app.js', `/jobs/${videoJob}/row`]) {
        assert.equal((await rawGet(walled.url, p)).status, 401, p);
        assert.equal((await rawGet(walled.url, p, { authorization: 'Bearer wrong-token-wrong-token' })).status, 401, p);
        assert.equal((await rawGet(walled.url, p, { cookie: `grokflow_session=${TOKEN}` })).status, 401, `${p}: the raw token is not a session`);
      }
      assert.equal((await rawGet(walled.url, '/', { accept: 'text/html' })).status, 303, 'a browser is sent to the login form');
      const bearer = await rawGet(walled.url, `/jobs/${videoJob}`, { authorization: `Bearer ${TOKEN}` });
      assert.equal(bearer.status, 200);
      assert.ok(bearer.body.includes('a red fox'));
      assert.equal((await rawGet(walled.url, file, { authorization: `Bearer ${TOKEN}`, range: 'bytes=0-9' })).status, 206);
      // A script with the bearer header needs no CSRF token (no browser sends that header by itself).
      const cancel = await fetch(`${walled.url}/jobs/${videoJob}/cancel`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(cancel.status, 409);
      assert.match(await cancel.text(), /already COMPLETED; nothing to cancel/);

      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${walled.url}/accounts`);
      assert.match(page.url(), /\/login\?next=%2Faccounts$/);
      await page.locator('input[name=token]').fill('not-the-token-at-all');
      await page.getByRole('button', { name: 'Log in' }).click();
      assert.equal((await page.locator('p.error').textContent())!.trim(), 'wrong token');
      await shot(page, 'login-wrong');
      await page.locator('input[name=token]').fill(TOKEN);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${walled.url}/accounts`);
      const cookie = (await ctx.cookies()).find((c) => c.name === 'grokflow_session');
      assert.ok(cookie?.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(cookie.sameSite, 'Strict');
      assert.notEqual(cookie.value, TOKEN, 'the cookie is not the token itself');
      assert.equal(await page.evaluate(() => document.cookie.includes('grokflow_session')), false);
      await page.goto(`${walled.url}/jobs/${videoJob}`);
      await page.waitForFunction(() => ((document.querySelector('video') as HTMLVideoElement | null)?.readyState ?? 0) >= 1);
      // Logged in by cookie, a POST still needs the page's CSRF token.
      const forged = await page.evaluate(async (id) => (await fetch(`/jobs/${id}/retry`, { method: 'POST', redirect: 'manual' })).status, failedJob);
      assert.equal(forged, 403);
      await shot(page, 'login-ok');
      await ctx.close();
    } finally {
      await walled.close();
    }
  });

  test('`npm run web` serves the console alone and refuses a public address without a token', async () => {
    const port = await freeLoopbackPort();
    const env: NodeJS.ProcessEnv = { ...process.env, ...s.configEnv, WEB_PORT: String(port), TEMPORAL_ADDRESS: s.env.address, LOG_LEVEL: 'info' };
    const { rows } = await s.t.pool.query(`INSERT INTO jobs (type, payload, status) VALUES ('GROK_IMAGE_GENERATION', '{"prompt":"a quiet harbour"}', 'ERROR') RETURNING id`);
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    // Its own process group, so "Ctrl-C" reaches npm and the console under it, as from a terminal.
    const web = startProgram('npm run web', 'npm', ['run', '--silent', 'web'], { cwd: ROOT, env, detached: true });
    const { child } = web;
    try {
      await web.waitForOutput('grokflow web console: ', 60_000);
      assert.match(web.output, new RegExp(`grokflow web console: http://127\\.0\\.0\\.1:${port}`));
      const res = await fetch(`http://127.0.0.1:${port}/jobs/${rows[0].id}`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /a quiet harbour/);
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/jobs/${rows[0].id}`);
      await shot(page, 'npm-run-web');
      await page.close();
      process.kill(-child.pid!, 'SIGINT');
      const { code } = await web.exited;
      assert.ok(code === 0 || code === null, `exit ${code}: ${web.output}`);
      assert.match(web.output, /"msg":"web console stopped"/);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }

    const refused = await startProgram('npm run web', 'npm', ['run', '--silent', 'web'], { cwd: ROOT, env: { ...env, WEB_HOST: '0.0.0.0' } }).done;
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /WEB_TOKEN: required when WEB_HOST \(0\.0\.0\.0\) is not a loopback address/);
  });
});
