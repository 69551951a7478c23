import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runCanary } from '../src/backends/browser/canary';
import { UI_VARIANTS } from '../src/simulator/variants';
import { startHarness, type GrokHarness } from './helpers/browser';
import { runCli } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// The canary (`grokflow accounts check`): logged in and every selector found, without
// generating anything, against every simulator variant; exit 1 naming what is missing.

for (const uiVariant of UI_VARIANTS) {
  describe(`canary against the simulator (variant ${uiVariant})`, () => {
    let h: GrokHarness;
    before(async () => {
      h = await startHarness({ uiVariant });
    });
    after(async () => {
      await h?.close();
    });
    const settings = () => ({ chromiumPath: process.env.CHROMIUM_PATH, headless: true, authMode: 'storageState' as const, accountsDir: h.accountsDir, trace: false });

    it('every selector of the composer and of a post with a video resolves; nothing is generated', async () => {
      const acct = h.loginAccount('default');
      const made = await h.driver.generateVideo({ jobId: 'c', itemIndex: 0, account: acct, postUrl: h.sim.createPost(acct).url, prompt: 'x', downloadPath: h.downloadPath('c') });
      assert.equal(made.kind, 'success');
      const before = h.sim.generations.length;
      const r = await runCanary(settings(), acct, { baseUrl: h.sim.url, postUrl: (made as { postUrl: string }).postUrl, actionMs: 10_000, navigationMs: 15_000 });
      assert.deepEqual(r.missing, []);
      assert.equal(r.loggedIn, true);
      assert.ok(r.rows.length >= 8, JSON.stringify(r.rows));
      for (const row of r.rows) assert.ok(row.via, `${row.selector} found`);
      assert.ok(r.rows.some((row) => /text: .*10s.*720p/.test(row.via ?? '')), 'the menu choices listed');
      assert.equal(h.sim.generations.length, before, 'the canary generated nothing');
    });

    it('a logged-out session → not logged in, named', async () => {
      h.sim.addUser('gone', 'pw');
      const acct = h.loginAccount('gone');
      h.sim.expireSessions('gone');
      const r = await runCanary(settings(), acct, { baseUrl: h.sim.url, actionMs: 10_000, navigationMs: 15_000 });
      assert.equal(r.loggedIn, false);
      assert.match(r.missing.join(), /logged-in session/);
    });
  });
}

describe('grokflow accounts check (CLI)', () => {
  let h: GrokHarness;
  let t: TestDatabase;
  let env: Record<string, string | undefined>;
  before(async () => {
    h = await startHarness({ uiVariant: 'classic' });
    h.loginAccount('default');
    t = await createTestDatabase();
    env = { GROK_BASE_URL: h.sim.url, ACCOUNTS_DIR: h.accountsDir, CHROMIUM_PATH: process.env.CHROMIUM_PATH, DATABASE_URL: t.url };
  });
  after(async () => {
    await h?.close();
    await t?.drop();
  });
  /** The check's result as the account row keeps it. */
  const row = async (name: string) => (await t.pool.query(`SELECT canary_ok, canary_error, grok_quota_left FROM accounts WHERE name = $1`, [name])).rows[0];

  it('prints the table and exits 0 when all is found', async () => {
    const r = await runCli(['accounts', 'check', 'default', '--post', h.sim.createPost('default').url], { env });
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /account default on .*: logged in/);
    assert.match(r.stdout, /the "Make a video" prompt box.*role textbox/);
    assert.match(r.stdout, /skipped: the post has no video/);
    assert.doesNotMatch(r.all, /sso=|MISSING/);
    assert.match(r.stdout, /Grok says 1000\/1000 generations left/);
    assert.deepEqual(await row('default'), { canary_ok: true, canary_error: null, grok_quota_left: 1000 });
  });

  it('exits 1 naming what is missing', async () => {
    const r = await runCli(['accounts', 'check', 'default', '--post', `${h.sim.url}/imagine/post/${crypto.randomUUID()}`, '--timeout', '500'], { env });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /MISSING/);
    assert.match(r.stderr, /account default: missing .*the post does not exist.*the "Make a video" prompt box/);
    const kept = await row('default');
    assert.equal(kept?.canary_ok, false, 'a failed check is kept on the row');
    assert.match(kept?.canary_error ?? '', /^missing .*the post does not exist/);
  });

  it('exits 1 for an account with no saved session', async () => {
    const r = await runCli(['accounts', 'check', 'nobody'], { env });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /missing a saved session/);
  });
});
