import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createMasterActivities } from '../src/master/activities';
import { wantHeadsQuery } from '../src/master/activities/wants';
import { startListener, type JobListener } from '../src/master/listener';
import { createWaker } from '../src/master/wake';
import { grokTarget } from '../src/shared/grokTarget';
import type { Job } from '../src/shared/db/schema';
import { silentLogger, startMasterEnv, VIDEO, GOOD_VIDEO, type MasterEnv } from './fixtures/master-env';
import { waitFor } from './helpers/wait';

// The capacity claim on a real PostgreSQL and Temporal dev server (issue 21): a PENDING job
// is claimed only when an account can take it now, with a lease reserved in the same
// transaction; order is priority then age; pools are independent; whatever frees capacity
// wakes the claim (no Schedule exists here: no cron tick can do it instead).

describe('capacity claim', () => {
  let m: MasterEnv;
  let claim: ReturnType<typeof createMasterActivities>['claimJobs'];
  let accountsDir: string;
  before(async () => {
    m = await startMasterEnv({ reconcileGraceMs: 300 });
    claim = createMasterActivities({ db: m.t.db, client: m.client, logger: silentLogger, reconcileGraceMs: 300, config: m.config }).claimJobs;
    accountsDir = grokTarget(m.config).accountsDir;
  });
  after(async () => { await m?.close(); });
  beforeEach(async () => {
    // Only this test's accounts and jobs: the fixture's default-pool sessions stay, unused.
    await m.t.pool.query(`DELETE FROM job_pauses; DELETE FROM account_leases; UPDATE jobs SET status = 'ERROR' WHERE status = 'PENDING'`);
  });

  /** A logged-in account (a saved session; the master reads its name only) of a pool, with SQL settings. */
  async function account(name: string, pool: string, cols = 'concurrency = 1'): Promise<void> {
    fs.writeFileSync(path.join(accountsDir, `${name}.json`), '{}', { mode: 0o600 });
    await m.t.pool.query(`INSERT INTO accounts (name, pool) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET pool = $2`, [name, pool]);
    await m.t.pool.query(`UPDATE accounts SET min_gap_ms = 0, ${cols} WHERE name = $1`, [name]);
  }
  const insert = async (pool: string, prompt: string, priority = 0): Promise<number> => (await m.insert(VIDEO, [{ ...GOOD_VIDEO, prompt, pool }], priority))[0]!.id;
  const status = async (id: number): Promise<Job['status']> => (await m.job(id)).status;
  const leases = async (jobId: number) => (await m.t.pool.query('SELECT account, holder, unused FROM account_leases WHERE job_id = $1', [jobId])).rows;

  test('order: priority first, then age; each claim reserves a lease on the account in the same transaction', async () => {
    await account('ord1', 'order');
    const low1 = await insert('order', 'low, first');
    const high1 = await insert('order', 'high, first', 5);
    const low2 = await insert('order', 'low, second');
    const high2 = await insert('order', 'high, second', 5);
    const order: number[] = [];
    for (let i = 0; i < 4; i++) {
      const got = await claim({ jobType: VIDEO, limit: 10 });
      assert.equal(got.jobs.length, 1, 'one slot: one job per claim');
      const [job] = got.jobs;
      assert.deepEqual(job!.reservation, { account: 'ord1', holder: `job/${job!.jobId}` });
      assert.deepEqual(await leases(job!.jobId), [{ account: 'ord1', holder: `job/${job!.jobId}`, unused: true }]);
      assert.equal(await status(job!.jobId), 'INQUEUE');
      // Nothing else fits until this slot is free again.
      assert.equal((await claim({ jobType: VIDEO, limit: 10 })).jobs.length, 0);
      order.push(job!.jobId);
      await m.t.pool.query('DELETE FROM account_leases WHERE job_id = $1', [job!.jobId]);
    }
    assert.deepEqual(order, [high1, high2, low1, low2]);
  });

  test('one pool\'s backlog does not delay another pool\'s jobs; jobs that cannot start stay PENDING', async () => {
    await account('busy1', 'crowded');
    await account('idle1', 'quiet', 'concurrency = 2');
    const crowded: number[] = [];
    for (let i = 0; i < 40; i++) crowded.push(await insert('crowded', `backlog ${i}`, 9));
    const quiet = [await insert('quiet', 'quiet one'), await insert('quiet', 'quiet two')];
    const got = await claim({ jobType: VIDEO, limit: 10 });
    assert.deepEqual(got.jobs.map((j) => j.jobId).sort((a, b) => a - b), [crowded[0]!, ...quiet].sort((a, b) => a - b));
    for (const id of quiet) assert.equal(await status(id), 'INQUEUE');
    assert.equal(await status(crowded[1]!), 'PENDING');
    const { rows } = await m.t.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE status = 'PENDING' AND payload->>'pool' = 'crowded'`);
    assert.equal(rows[0].n, 39);
  });

  test('a paused pool or type is skipped; the claim of 10,000 PENDING rows reads them through the want index', async () => {
    await account('pz1', 'pausable', 'concurrency = 5');
    const id = await insert('pausable', 'paused pool');
    await m.t.pool.query(`INSERT INTO job_pauses (scope, name) VALUES ('pool', 'pausable')`);
    assert.equal((await claim({ jobType: VIDEO, limit: 10 })).jobs.length, 0);
    assert.equal(await status(id), 'PENDING');
    await m.t.pool.query(`DELETE FROM job_pauses`);
    await m.t.pool.query(`INSERT INTO job_pauses (scope, name) VALUES ('type', $1)`, [VIDEO]);
    assert.equal((await claim({ jobType: VIDEO, limit: 10 })).jobs.length, 0);
    await m.t.pool.query(`DELETE FROM job_pauses`);
    assert.deepEqual((await claim({ jobType: VIDEO, limit: 10 })).jobs.map((j) => j.jobId), [id]);

    await m.t.pool.query(`INSERT INTO jobs (type, payload) SELECT $1, jsonb_build_object('prompt', 'bulk ' || g, 'pool', 'bulk' || (g % 3)) FROM generate_series(1, 10000) g`, [VIDEO]);
    await m.t.pool.query('ANALYZE jobs');
    const plan = (await m.t.pool.query(`EXPLAIN SELECT id FROM jobs WHERE status = 'PENDING' AND type = $1
      AND coalesce(payload->>'account', '') = '' AND coalesce(payload->>'pool', '') = 'bulk1' AND coalesce(payload->>'backend', '') = ''
      ORDER BY priority DESC, created_at, id LIMIT 10`, [VIDEO])).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /Index (Only )?Scan using jobs_pending_want_idx/, plan);
    assert.match(plan, /Index Cond: .*type = .*COALESCE\(\(payload ->> 'account'::text\), ''::text\) = ''::text.*'bulk1'/, plan);
    // Which wants have PENDING jobs: one index probe per want, not a read of the backlog.
    const heads = (await m.t.db.execute(wantHeadsQuery(VIDEO))).rows;
    assert.ok(['bulk0', 'bulk1', 'bulk2'].every((p) => heads.some((h) => h.pool === p)), JSON.stringify(heads));
    const { rows: [explained] } = await m.t.db.execute<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${wantHeadsQuery(VIDEO)}`);
    const read = rowsReadFromJobs(explained!['QUERY PLAN'][0]!.Plan);
    // EXPLAIN gives rows per loop rounded: the last probe (past the last want) may count as one.
    assert.ok(read <= heads.length + 1, `${read} rows of jobs read to find ${heads.length} wants among 10,000+ PENDING`);
    // The whole claim over 10,000 PENDING rows of three pools without accounts: nothing claimed, quickly.
    const t0 = performance.now();
    assert.equal((await claim({ jobType: VIDEO, limit: 10 })).jobs.length, 0);
    console.log(`claim over 10,000 PENDING rows, 3 wants, nothing to start: ${Math.round(performance.now() - t0)} ms (loaded machine)`);
  });

  test('a pause committed after the claim read job_pauses still holds: the claim\'s UPDATE decides', async () => {
    await account('late1', 'late-pause', 'concurrency = 2');
    const id = await insert('late-pause', 'paused while the claim runs');
    // The race CI met (a wake's claim under way when the pool was paused): the pause commits
    // right after this claim's read of job_pauses, before it picks and moves the job.
    const pausesRead = (q: unknown) => JSON.stringify((q as { queryChunks?: unknown }).queryChunks ?? '').includes('FROM job_pauses');
    const db = new Proxy(m.t.db, {
      get(target, key, receiver) {
        if (key !== 'execute') return Reflect.get(target, key, receiver) as unknown;
        return async (q: Parameters<typeof target.execute>[0]) => {
          const result = await target.execute(q);
          if (pausesRead(q)) await m.t.pool.query(`INSERT INTO job_pauses (scope, name) VALUES ('pool', 'late-pause') ON CONFLICT DO NOTHING`);
          return result;
        };
      },
    });
    const lateClaim = createMasterActivities({ db, client: m.client, logger: silentLogger, reconcileGraceMs: 300, config: m.config }).claimJobs;
    assert.deepEqual((await lateClaim({ jobType: VIDEO, limit: 10 })).jobs, []);
    assert.equal(await status(id), 'PENDING');
    assert.deepEqual(await leases(id), [], 'no slot reserved for it');
    await m.t.pool.query(`DELETE FROM job_pauses`);
    assert.deepEqual((await claim({ jobType: VIDEO, limit: 10 })).jobs.map((j) => j.jobId), [id], 'resumed: claimed');
  });

  test('a claim killed between its reservation and the start leaks no slot: the reconciler redispatches with the reservation', async () => {
    await account('kill1', 'killed');
    const id = await insert('killed', 'reserved, never started');
    // The claim commits (INQUEUE, lease) and the master dies before any child starts.
    const got = await claim({ jobType: VIDEO, limit: 10 });
    assert.deepEqual(got.jobs.map((j) => j.jobId), [id]);
    await new Promise((r) => setTimeout(r, 500)); // older than the reconcile grace
    const tick = await m.tick(VIDEO);
    assert.ok(tick.redispatched >= 1, JSON.stringify(tick));
    const handle = m.client.workflow.getHandle((await m.job(id)).workflowId!);
    const input = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const args = JSON.parse(Buffer.from(input!.data!).toString()) as { reservation?: unknown };
    assert.deepEqual(args.reservation, { account: 'kill1', holder: `job/${id}` });
    assert.equal((await leases(id)).length, 1, 'the one reserved slot, renewed');
  });

  // Both paths: the master's direct claim (the default; its timer is the dispatcher's) and
  // the scheduler wake (a signal; its timer is the wake run's).
  for (const mode of ['direct', 'signal'] as const) describe(`wakes (${mode}): whatever frees capacity claims again, with no cron`, () => {
    let listener: JobListener;
    before(async () => {
      listener = startListener({
        databaseUrl: m.t.url, debounceMs: 10, logger: silentLogger, types: [VIDEO],
        wake: createWaker(m.client, mode, undefined, { claim, logger: silentLogger, shards: 1 }),
      });
      await listener.ready;
    });
    after(async () => { await listener?.close(); });

    /** The job is claimed (by a wake: nothing else claims here) and how long after `since` its INQUEUE event was written. */
    async function claimedAfter(id: number, since: number): Promise<number> {
      await waitFor(`job ${id} to be claimed`, async () => (await status(id)) === 'INQUEUE', 20_000, 20);
      const { rows } = await m.t.pool.query(`SELECT extract(epoch FROM at) * 1000 AS at FROM job_events WHERE job_id = $1 AND to_status = 'INQUEUE'`, [id]);
      return Number(rows[0].at) - since;
    }
    const dbNow = async () => Number((await m.t.pool.query('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t')).rows[0].t);
    const latencies: Record<string, number> = {};
    after(() => { console.log(`wake → INQUEUE (ms, loaded machine): ${JSON.stringify(latencies)}`); });

    /** A job of `pool` that cannot start, then `free` (the cause), then the claim. */
    async function wakeOn(cause: string, pool: string, free: () => Promise<unknown>): Promise<void> {
      const id = await insert(pool, `woken by ${cause}`);
      await new Promise((r) => setTimeout(r, 300)); // the insert's own wake has come and gone
      assert.equal(await status(id), 'PENDING', `${cause}: nothing could take it yet`);
      const t0 = await dbNow();
      await free();
      latencies[cause] = Math.round(await claimedAfter(id, t0));
    }

    test('a lease released (a job ended)', async () => {
      await account(`w-lease-${mode}`, `w-lease-${mode}`);
      await m.t.pool.query(`INSERT INTO account_leases (account, holder, expires_at) VALUES ('w-lease-${mode}', 'someone', now() + interval '1 hour')`);
      await wakeOn('lease released', `w-lease-${mode}`, () => m.t.pool.query(`DELETE FROM account_leases WHERE holder = 'someone'`));
    });

    test('a lease that runs out (its holder died): the scheduler\'s timer', async () => {
      await account(`w-expiry-${mode}`, `w-expiry-${mode}`);
      await m.t.pool.query(`INSERT INTO account_leases (account, holder, expires_at) VALUES ('w-expiry-${mode}', 'dead', now() + interval '2 seconds')`);
      await wakeOn('lease expired', `w-expiry-${mode}`, async () => undefined);
    });

    test('a cooldown ending: the scheduler\'s timer', async () => {
      await account(`w-cool-${mode}`, `w-cool-${mode}`, `cooldown_until = now() + interval '2 seconds'`);
      await wakeOn('cooldown ended', `w-cool-${mode}`, async () => undefined);
      const { rows } = await m.t.pool.query(`SELECT e.at >= a.cooldown_until AS after FROM job_events e, accounts a WHERE a.name = 'w-cool-${mode}' AND e.to_status = 'INQUEUE' AND e.detail->>'account' = 'w-cool-${mode}'`);
      assert.equal(rows[0]?.after, true, 'claimed once the cooldown was over');
    });

    test('an account added to the pool', async () => {
      await wakeOn('account added', `w-added-${mode}`, () => account(`w-added-${mode}`, `w-added-${mode}`));
    });

    test('an account logged in again', async () => {
      await account(`w-login-${mode}`, `w-login-${mode}`, `last_auth_error = 'needs a new login'`);
      await wakeOn('logged in again', `w-login-${mode}`, () => m.t.pool.query(`UPDATE accounts SET last_auth_error = NULL WHERE name = 'w-login-${mode}'`));
    });

    test('more quota', async () => {
      await account(`w-quota-${mode}`, `w-quota-${mode}`, 'daily_quota = 0');
      await wakeOn('more quota', `w-quota-${mode}`, () => m.t.pool.query(`UPDATE accounts SET daily_quota = 5 WHERE name = 'w-quota-${mode}'`));
    });

    test('a setting changed (concurrency)', async () => {
      await account(`w-set-${mode}`, `w-set-${mode}`);
      await m.t.pool.query(`INSERT INTO account_leases (account, holder, expires_at) VALUES ('w-set-${mode}', 'running', now() + interval '1 hour')`);
      await wakeOn('concurrency raised', `w-set-${mode}`, () => m.t.pool.query(`UPDATE accounts SET concurrency = 2 WHERE name = 'w-set-${mode}'`));
    });

    test('a resume', async () => {
      await account(`w-pause-${mode}`, `w-pause-${mode}`);
      await m.t.pool.query(`INSERT INTO job_pauses (scope, name) VALUES ('pool', 'w-pause-${mode}')`);
      await wakeOn('resumed', `w-pause-${mode}`, () => m.t.pool.query(`DELETE FROM job_pauses WHERE name = 'w-pause-${mode}'`));
    });
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows of `jobs` a plan read (returned or filtered out), over all its loops. */
function rowsReadFromJobs(node: PlanNode): number {
  const own = node['Relation Name'] === 'jobs'
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsReadFromJobs(child), 0);
}
