import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { loadConfig, type Config } from '../src/shared/config';
import { createDb, createPool, type Db } from '../src/shared/db/client';
import { takeAccount, poolMembers } from '../src/slave/accounts/pool';
import { quotaOf } from '../src/slave/accounts/quota';
import { acquireSlot, keepSlot, releaseSlot } from '../src/slave/accounts/slots';
import { recordAuthError, startCooldown } from '../src/slave/accounts/state';
import { accountStatuses } from '../src/slave/accounts/status';
import { createLogger } from '../src/shared/logger';
import { registerAccountGauges, registry } from '../src/shared/metrics';
import { runCli } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// The pool's rules on a real PostgreSQL: slots, gaps, cooldowns, quotas and the choice of an
// account, raced from several connection pools at once (each its own sessions, as separate
// slave processes would have).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('account pool', () => {
  let t: TestDatabase;
  let dir: string;
  let config: Config;
  let env: Record<string, string>;
  const extraPools: Array<ReturnType<typeof createPool>> = [];

  before(async () => {
    t = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-pool-'));
    env = { DATABASE_URL: t.url, GROK_BASE_URL: 'http://127.0.0.1:9', ACCOUNTS_DIR: dir, ACCOUNT_MIN_GAP_MS: '0', ACCOUNT_BUSY_RETRY_MS: '300', LOG_LEVEL: 'silent' };
    config = loadConfig(env);
  });
  after(async () => {
    await Promise.all(extraPools.map((p) => p.end()));
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await t.pool.query('TRUNCATE accounts, account_leases, jobs CASCADE');
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true });
  });

  const login = (...names: string[]) => { for (const n of names) fs.writeFileSync(path.join(dir, `${n}.json`), '{"cookies":[],"origins":[]}'); };
  // Test-owned names and columns only: plain SQL, as an operator would type it.
  const setAccount = (name: string, cols: string) => t.pool.query(`INSERT INTO accounts (name) VALUES ('${name}') ON CONFLICT DO NOTHING; UPDATE accounts SET ${cols} WHERE name = '${name}'`);
  const otherDb = (): Db => {
    const pool = createPool(t.url, { max: 2 });
    extraPools.push(pool);
    return createDb(pool);
  };
  const completedItemOn = async (account: string) => {
    const { rows } = await t.pool.query(`INSERT INTO jobs (type, status, payload) VALUES ('GROK_VIDEO_GENERATION', 'PROGRESS', '{}') RETURNING id`);
    await t.pool.query(`INSERT INTO job_items (job_id, index, status, account) VALUES ($1, 0, 'COMPLETED', $2)`, [rows[0].id, account]);
  };

  test('twenty acquirers on six connection pools race for an account of concurrency 2: exactly two slots are granted', async () => {
    await setAccount('a', 'concurrency = 2');
    const dbs = Array.from({ length: 6 }, otherDb);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => acquireSlot(dbs[i % dbs.length]!, config, 'a', { holder: `h${i}` }, 30_000)));
    const granted = answers.filter((a) => a.kind === 'acquired');
    assert.equal(granted.length, 2, JSON.stringify(answers));
    for (const refused of answers.filter((a) => a.kind !== 'acquired')) {
      assert.equal(refused.kind, 'busy');
      assert.ok(refused.kind === 'busy' && refused.inFlight === 2 && refused.concurrency === 2);
    }
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM account_leases WHERE account = 'a'`);
    assert.equal(rows[0].n, 2);
  });

  test('a holder that stops renewing (killed) loses its slot when its lease runs out; a renewed one keeps it', async () => {
    await setAccount('a', 'concurrency = 1');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'dead' }, 800)).kind, 'acquired');
    assert.equal((await acquireSlot(otherDb(), config, 'a', { holder: 'next' }, 800)).kind, 'busy', 'held while the lease runs');
    await sleep(900);
    assert.equal((await acquireSlot(otherDb(), config, 'a', { holder: 'next' }, 800)).kind, 'acquired', 'free once the dead holder\'s lease ran out');

    // A live holder renews: its slot outlives the lease length several times over.
    await releaseSlot(t.db, 'a', 'next');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'live' }, 600)).kind, 'acquired');
    const held = keepSlot(t.db, 'a', 'live', 600, createLogger(config));
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      assert.equal((await acquireSlot(otherDb(), config, 'a', { holder: 'other' }, 600)).kind, 'busy', `still held after ${(i + 1) * 500} ms`);
    }
    await held.release();
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'other' }, 600)).kind, 'acquired', 'free as soon as it is released');
  });

  test('a retry of the same activity takes its own slot back instead of waiting for it', async () => {
    await setAccount('a', 'concurrency = 1');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'wf/1' }, 30_000)).kind, 'acquired');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'wf/1' }, 30_000)).kind, 'acquired');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'wf/2' }, 30_000)).kind, 'busy');
  });

  test('the minimum gap between two starts holds across connections, and says how long is left', async () => {
    await setAccount('a', 'concurrency = 5, min_gap_ms = 1500');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'one' }, 30_000)).kind, 'acquired');
    const second = await acquireSlot(otherDb(), config, 'a', { holder: 'two' }, 30_000);
    assert.equal(second.kind, 'gap');
    assert.ok(second.kind === 'gap' && second.waitMs > 500 && second.waitMs <= 1500, JSON.stringify(second));
    await sleep(second.kind === 'gap' ? second.waitMs + 50 : 0);
    assert.equal((await acquireSlot(otherDb(), config, 'a', { holder: 'two' }, 30_000)).kind, 'acquired');
    // ACCOUNT_MIN_GAP_MS applies to an account without its own.
    const gapped = loadConfig({ ...env, ACCOUNT_MIN_GAP_MS: '60000' });
    await setAccount('b', 'concurrency = 5');
    assert.equal((await acquireSlot(t.db, gapped, 'b', { holder: 'one' }, 30_000)).kind, 'acquired');
    assert.equal((await acquireSlot(t.db, gapped, 'b', { holder: 'two' }, 30_000)).kind, 'gap');
  });

  test('AUTH_MODE=profile: one generation per account, whatever its concurrency', async () => {
    const profile = loadConfig({ ...env, AUTH_MODE: 'profile' });
    await setAccount('a', 'concurrency = 3');
    assert.equal((await acquireSlot(t.db, profile, 'a', { holder: 'one' }, 30_000)).kind, 'acquired');
    assert.equal((await acquireSlot(t.db, profile, 'a', { holder: 'two' }, 30_000)).kind, 'busy');
    assert.equal((await acquireSlot(t.db, config, 'a', { holder: 'two' }, 30_000)).kind, 'acquired', 'storageState mode uses the account\'s 3');
  });

  test('a cooling account and a used-up quota grant no slot; slots in flight count against the quota', async () => {
    await startCooldown(t.db, 'cool', 60_000, 'Rate limit reached');
    const cooling = await acquireSlot(t.db, config, 'cool', { holder: 'x' }, 30_000);
    assert.equal(cooling.kind, 'cooling');
    assert.ok(cooling.kind === 'cooling' && cooling.waitMs > 55_000 && Date.parse(cooling.until) > Date.now() + 55_000);

    await setAccount('q', 'daily_quota = 2, concurrency = 5');
    await completedItemOn('q');
    assert.deepEqual(await quotaOf(t.db, 'q'), { limit: 2, used: 1, left: 1 });
    assert.equal((await acquireSlot(t.db, config, 'q', { holder: 'x' }, 30_000)).kind, 'acquired');
    assert.equal((await acquireSlot(t.db, config, 'q', { holder: 'y' }, 30_000)).kind, 'busy', 'the one left is in flight');
    await completedItemOn('q');
    await releaseSlot(t.db, 'q', 'x');
    const spent = await acquireSlot(t.db, config, 'q', { holder: 'y' }, 30_000);
    assert.deepEqual(spent, { kind: 'quota', account: 'q', limit: 2, used: 2 });
  });

  test('a pool job takes the least busy ready account: not cooling, not of another pool, not logged out, with a session', async () => {
    login('a', 'b', 'c', 'd', 'e');
    await setAccount('a', 'concurrency = 2');
    await setAccount('b', 'concurrency = 2');
    await startCooldown(t.db, 'c', 60_000);
    await setAccount('d', `pool = 'team'`);
    await recordAuthError(t.db, 'e', 'account e needs a new login');
    await setAccount('nofile', 'concurrency = 2');
    assert.deepEqual((await poolMembers(t.db, config, 'default')).map((m) => m.name).sort(), ['a', 'b', 'c']);

    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await takeAccount(t.db, config, { pool: 'default' }, { holder: `h${i}` }, 30_000);
      assert.equal(c.kind, 'acquired', JSON.stringify(c));
      if (c.kind === 'acquired') got.push(c.account);
    }
    assert.deepEqual(got.sort(), ['a', 'a', 'b', 'b'], 'spread over a and b; c cools down');
    const full = await takeAccount(t.db, config, { pool: 'default' }, { holder: 'h9' }, 30_000);
    assert.equal(full.kind, 'wait');
    assert.ok(full.kind === 'wait' && full.reason === 'busy' && full.waitMs <= 300, JSON.stringify(full));

    const team = await takeAccount(t.db, config, { pool: 'team' }, { holder: 't' }, 30_000);
    assert.deepEqual(team, { kind: 'acquired', account: 'd' });
    const none = await takeAccount(t.db, config, { pool: 'nobody' }, { holder: 'n' }, 30_000);
    assert.equal(none.kind, 'unavailable');
    assert.match(none.kind === 'unavailable' ? none.message : '', /pool nobody has no logged-in account .*accounts set <name> --pool nobody/);
  });

  test('every account of the pool cooling down: wait for the one that frees first, naming it', async () => {
    login('a', 'b');
    await startCooldown(t.db, 'a', 120_000);
    await startCooldown(t.db, 'b', 30_000);
    const c = await takeAccount(t.db, config, { pool: 'default' }, { holder: 'h' }, 30_000);
    assert.equal(c.kind, 'wait');
    if (c.kind !== 'wait') return;
    assert.equal(c.account, 'b');
    assert.equal(c.reason, 'cooling');
    assert.ok(c.waitMs > 25_000 && c.waitMs <= 30_000, String(c.waitMs));
    assert.match(c.message, /^every account of pool default is rate limited; account b is rate limited until /);
  });

  test('every account of the pool out of quota: unavailable, naming each; a named account is kept to', async () => {
    login('a', 'b');
    await setAccount('a', 'daily_quota = 1');
    await setAccount('b', 'daily_quota = 0');
    await completedItemOn('a');
    const c = await takeAccount(t.db, config, { pool: 'default' }, { holder: 'h' }, 30_000);
    assert.equal(c.kind, 'unavailable');
    assert.match(c.kind === 'unavailable' ? c.message : '', /every account has used its daily quota \((a 1\/1, b 0\/0|b 0\/0, a 1\/1)\)/);

    await startCooldown(t.db, 'a', 60_000);
    await setAccount('a', 'daily_quota = NULL');
    const named = await takeAccount(t.db, config, { account: 'a' }, { holder: 'h' }, 30_000);
    assert.equal(named.kind, 'wait', 'a named account is waited for, never swapped');
    assert.ok(named.kind === 'wait' && named.account === 'a' && named.reason === 'cooling');
  });

  test('accounts list and the status view: in flight from the leases, cooldown until, quota used and left, last error', async () => {
    login('a', 'b');
    await setAccount('a', `concurrency = 3, daily_quota = 5, pool = 'default'`);
    await completedItemOn('a');
    await acquireSlot(t.db, config, 'a', { holder: 'one' }, 30_000);
    await acquireSlot(t.db, config, 'a', { holder: 'two' }, 30_000);
    await startCooldown(t.db, 'b', 90_000, 'Rate limit reached. Try again in 90 seconds.');
    const view = await accountStatuses(t.db, config);
    const a = view.find((v) => v.name === 'a')!;
    const b = view.find((v) => v.name === 'b')!;
    assert.deepEqual([a.inFlight, a.concurrency, a.usedToday, a.quotaLeft, a.cooldownUntil, a.loggedIn], [2, 3, 1, 4, null, true]);
    assert.ok(b.cooldownSeconds > 85 && b.cooldownSeconds <= 90 && b.cooldownUntil !== null);
    assert.equal(b.lastError, 'Rate limit reached. Try again in 90 seconds.');

    // Prometheus: the same figures per account, read at scrape time.
    registerAccountGauges(() => accountStatuses(t.db, config));
    const metrics = await registry.metrics();
    assert.match(metrics, /^grokflow_account_in_flight\{account="a",pool="default"\} 2$/m);
    assert.match(metrics, /^grokflow_account_concurrency\{account="a",pool="default"\} 3$/m);
    assert.match(metrics, /^grokflow_account_quota_used\{account="a",pool="default"\} 1$/m);
    assert.match(metrics, /^grokflow_account_quota_left\{account="a",pool="default"\} 4$/m);
    assert.doesNotMatch(metrics, /^grokflow_account_quota_left\{account="b"/m, 'no quota, no series');
    assert.match(metrics, /^grokflow_account_cooldown_seconds\{account="b",pool="default"\} (8\d|90)$/m);
    assert.match(metrics, /^grokflow_account_error\{account="b",pool="default"\} 1$/m);

    const cli = await runCli(['accounts', 'list'], { env });
    assert.equal(cli.code, 0, cli.all);
    const line = (name: string) => cli.stdout.split('\n').find((l) => l.includes(` ${name} `)) ?? '';
    // … quota left, grok left, check, budget left, spent today, min gap
    assert.match(line('a'), /│ default\s+│ saved\s+│ 2\/3\s+│\s+│ 1\s+│ 4\/5\s+│\s+│\s+│\s+│\s+│ 0 s\s+│/);
    assert.match(line('b'), /│ 8\d s \(until \d{4}-/);
    assert.match(line('b'), /Rate limit reached/);
  });

  test('accounts set: --pool, --concurrency, --min-gap (and "default"), each bad value named', async () => {
    const set = (...args: string[]) => runCli(['accounts', 'set', 'x', ...args], { env });
    const ok = await set('--pool', 'team', '--concurrency', '2', '--min-gap', '2500');
    assert.equal(ok.code, 0, ok.all);
    const { rows } = await t.pool.query(`SELECT pool, concurrency, min_gap_ms FROM accounts WHERE name = 'x'`);
    assert.deepEqual(rows[0], { pool: 'team', concurrency: 2, min_gap_ms: 2500 });
    assert.equal((await set('--concurrency', 'default', '--min-gap', 'default')).code, 0);
    const view = JSON.parse((await runCli(['accounts', 'list', '--json'], { env })).stdout) as Array<{ name: string; pool: string; concurrency: number; minGapMs: number }>;
    // "default": ACCOUNT_CONCURRENCY, whose default is the seed's 10 sessions per account.
    assert.deepEqual(view.find((v) => v.name === 'x'), { ...view.find((v) => v.name === 'x'), pool: 'team', concurrency: 10, minGapMs: 0 });

    const zero = await set('--concurrency', '0');
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--concurrency must be a whole number from 1 to 100, or "default", got "0"/);
    const many = await set('--concurrency', '101');
    assert.equal(many.code, 2);
    assert.match(many.stderr, /--concurrency must be a whole number from 1 to 100, or "default", got "101"/);
    const gap = await set('--min-gap', '8s');
    assert.equal(gap.code, 2);
    assert.match(gap.stderr, /--min-gap must be a whole number ≥ 0, or "default", got "8s"/);
    const pool = await set('--pool', '../etc');
    assert.equal(pool.code, 2);
    assert.match(pool.stderr, /--pool: letters, digits/);
  });
});
