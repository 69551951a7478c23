import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { GrokDriver } from '../src/backends/browser/driver';
import { login, LoginError } from '../src/backends/browser/login';
import { REDACTED } from '../src/backends/browser/traceScrub';
import { startHarness, type GrokHarness } from './helpers/browser';
import { pollUntil } from './helpers/wait';

// Abort, per-run rate limits, aggressive UI drift, artifacts with traces, and the login helper.

describe('driver: abort closes the context', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ generationMs: 20_000 });
  });
  after(async () => {
    await h?.close();
  });

  it('aborting mid-generation rejects with the reason and leaves no context', async () => {
    const acct = h.loginAccount('default');
    const post = h.sim.createPost(acct);
    const ac = new AbortController();
    let percentSeen = false;
    const browser = await h.driver.browser.browser();
    const run = h.driver.generateVideo(
      { jobId: 'abort', itemIndex: 0, account: acct, postUrl: post.url, prompt: 'long one', downloadPath: h.downloadPath('abort') },
      {
        signal: ac.signal,
        onProgress: (_c, _t, m) => {
          if (/generating \d+%/.test(m)) percentSeen = true;
        },
      },
    );
    const settled = run.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await pollUntil(async () => percentSeen, 15_000, 20);
    assert.ok(percentSeen, 'generation was running');
    assert.equal(browser.contexts().length, 1);
    const page = browser.contexts()[0]!.pages()[0]!;
    const reason = new Error('terminated by test');
    ac.abort(reason);
    const result = await settled;
    // How fast (the "within a second") is `npm run bench -- abort`; this checks what.
    assert.equal(result, reason, 'rejects with the signal reason');
    assert.equal(browser.contexts().length, 0, 'context closed');
    assert.equal(page.isClosed(), true, 'page closed');
    assert.equal(h.driver.browser.openSessions(), 0);
    assert.ok(!fs.existsSync(h.downloadPath('abort')));
  });

  it('an already aborted signal rejects at once without opening a context', async () => {
    const ac = new AbortController();
    ac.abort(new Error('early'));
    await assert.rejects(
      h.driver.generateVideo({ jobId: 'a2', itemIndex: 0, account: 'default', postUrl: h.sim.createPost('default').url, prompt: 'x', downloadPath: h.downloadPath('a2') }, { signal: ac.signal }),
      /early/,
    );
    assert.equal(h.driver.browser.openSessions(), 0);
  });
});

describe('driver: per-run rate limit, default cooldown, aggressive drift, traces', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ rateLimitAfter: 1, announceCooldown: false, uiVariant: 'aggressive' }, { rateLimitCooldownMs: 123_456, trace: true });
  });
  after(async () => {
    await h?.close();
  });

  it('rateLimitAfter=1 with aggressive drift: one success (fallback selectors), then rateLimited with the configured cooldown and a trace', async () => {
    const acct = h.loginAccount('default');
    const mk = (i: number) => ({
      jobId: 'rl',
      itemIndex: i,
      account: acct,
      postUrl: h.sim.createPost(acct).url,
      prompt: `clip ${i}`,
      downloadPath: h.downloadPath('rl', `v${i}.mp4`),
    });
    const first = await h.driver.generateVideo(mk(0));
    assert.equal(first.kind, 'success', JSON.stringify(first));
    const second = await h.driver.generateVideo(mk(1));
    assert.equal(second.kind, 'rateLimited');
    assert.equal((second as { cooldownMs: number }).cooldownMs, 123_456, 'no time in the message: the configured cooldown');
    const dir = (second as { artifactsDir?: string }).artifactsDir;
    assert.ok(dir, 'artifacts saved');
    assert.ok(fs.statSync(path.join(dir, 'trace.zip')).size > 0, 'trace saved');

    // The trace recorded the requests, but not the session they carried.
    const files = unzipSync(fs.readFileSync(path.join(dir, 'trace.zip')));
    const text = Object.values(files).map((b) => strFromU8(b)).join('\n');
    assert.ok(text.includes(`"name":"Cookie","value":${JSON.stringify(REDACTED)}`), 'requests with their Cookie header, redacted');
    const state = JSON.parse(fs.readFileSync(path.join(h.accountsDir, 'default.json'), 'utf8')) as { cookies: Array<{ value: string }> };
    for (const c of state.cookies) assert.ok(!text.includes(c.value), 'a session cookie value is in the trace');
  });
});

describe('login helper', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ users: [{ name: 'alice', password: 'correct horse' }] });
  });
  after(async () => {
    await h?.close();
  });

  it('fills the sign-in form headless and saves the storage state 0600; the driver then works', async () => {
    const res = await login('alice', h.sim.url, {
      headless: true,
      accountsDir: h.accountsDir,
      credentials: { username: 'alice', password: 'correct horse' },
    });
    assert.equal(res.savedTo, path.join(h.accountsDir, 'alice.json'));
    assert.equal(fs.statSync(res.savedTo).mode & 0o777, 0o600);
    const state = JSON.parse(fs.readFileSync(res.savedTo, 'utf8')) as { cookies: Array<{ name: string }> };
    assert.ok(state.cookies.some((c) => c.name === 'sso'));
    const o = await h.driver.generateVideo({
      jobId: 'login',
      itemIndex: 0,
      account: 'alice',
      postUrl: h.sim.createPost('alice').url,
      prompt: 'after login',
      downloadPath: h.downloadPath('login'),
    });
    assert.equal(o.kind, 'success', JSON.stringify(o));
  });

  it('a wrong password fails with a LoginError that does not echo the password', async () => {
    await assert.rejects(
      login('alice', h.sim.url, { headless: true, accountsDir: h.accountsDir, credentials: { username: 'alice', password: 'hunter2-wrong' }, timeoutMs: 20_000 }),
      (err: unknown) => err instanceof LoginError && /sign-in refused/.test(err.message) && !err.message.includes('hunter2'),
    );
  });

  it('rejects account names that could escape the accounts folder', async () => {
    await assert.rejects(login('../evil', h.sim.url, { headless: true, accountsDir: h.accountsDir }), /invalid account name/);
  });
});

describe('driver: a prewarmed context per account', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ generationMs: 300 }, { prewarm: true });
  });
  after(async () => {
    await h?.close();
  });

  async function contextsSettleAt(n: number): Promise<number> {
    const browser = await h.driver.browser.browser();
    await pollUntil(async () => browser.contexts().length === n, 10_000, 50);
    return browser.contexts().length;
  }

  it('keeps one spare ready after a generation, and drops it when the account logs in again', async () => {
    h.sim.addUser('warm', 'pw');
    const acct = h.loginAccount('warm');
    const req = (jobId: string) => ({ jobId, itemIndex: 0, account: acct, postUrl: h.sim.createPost(acct).url, prompt: `warm ${jobId}`, downloadPath: h.downloadPath(jobId) });
    assert.equal((await h.driver.generateVideo(req('w1'))).kind, 'success');
    // The generation's context is kept (it ended well) beside the spare made while it ran.
    assert.equal(await contextsSettleAt(2), 2, 'the generation\'s context kept, one spare open');
    assert.equal(h.driver.browser.openSessions(), 0);
    assert.equal(h.driver.browser.readyContexts(), 2);

    // A new login: the spare holds the old, now dead session and must not be used.
    await new Promise((r) => setTimeout(r, 20));
    h.sim.expireSessions(acct);
    h.loginAccount(acct);
    const second = await h.driver.generateVideo(req('w2'));
    assert.equal(second.kind, 'success', JSON.stringify(second));
    // Both old contexts were thrown out; the new one is kept, with a new spare.
    assert.equal(await contextsSettleAt(2), 2);

    await h.driver.close();
    assert.equal((await h.driver.browser.current())?.contexts().length ?? 0, 0);
  });
});

describe('driver: contexts kept between generations (BROWSER_PREWARM)', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ generationMs: 300 }, { prewarm: true });
  });
  after(async () => {
    await h?.close();
  });

  it('reuses the context a generation ended well with, on about:blank meanwhile, and closes the one of a failed run after its artifacts', async () => {
    h.sim.addUser('keep', 'pw');
    const acct = h.loginAccount('keep');
    const req = (jobId: string, prompt = `keep ${jobId}`) => ({ jobId, itemIndex: 0, account: acct, postUrl: h.sim.createPost(acct).url, prompt, downloadPath: h.downloadPath(jobId) });
    const browser = await h.driver.browser.browser();
    assert.equal((await h.driver.generateVideo(req('k1'))).kind, 'success');
    await pollUntil(async () => browser.contexts().length === 2, 10_000, 50);
    // The kept one left Grok's page: nothing of it runs while it waits.
    await pollUntil(async () => browser.contexts().every((c) => c.pages()[0]?.url() === 'about:blank'), 10_000, 50);
    assert.deepEqual(browser.contexts().map((c) => c.pages()[0]?.url()), ['about:blank', 'about:blank']);
    const before = new Set(browser.contexts());

    // Three more, one after another: no new context at all.
    for (const id of ['k2', 'k3', 'k4']) {
      const o = await h.driver.generateVideo(req(id));
      assert.equal(o.kind, 'success', JSON.stringify(o));
    }
    await pollUntil(async () => h.driver.browser.readyContexts() === 2, 10_000, 50);
    assert.deepEqual(new Set(browser.contexts()), before, 'the same contexts served every generation');

    // A failed run: artifacts from its page, then its context is closed, not kept.
    const failed = await h.driver.generateVideo(req('k5', 'no #sim:moderate'));
    assert.equal(failed.kind, 'moderated');
    const dir = (failed as { artifactsDir?: string }).artifactsDir;
    assert.ok(dir && fs.statSync(path.join(dir, 'screenshot.png')).size > 0, 'screenshot saved');
    assert.match(fs.readFileSync(path.join(dir, 'page.html'), 'utf8'), /<html/);
    await pollUntil(async () => browser.contexts().length === 2, 10_000, 50);
    assert.equal([...browser.contexts()].filter((c) => before.has(c)).length, 1, 'the failed run\'s context closed, the other kept one left');

    // Two at once on one account: two contexts, both kept after.
    const both = await Promise.all([h.driver.generateVideo(req('k6')), h.driver.generateVideo(req('k7'))]);
    assert.deepEqual(both.map((o) => o.kind), ['success', 'success']);
    assert.equal(h.driver.browser.openSessions(), 0);
  });

  it('a post opened ahead (openAhead) is the page the generation runs on: not loaded again, its prompt entered ahead', async () => {
    h.sim.addUser('ahead', 'pw');
    const acct = h.loginAccount('ahead');
    const postUrl = h.sim.createPost(acct).url;
    const browser = await h.driver.browser.browser();
    h.driver.openAhead(acct, postUrl, { options: { duration: 'max' }, prompt: 'ahead a1' });
    // The page opened ahead: on the post, the prompt in its box (nothing generated yet).
    let page: import('playwright').Page | undefined;
    await pollUntil(async () => {
      page = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url() === postUrl);
      return !!page && (await page.locator('textarea').inputValue().catch(() => '')) === 'ahead a1';
    }, 10_000, 50);
    assert.equal(h.sim.generations.filter((g) => g.prompt === 'ahead a1').length, 0, 'nothing generated ahead');
    const loads: string[] = [];
    const posts: string[] = [];
    page!.on('request', (r) => {
      if (r.resourceType() === 'document') loads.push(r.url());
      else if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
    });
    const o = await h.driver.generateVideo({ jobId: 'a1', itemIndex: 0, account: acct, postUrl, prompt: 'ahead a1', downloadPath: h.downloadPath('a1') });
    assert.equal(o.kind, 'success', JSON.stringify(o));
    assert.ok(posts.some((p) => /generat|conversations/.test(p)), `the generation started from the page opened ahead (POSTs: ${posts.join(', ')})`);
    assert.ok(!loads.includes(postUrl), `the post was not loaded a second time (documents: ${loads.join(', ')})`);
    assert.equal(h.sim.generations.filter((g) => g.prompt === 'ahead a1').length, 1, 'one generation, of the prompt entered ahead');
  });

  it('refuses media and fonts in the page (the driver downloads the file itself)', async () => {
    const acct = h.loginAccount('default');
    const session = await h.driver.browser.openSession(acct);
    try {
      const failed: string[] = [];
      session.page.on('requestfailed', (r) => failed.push(`${r.resourceType()} ${r.failure()?.errorText ?? ''}`));
      // A page that asks for a video: the request never leaves the browser.
      await session.page.goto(`${h.sim.url}/imagine`);
      await session.page.evaluate((src) => {
        const v = document.createElement('video');
        v.src = src;
        document.body.appendChild(v);
      }, `${h.sim.url}/static/clip.mp4?x=1`);
      await pollUntil(async () => failed.length > 0, 10_000, 50);
      assert.match(failed[0]!, /media .*BLOCKED_BY_CLIENT/);
    } finally {
      await session.close();
    }
  });
});

describe('profile mode (AUTH_MODE=profile)', () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ generationMs: 400, users: [{ name: 'pat', password: 'pw' }] });
  });
  after(async () => {
    await h?.close();
  });

  it('logs in inside the account\'s profile; generations on one profile run one at a time', async () => {
    const res = await login('pat', h.sim.url, { headless: true, accountsDir: h.accountsDir, authMode: 'profile', credentials: { username: 'pat', password: 'pw' } });
    assert.equal(res.savedTo, path.join(h.accountsDir, 'pat.profile'));
    assert.ok(fs.statSync(res.savedTo).isDirectory());
    assert.equal(fs.existsSync(path.join(h.accountsDir, 'pat.json')), false, 'no storage state file in profile mode');

    const driver = new GrokDriver({ ...h.driver.settings, authMode: 'profile' });
    try {
      let most = 0;
      const timer = setInterval(() => (most = Math.max(most, driver.browser.openSessions())), 10);
      const req = (jobId: string) => ({ jobId, itemIndex: 0, account: 'pat', postUrl: h.sim.createPost('pat').url, prompt: `profile ${jobId}`, downloadPath: h.downloadPath(jobId) });
      const outcomes = await Promise.all([driver.generateVideo(req('p1')), driver.generateVideo(req('p2'))]);
      clearInterval(timer);
      assert.deepEqual(outcomes.map((o) => o.kind), ['success', 'success'], JSON.stringify(outcomes));
      assert.equal(most, 1, 'one Chromium per profile at a time');

      const none = await driver.generateVideo({ ...req('p3'), account: 'nobody' });
      assert.equal(none.kind, 'authRequired');
    } finally {
      await driver.close();
    }
  });
});
