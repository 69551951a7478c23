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
    assert.equal(await contextsSettleAt(1), 1, 'the generation\'s context closed, one spare open');
    assert.equal(h.driver.browser.openSessions(), 0);

    // A new login: the spare holds the old, now dead session and must not be used.
    await new Promise((r) => setTimeout(r, 20));
    h.sim.expireSessions(acct);
    h.loginAccount(acct);
    const second = await h.driver.generateVideo(req('w2'));
    assert.equal(second.kind, 'success', JSON.stringify(second));
    assert.equal(await contextsSettleAt(1), 1);

    await h.driver.close();
    assert.equal((await h.driver.browser.current())?.contexts().length ?? 0, 0);
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
