import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright';
import { CHROMIUM_ARGS, SYSTEM_CHROMIUM } from '../src/shared/chromium';
import { createLogger } from '../src/shared/logger';
import os from 'node:os';
import { eq } from 'drizzle-orm';
import { jobs } from '../src/shared/db/schema';
import { startWeb, type WebConsole } from '../src/web/server';
import { ROOT, runCli } from './helpers/cli';
import { startStack, type Stack } from './helpers/stack';

// The console's trust boundary (issue 22), in real Chromium and over HTTP against a running
// console and service: which names and origins it answers, sessions and logout.

const TOKEN = 'a-long-console-token-for-trust';
const SHOTS = process.env.TEST_ARTIFACTS_DIR ? path.join(process.env.TEST_ARTIFACTS_DIR, 'web-trust') : path.join(ROOT, 'test-results', 'web-trust');
const DOCS = path.join(ROOT, 'docs');

/** A request exactly as written (Host and Origin included), which fetch would not send. */
function raw(base: string, method: string, rawPath: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('web console: trust boundary', () => {
  let s: Stack;
  let web: WebConsole;
  let browser: Browser;
  const logger = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
  const deps = () => ({ db: s.t.db, logger, temporal: async () => s.env.client });
  const jobCount = async () => (await s.t.pool.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n as number;

  // IMAGES_DIR of the stack: the only folder a payload's imagePath may name.
  const images = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-images-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-outside-'));
  const job = async (id: number) => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;

  before(async () => {
    s = await startStack({ env: { IMAGES_DIR: images } });
    web = await startWeb(s.config, deps(), 0);
    // rebind.attacker.example resolves to the console's address, as a DNS-rebinding name would.
    browser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP rebind.attacker.example 127.0.0.1'], headless: true });
    fs.mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await s?.stop();
    fs.rmSync(images, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  test('a foreign Host is refused (421) before any handler, token or not; the console\'s own names are served', async () => {
    const port = new URL(web.url).port;
    for (const p of ['/', '/jobs/new', '/accounts', '/static/app.js', '/login', '/events', '/nowhere']) {
      const foreign = await raw(web.url, 'GET', p, { host: `rebind.attacker.example:${port}` });
      assert.equal(foreign.status, 421, p);
      assert.match(foreign.body, /does not answer to the name "rebind\.attacker\.example:\d+"; an operator may add it to WEB_ALLOWED_HOSTS/);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) assert.equal((await raw(web.url, 'GET', '/', { host })).status, 200, host);
    assert.equal((await raw(web.url, 'GET', '/', { host: 'a/b' })).status, 421, 'not a host name at all');
    const before = await jobCount();
    const post = await raw(web.url, 'POST', '/jobs', { host: `rebind.attacker.example:${port}`, 'content-type': 'application/x-www-form-urlencoded' }, 'prompts=rebound');
    assert.equal(post.status, 421);
    assert.equal(await jobCount(), before);

    // In Chromium: the page of a name that re-resolves to 127.0.0.1 gets nothing.
    const page = await browser.newPage();
    const res = await page.goto(`http://rebind.attacker.example:${port}/jobs/new`);
    assert.equal(res?.status(), 421);
    assert.equal(await page.locator('form').count(), 0);
    await page.close();

    // With a token: refused all the same, the bearer header changes nothing.
    const walled = await startWeb({ ...s.config, WEB_TOKEN: TOKEN }, deps(), 0);
    try {
      const r = await raw(walled.url, 'GET', '/', { host: 'rebind.attacker.example', authorization: `Bearer ${TOKEN}` });
      assert.equal(r.status, 421);
    } finally {
      await walled.close();
    }
    // A name the operator allowed is served.
    const allowed = await startWeb({ ...s.config, WEB_ALLOWED_HOSTS: ['grokflow.internal'] }, deps(), 0);
    try {
      assert.equal((await raw(allowed.url, 'GET', '/', { host: 'grokflow.internal' })).status, 200);
      assert.equal((await raw(allowed.url, 'GET', '/', { host: 'grokflow.internal.attacker.example' })).status, 421);
    } finally {
      await allowed.close();
    }
  });

  test('a cross-origin POST is refused (403): from another site\'s page in Chromium, and by header; the console\'s own form works', async () => {
    const before = await jobCount();
    // Another site on this machine whose page posts the console's add form.
    const evil = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${web.url}/jobs"><input name="prompts" value="posted by another site"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const page = await browser.newPage();
      const answered = page.waitForResponse((r) => r.url() === `${web.url}/jobs`);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const res = await answered;
      assert.equal(res.status(), 403);
      assert.match(await res.text(), /refused: a POST from another site \(origin http:\/\/127\.0\.0\.1:\d+\)/);
      await page.close();
    } finally {
      evil.close();
    }
    const port = new URL(web.url).port;
    for (const headers of [{ origin: 'http://attacker.example' } as Record<string, string>, { origin: 'null' }, { referer: 'http://attacker.example/page' }, { origin: `http://127.0.0.1:${Number(port) + 1}` }]) {
      const r = await raw(web.url, 'POST', '/jobs', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, 'prompts=forged');
      assert.equal(r.status, 403, JSON.stringify(headers));
    }
    assert.equal(await jobCount(), before, 'nothing written');

    // The console's own page: its form post carries its own origin and goes through.
    const page = await browser.newPage();
    await page.goto(`${web.url}/jobs/new`);
    await page.locator('textarea[name=prompts]').fill('a lighthouse at dusk');
    await page.getByRole('button', { name: 'Add the job' }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    assert.equal(await jobCount(), before + 1);
    await page.close();
  });

  test('sessions: a login lasts WEB_SESSION_HOURS, an expired cookie goes back to the login form, logout ends it, a new WEB_TOKEN ends them all', async () => {
    const walled = await startWeb({ ...s.config, WEB_TOKEN: TOKEN, WEB_SESSION_HOURS: 3 }, deps(), 0);
    try {
      const ctx = await browser.newContext({ viewport: { width: 900, height: 420 } });
      const page = await ctx.newPage();
      const login = async () => {
        await page.goto(`${walled.url}/accounts`);
        assert.match(page.url(), /\/login\?next=%2Faccounts$/);
        await page.locator('input[name=token]').fill(TOKEN);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL(`${walled.url}/accounts`);
        return (await ctx.cookies()).find((c) => c.name === 'grokflow_session')!;
      };
      await page.goto(`${walled.url}/login`);
      await page.screenshot({ path: path.join(DOCS, 'console-login.png') });
      const first = await login();
      assert.match(first.value, /^[\w-]{43}$/, 'a random session id');
      const [row] = (await s.t.pool.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS secs, id_hash FROM web_sessions`)).rows;
      assert.equal(row.secs, 3 * 3600, 'the session lasts WEB_SESSION_HOURS');
      assert.notEqual(row.id_hash, first.value, 'the database keeps a hash, not the cookie');
      assert.ok(Math.abs(first.expires - (Date.now() / 1000 + 3 * 3600)) < 120, 'the cookie expires with it');
      const cookie = { cookie: `grokflow_session=${first.value}` };
      assert.equal((await raw(walled.url, 'GET', '/accounts', cookie)).status, 200);

      // Expired: the row's time is up, whatever the browser kept.
      await s.t.pool.query(`UPDATE web_sessions SET expires_at = now() - interval '1 second'`);
      await page.goto(`${walled.url}/accounts`);
      assert.match(page.url(), /\/login\?next=%2Faccounts$/, 'an expired session is sent to the login form');
      assert.equal((await raw(walled.url, 'GET', '/accounts', cookie)).status, 401);

      // Logout: the button ends this session; its cookie, replayed, is refused.
      const second = await login();
      await page.screenshot({ path: path.join(DOCS, 'console-logout.png') });
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${walled.url}/login`);
      assert.equal((await ctx.cookies()).find((c) => c.name === 'grokflow_session'), undefined, 'the cookie is cleared');
      assert.equal((await raw(walled.url, 'GET', '/accounts', { cookie: `grokflow_session=${second.value}` })).status, 401, 'the ended session is refused when replayed');
      assert.equal((await s.t.pool.query(`SELECT count(*)::int AS n FROM web_sessions WHERE expires_at > now()`)).rows[0].n, 0);

      // A new WEB_TOKEN: the sessions opened with the old one end.
      const third = await login();
      const thirdCookie = { cookie: `grokflow_session=${third.value}` };
      const rekeyed = await startWeb({ ...s.config, WEB_TOKEN: `${TOKEN}-changed` }, deps(), 0);
      const same = await startWeb({ ...s.config, WEB_TOKEN: TOKEN }, deps(), 0);
      try {
        assert.equal((await raw(rekeyed.url, 'GET', '/accounts', thirdCookie)).status, 401, 'a session of the old token is over');
        assert.equal((await raw(same.url, 'GET', '/accounts', thirdCookie)).status, 200, 'the same token: still on');
      } finally {
        await rekeyed.close();
        await same.close();
      }
      await ctx.close();
    } finally {
      await walled.close();
    }
  });

  test('the console decides on the parsed payload: an escaped imagePath key, __proto__ and constructor keys are refused, nothing written', async () => {
    const before = await jobCount();
    const page = await browser.newPage();
    const cases: Array<[string, RegExp]> = [
      ['{"\\u0069magePath": "/etc/hostname", "prompt": "x"}', /^payload\.imagePath: not accepted from the web console \(it names a file on the server\); upload the image instead$/],
      ['{"imagePath": "/etc/hostname", "prompt": "x"}', /^payload\.imagePath: not accepted from the web console/],
      ['{"__proto__": {"imagePath": "/etc/hostname"}, "prompt": "x"}', /^invalid payload: payload\.__proto__: not accepted \(it names an object's prototype\)$/],
      ['{"constructor": {"prototype": {"imagePath": "/etc/hostname"}}, "prompt": "x"}', /^invalid payload: payload\.constructor: not accepted/],
      ['{"prompt": "x", "prompts": [{"__proto__": 1}]}', /payload\.prompts\.0\.__proto__: not accepted/],
    ];
    for (const [payload, message] of cases) {
      await page.goto(`${web.url}/jobs/new`);
      await page.locator('details summary').click();
      await page.locator('textarea[name=payload]').fill(payload);
      await page.getByRole('button', { name: 'Add the job' }).click();
      await page.locator('p.error').waitFor();
      assert.match((await page.locator('p.error').textContent())!.trim(), message, payload);
    }
    assert.equal(await jobCount(), before, 'nothing written');
    await page.close();
  });

  test('imagePath from the CLI or SQL stays inside IMAGES_DIR: a path outside and a symlink out are refused, with one message whether the file exists or not', async () => {
    const secret = path.join(outside, 'secret.json');
    fs.writeFileSync(secret, '{"cookies": []}');
    fs.symlinkSync(secret, path.join(images, 'link-out.jpg'));
    fs.symlinkSync(outside, path.join(images, 'dir-out'));
    const inside = path.join(images, 'still.jpg');
    fs.writeFileSync(inside, s.simulator.asset('image.jpg'));
    const rule = `payload.imagePath: must be a file inside IMAGES_DIR (${images})`;
    const refused = [secret, path.join(outside, 'missing.jpg'), path.join(images, 'link-out.jpg'), path.join(images, 'dir-out', 'secret.json'), path.join(images, 'dir-out', 'missing.jpg'), `${images}/../${path.basename(outside)}/secret.json`];
    for (const p of refused) {
      const r = await runCli(['jobs', 'add', '--image-path', p, '-p', 'x'], { env: s.configEnv });
      assert.equal(r.code, 2, `${p}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), `grokflow: invalid payload: ${rule}`, p);
    }
    const ok = await runCli(['jobs', 'add', '--image-path', inside, '-p', 'x', '--json'], { env: s.configEnv });
    assert.equal(ok.code, 0, ok.stderr);
    const added = JSON.parse(ok.stdout) as { id: number };

    // By SQL: outside ends ERROR at the claim; a symlink out (inside by its name) at the job's start.
    const bySql = await s.insertJob({ imagePath: secret, prompt: 'x' });
    const linked = await s.insertJob({ imagePath: path.join(images, 'link-out.jpg'), prompt: 'x' });
    const a = await s.waitForJob(bySql, ['ERROR', 'COMPLETED'], 60_000);
    assert.equal(a.status, 'ERROR');
    assert.equal(a.errorMessage, `invalid payload: ${rule}`);
    const b = await s.waitForJob(linked, ['ERROR', 'COMPLETED'], 60_000);
    assert.equal(b.status, 'ERROR');
    assert.match(b.errorMessage!, new RegExp(rule.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal((await s.waitForJob(added.id, ['ERROR', 'COMPLETED'], 120_000)).status, 'COMPLETED', 'a file inside IMAGES_DIR is used');
  });

  test('an imageUrl on another host than the Grok driven ends ERROR at the claim, naming the rule; Chromium never opens it', async () => {
    const post = s.simulator.createPost('default');
    const sim = new URL(s.simulator.url);
    // The simulator's own post under another name: had Chromium opened it, the simulator would have seen the visit.
    const foreign = `http://localhost:${sim.port}/imagine/post/${post.postId}`;
    const id = await s.insertJob({ imageUrl: foreign, prompt: 'lured' });
    const ended = await s.waitForJob(id, ['ERROR', 'COMPLETED'], 60_000);
    assert.equal(ended.status, 'ERROR');
    assert.equal(ended.errorMessage, `invalid payload: payload.imageUrl: must be a post on ${sim.origin} (the Grok grokflow drives: GROK_BASE_URL), not on http://localhost:${sim.port}`);
    assert.deepEqual(await s.items(id), [], 'never started');
    // The same post under the Grok's own origin is opened: the record does see visits.
    const control = await s.insertJob({ imageUrl: post.url, prompt: 'the real one' });
    assert.equal((await s.waitForJob(control, ['ERROR', 'COMPLETED'], 120_000)).status, 'COMPLETED');
    const visits = s.simulator.postVisits.filter((v) => v.path.startsWith(`/imagine/post/${post.postId}`));
    assert.ok(visits.length > 0, 'the control job opened the post');
    assert.deepEqual(visits.filter((v) => v.host !== sim.host), [], 'no visit under the foreign name');

    // The driver itself, handed the foreign URL past every check: it refuses before a page opens.
    const before = s.simulator.postVisits.length;
    const outcome = await s.generator!.generateVideo({
      jobId: 'trust-foreign', itemIndex: 0, account: 'default', postUrl: foreign, prompt: 'lured', duration: 'max',
      downloadPath: path.join(s.dir, 'downloads', 'trust-foreign', '0.mp4'),
    });
    assert.equal(outcome.kind, 'failed');
    assert.match((outcome as { reason: string }).reason, new RegExp(`imageUrl: not a post on ${sim.origin.replace(/[.]/g, '\\.')}; not opened`));
    assert.equal(s.simulator.postVisits.length, before, 'no visit at all');

    // From the console: the same rule, the same message.
    const page = await browser.newPage();
    await page.goto(`${web.url}/jobs/new`);
    await page.locator('textarea[name=prompts]').fill('lured');
    await page.locator('input[name=imageUrl]').fill(foreign);
    await page.getByRole('button', { name: 'Add the job' }).click();
    assert.match((await page.locator('p.error').textContent())!, /payload\.imageUrl: must be a post on http:\/\/127\.0\.0\.1:\d+ \(the Grok grokflow drives: GROK_BASE_URL\)/);
    await page.close();
  });

  test('the add form: backend, aspect ratio, extend, pool and an uploaded image; the image is checked, stored under IMAGES_DIR/uploads and becomes a video', async () => {
    let page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(`${web.url}/jobs/new`);
    const still = path.join(outside, 'my holiday.jpg');
    fs.writeFileSync(still, s.simulator.asset('image.jpg'));
    await page.locator('textarea[name=prompts]').fill('bring the harbour to life');
    await page.locator('select[name=backend]').selectOption('browser');
    await page.locator('select[name=aspectRatio]').selectOption('16:9');
    await page.locator('input[name=pool]').fill('default');
    await page.locator('input[name=image]').setInputFiles(still);
    await page.screenshot({ path: path.join(DOCS, 'console-add-job.png') });
    await page.getByRole('button', { name: 'Add the job' }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const row = await job(id);
    const payload = row.payload as Record<string, unknown>;
    assert.match(String(payload.imagePath), new RegExp(`^${images.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/uploads/[0-9a-f-]{36}\\.jpg$`));
    assert.deepEqual({ ...payload, imagePath: undefined }, { prompt: 'bring the harbour to life', backend: 'browser', aspectRatio: '16:9', pool: 'default', imagePath: undefined });
    assert.deepEqual(fs.readFileSync(String(payload.imagePath)), fs.readFileSync(still), 'the bytes as uploaded');
    assert.equal(fs.statSync(String(payload.imagePath)).mode & 0o777, 0o600);
    const done = await s.waitForJob(id, ['ERROR', 'COMPLETED'], 120_000);
    assert.equal(done.status, 'COMPLETED', done.errorMessage ?? '');
    const [item] = await s.items(id);
    assert.ok(item?.filePath && fs.statSync(item.filePath).size > 0, 'a video was downloaded');
    assert.equal(s.simulator.generations.filter((g) => g.kind === 'video').length > 0, true);

    // Extend from the form reaches the payload too (not run: the schema is what is shown).
    // A new tab: the job page reloads itself live and would race a navigation away.
    await page.close();
    page = await browser.newPage();
    const before = await jobCount();
    await page.goto(`${web.url}/jobs/new`);
    await page.locator('textarea[name=prompts]').fill('x');
    await page.locator('input[name=extend]').fill('31');
    await page.getByRole('button', { name: 'Add the job' }).click();
    assert.match((await page.locator('p.error').textContent())!, /payload\.extend: Too big/);

    // Not an image (whatever its name says), and too big: refused, nothing stored.
    const fake = path.join(outside, 'not-an-image.jpg');
    fs.writeFileSync(fake, '{"cookies": [{"name": "sso", "value": "x"}]}');
    await page.goto(`${web.url}/jobs/new`);
    await page.locator('textarea[name=prompts]').fill('x');
    await page.locator('input[name=image]').setInputFiles(fake);
    await page.getByRole('button', { name: 'Add the job' }).click();
    assert.equal((await page.locator('p.error').textContent())!.trim(), 'image: not a PNG, JPEG, WebP or GIF image');
    const small = await startWeb({ ...s.config, WEB_UPLOAD_MAX_MB: 0.001 }, deps(), 0);
    try {
      await page.goto(`${small.url}/jobs/new`);
      await page.locator('textarea[name=prompts]').fill('x');
      await page.locator('input[name=image]').setInputFiles(still);
      const answered = page.waitForResponse((r) => r.url() === `${small.url}/jobs`);
      await page.getByRole('button', { name: 'Add the job' }).click();
      const res = await answered;
      assert.equal(res.status(), 413);
      assert.match(await res.text(), /image: larger than 0\.001 MB \(WEB_UPLOAD_MAX_MB\)/);
    } finally {
      await small.close();
    }
    assert.equal(await jobCount(), before);
    assert.deepEqual(fs.readdirSync(path.join(images, 'uploads')), [path.basename(String(payload.imagePath))], 'only the accepted upload is kept');
    await page.close();
  });
});
