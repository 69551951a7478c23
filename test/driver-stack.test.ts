import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CANARY_SCHEDULE_ID } from '../src/master/canarySchedule';
import { ITEM_STEPS, readSteps } from '../src/shared/itemSteps';
import { registry } from '../src/shared/metrics';
import { runCli } from './helpers/cli';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

// The driver's figures on the whole stack (PostgreSQL, Temporal dev server, master, slave,
// Chromium, the simulator): each item's steps on its row and in `jobs show`; Grok's own
// quota_info steering the pool; the scheduled canary holding a failed account out of its
// pool and letting it back in.

describe('driver on the whole stack: steps, quota_info, canary', () => {
  let s: Stack;
  before(async () => {
    // The canary's schedule exists (once a year); the test triggers it when it needs a check.
    s = await startStack({ env: { CANARY_CRON: '0 0 1 1 *', ACCOUNT_CONCURRENCY: '1' }, simulator: { generationMs: 800 } });
  });
  after(async () => {
    await s?.stop();
  });

  const accountOf = async (id: number) => (await s.items(id)).map((i) => i.account);
  const setPool = (names: string[], pool: string) =>
    s.t.pool.query(`INSERT INTO accounts (name, pool) SELECT unnest($1::text[]), $2 ON CONFLICT (name) DO UPDATE SET pool = excluded.pool`, [names, pool]);
  /** The table row (box drawn) whose first cell is `first`. */
  const rowOf = (text: string, first: string) => text.split('\n').find((l) => new RegExp(`^│ ${first}\\s+│`).test(l)) ?? '';
  const login = (name: string) =>
    fs.writeFileSync(path.join(s.configEnv.ACCOUNTS_DIR!, `${name}.json`), JSON.stringify(s.simulator.storageState(name)), { mode: 0o600 });

  test("an item's steps are on its row and `jobs show` prints them", async () => {
    const post = s.simulator.createPost('default');
    const id = await s.insertJob({ imageUrl: post.url, prompt: 'timed steps', account: 'default' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [item] = await s.items(id);
    const steps = readSteps(item!.steps);
    for (const step of ['page', 'options', 'prompt', 'submit', 'generation', 'download'] as const) {
      assert.equal(typeof steps[step], 'number', `step ${step} on the row: ${JSON.stringify(item!.steps)}`);
    }
    assert.ok(steps.generation! > 0);
    const r = await runCli(['jobs', 'show', String(id)], { env: s.configEnv });
    assert.equal(r.code, 0, r.all);
    const section = r.stdout.slice(r.stdout.indexOf('steps (ms)'));
    assert.ok(r.stdout.includes('steps (ms)'), r.stdout);
    const header = rowOf(section, '#');
    for (const step of ITEM_STEPS) assert.match(header, new RegExp(`\\b${step}\\b`), `a column per step: ${header}`);
    assert.match(header, /overhead/);
    const row = rowOf(section, '0');
    assert.ok(row.includes(` ${steps.generation} `), `the generation's ms in the item's row: ${row}`);
  });

  test('quota_info drives the pool: an account Grok says has 0 left is never used', async () => {
    await setPool(['alice', 'bob'], 'q');
    s.simulator.setQuotaLeft('alice', 1);
    const post = s.simulator.createPost('alice');
    // alice's last generation of the day: the driver reads quota_info as it ends (0 left).
    const first = await s.insertJob({ imageUrl: post.url, prompt: 'the last of the day', account: 'alice' });
    assert.equal((await s.waitForJob(first, ['COMPLETED', 'ERROR'], 120_000)).status, 'COMPLETED');
    const { rows: [read] } = await s.t.pool.query(`SELECT grok_quota_left, grok_quota_total FROM accounts WHERE name = 'alice'`);
    assert.deepEqual(read, { grok_quota_left: 0, grok_quota_total: 1000 });
    const aliceStarts = s.simulator.generations.filter((g) => g.user === 'alice').length;

    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await s.insertJob({ imageUrl: s.simulator.createPost('bob').url, prompt: `pool q ${i}`, pool: 'q' }));
    for (const id of ids) assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000)).status, 'COMPLETED');
    for (const id of ids) assert.deepEqual(await accountOf(id), ['bob'], `job ${id} ran on bob`);
    assert.equal(s.simulator.generations.filter((g) => g.user === 'alice').length, aliceStarts, 'alice started nothing more');
    // Never tried: Grok never had to answer alice with "Rate limit reached".
    const { rows: [alice] } = await s.t.pool.query(`SELECT cooldown_until, last_error FROM accounts WHERE name = 'alice'`);
    assert.deepEqual(alice, { cooldown_until: null, last_error: null });
    const list = await runCli(['accounts', 'list'], { env: s.configEnv });
    assert.match(rowOf(list.stdout, 'alice'), /│ 0\/1000\s+│/, list.stdout);
  });

  test('the scheduled canary: a failed check holds the account out of its pool, a passing one lets it back', async () => {
    for (const name of ['carol', 'dave']) {
      s.simulator.addUser(name, 'pw');
      login(name);
    }
    await setPool(['carol', 'dave'], 'c');
    s.simulator.expireSessions('carol');
    const schedule = s.env.client.schedule.getHandle(CANARY_SCHEDULE_ID);
    const check = async () => {
      const { rows: [{ t0 }] } = await s.t.pool.query<{ t0: Date }>('SELECT now() AS t0');
      await schedule.trigger();
      // Every account checked once more (the workflow checks them in turn).
      await waitFor('the canary to check carol and dave', async () => {
        const { rows } = await s.t.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE name IN ('carol', 'dave') AND canary_at > $1`, [t0]);
        return rows[0].n === 2;
      }, 180_000, 200);
      const { rows } = await s.t.pool.query(`SELECT name, canary_ok FROM accounts WHERE name IN ('carol', 'dave') ORDER BY name`);
      return Object.fromEntries(rows.map((r) => [r.name, r.canary_ok]));
    };

    assert.deepEqual(await check(), { carol: false, dave: true });
    assert.match(await registry.getSingleMetricAsString('grokflow_canary_checks_total'), /account="carol",result="failed"\} 1/);
    const out = await Promise.all([0, 1].map((i) => s.insertJob({ imageUrl: s.simulator.createPost('dave').url, prompt: `held out ${i}`, pool: 'c' })));
    for (const id of out) assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000)).status, 'COMPLETED');
    for (const id of out) assert.deepEqual(await accountOf(id), ['dave'], 'carol held out of pool c');
    const list = await runCli(['accounts', 'list'], { env: s.configEnv });
    assert.match(rowOf(list.stdout, 'carol'), /│ FAILED missing a logged-in session/, list.stdout);

    login('carol'); // a new login: the next check passes
    assert.deepEqual(await check(), { carol: true, dave: true });
    // carol has never started a generation, dave has: the pool now picks carol first.
    const back = await s.insertJob({ imageUrl: s.simulator.createPost('carol').url, prompt: 'back in the pool', pool: 'c' });
    assert.equal((await s.waitForJob(back, ['COMPLETED', 'ERROR'], 120_000)).status, 'COMPLETED');
    assert.deepEqual(await accountOf(back), ['carol']);
  });
});
