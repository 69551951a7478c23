import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from './helpers/stack';

// Extra lanes (ITEM_CONCURRENCY > 1) under the capacity claim, on the whole stack: lane 0
// runs on the slot the claim reserved, the extra lanes take free slots of the job's account
// (or pool) or hand their item back. A multi-item job uses more than one slot at once, never
// more than an account's concurrency, and frees every lease when it ends. What ran at once is
// read from the simulator's own log and from account_leases sampled while the job runs.

describe('extra lanes under the capacity claim (ITEM_CONCURRENCY=3)', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ env: { ITEM_CONCURRENCY: '3', ACCOUNT_CONCURRENCY: '2' }, simulator: { generationMs: 2000 } });
  });
  after(async () => {
    await s?.stop();
  });

  /** Until the job ends: the most live leases it held at once, per account and in all. */
  async function sampleLeases(id: number): Promise<{ perAccount: Record<string, number>; total: number }> {
    const perAccount: Record<string, number> = {};
    let total = 0;
    for (;;) {
      const { rows } = await s.t.pool.query(
        `SELECT account, count(*)::int AS n FROM account_leases WHERE job_id = $1 AND expires_at > clock_timestamp() GROUP BY account`, [id],
      );
      for (const r of rows) perAccount[r.account] = Math.max(perAccount[r.account] ?? 0, r.n);
      total = Math.max(total, rows.reduce((n: number, r: { n: number }) => n + r.n, 0));
      const { rows: [job] } = await s.t.pool.query('SELECT status FROM jobs WHERE id = $1', [id]);
      if (job.status === 'COMPLETED' || job.status === 'ERROR') return { perAccount, total };
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Most generations running at once on each account, and on all of them, from the simulator's records. */
  function generationPeaks(since: number): { perAccount: Record<string, number>; total: number } {
    const gens = s.simulator.generations.filter((g) => g.startedAt >= since);
    const peak = (list: typeof gens) => {
      const edges = list.flatMap((g) => [[g.startedAt, 1], [g.startedAt + g.durationMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let running = 0;
      let most = 0;
      for (const [, d] of edges) most = Math.max(most, (running += d));
      return most;
    };
    const perAccount: Record<string, number> = {};
    for (const user of new Set(gens.map((g) => g.user))) perAccount[user] = peak(gens.filter((g) => g.user === user));
    return { perAccount, total: peak(gens) };
  }

  async function leasesOf(id: number): Promise<number> {
    return (await s.t.pool.query('SELECT count(*)::int AS n FROM account_leases WHERE job_id = $1', [id])).rows[0].n;
  }

  test('a job of 5 items on one account of concurrency 2: two slots at once, never three; every lease freed at the end', async () => {
    const since = Date.now();
    const post = s.simulator.createPost('alice');
    const prompts = ['lane one', 'lane two', 'lane three', 'lane four', 'lane five'];
    const id = await s.insertJob({ imageUrl: post.url, prompts, account: 'alice' });
    const leases = await sampleLeases(id);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.deepEqual((await s.items(id)).map((i) => [i.status, i.account]), prompts.map(() => ['COMPLETED', 'alice']));
    const gens = generationPeaks(since);
    assert.deepEqual(gens.perAccount, { alice: 2 }, 'two generations at once on alice, never three (ITEM_CONCURRENCY 3)');
    assert.equal(s.simulator.generations.filter((g) => g.startedAt >= since).length, prompts.length, 'one generation per item');
    assert.deepEqual(leases.perAccount, { alice: 2 }, 'two leases at once, never more than the concurrency');
    assert.equal(await leasesOf(id), 0, 'every lease freed');
  });

  test('a pool job of 6 items over three accounts of concurrency 1: the lanes spread, one generation per account at a time; every lease freed', async () => {
    await s.t.pool.query(`INSERT INTO accounts (name, concurrency) VALUES ('default', 1), ('alice', 1), ('bob', 1)
      ON CONFLICT (name) DO UPDATE SET concurrency = 1`);
    const since = Date.now();
    const post = s.simulator.createPost('default');
    const prompts = ['spread one', 'spread two', 'spread three', 'spread four', 'spread five', 'spread six'];
    const id = await s.insertJob({ imageUrl: post.url, prompts });
    const leases = await sampleLeases(id);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.deepEqual((await s.items(id)).map((i) => i.status), prompts.map(() => 'COMPLETED'));
    const gens = generationPeaks(since);
    // What ran where and when, for a failure's message.
    const timeline = JSON.stringify(s.simulator.generations.filter((g) => g.startedAt >= since).map((g) => [g.user, g.startedAt - since, g.durationMs]));
    assert.ok(gens.total > 1 && gens.total <= 3, `more than one slot at once, at most the three lanes: ${JSON.stringify(gens)} ${timeline} leases ${JSON.stringify(leases)}`);
    for (const [account, n] of Object.entries(gens.perAccount)) assert.equal(n, 1, `${account}: one generation at a time (${JSON.stringify(gens)})`);
    for (const [account, n] of Object.entries(leases.perAccount)) assert.equal(n, 1, `${account}: one lease at a time (${JSON.stringify(leases)})`);
    assert.ok(leases.total > 1, `the job held more than one slot at once: ${JSON.stringify(leases)}`);
    assert.equal(await leasesOf(id), 0, 'every lease freed');
  });
});
