import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobWorkflowId } from '../src/shared/registry';
import type { ClusterProcess } from '../src/cluster/process';
import { startTestCluster, type TestCluster } from './helpers/cluster';
import { alive, descendants, survivors } from './helpers/processes';
import { pollUntil } from './helpers/wait';

// docker-compose.yml's topology run for real, as `npm run cluster` runs it: Temporal on
// PostgreSQL (schemas by temporal-sql-tool, SQL visibility), two masters, three slaves and
// the simulator, each its own process; real Chromium. Short generations (500 ms) keep it
// to a few minutes. The first run builds temporal-server and temporal-sql-tool (CI builds
// them beforehand: `npm run setup -- --cluster`).

const ACCOUNTS = ['default', 'alice', 'bob'];
const TYPE = 'GROK_VIDEO_GENERATION';

/** Jobs a master's log says it claimed ("claimed PENDING jobs" lines). */
function claimedBy(p: ClusterProcess): number {
  return p.log().split('\n').filter((l) => l.includes('"claimed PENDING jobs"')).reduce((sum, l) => sum + Number((JSON.parse(l) as { claimed: number }).claimed), 0);
}

describe('the compose topology from processes: Temporal on PostgreSQL, 2 masters, 3 slaves', () => {
  let t: TestCluster;
  const ids: number[] = [];
  before(async () => {
    t = await startTestCluster({
      masters: 2,
      slaves: 3,
      generationMs: 500,
      users: ACCOUNTS.map((a) => `${a}:pw`).join(','),
      env: { PROGRESS_THROTTLE_MS: '250', NOTIFY_DEBOUNCE_MS: '20', ACCOUNT_MIN_GAP_MS: '0', ACCOUNT_CONCURRENCY: '8' },
    });
  });
  after(async () => {
    await t?.stop();
  });

  test('100 jobs complete once each through kill -9 of a slave and a master and a Temporal server restart', async () => {
    const { c, pool } = t;
    const [master1, master2] = c.masters as [ClusterProcess, ClusterProcess];
    const slave = c.slaves[0]!;

    ids.push(...(await t.insertJobs(50, ACCOUNTS, 'first wave')));
    await t.until(ids, (n) => (n.COMPLETED ?? 0) >= 15, '15 jobs of the first wave completed', 240_000);

    // kill -9 mid-run: the slave has generations open (five slots, jobs still waiting), the
    // master whose claims dispatched the first wave is the one killed, so the other must
    // take over its scheduler workflows.
    const claimer = claimedBy(master1) > 0 ? master1 : master2;
    const survivor = claimer === master1 ? master2 : master1;
    const running = await pool.query('SELECT count(*)::int AS n FROM job_items WHERE status = $1', ['RUNNING']);
    assert.ok(running.rows[0].n > 0, 'generations are running when the processes are killed');
    const browsers = descendants(slave.child.pid!);
    claimer.child.kill('SIGKILL');
    slave.child.kill('SIGKILL');
    await Promise.all([claimer.exited, slave.exited]);
    assert.deepEqual(await survivors(browsers), [], "the killed slave's Chromium went with it");
    const claimedBeforeKill = claimedBy(claimer);

    ids.push(...(await t.insertJobs(50, ACCOUNTS, 'second wave')));
    await t.until(ids, (n) => (n.COMPLETED ?? 0) >= 60, '60 jobs completed after the kills', 300_000);

    // The Temporal server process stopped and started again on the same databases: workers
    // and the masters' listeners reconnect by themselves.
    const restartedAt = new Date();
    await c.restartServer();
    await t.until(ids, (n) => (n.COMPLETED ?? 0) + (n.ERROR ?? 0) === ids.length, 'every job ended', 420_000);

    const statuses = await t.statuses(ids);
    assert.deepEqual(statuses, { COMPLETED: 100 }, 'every job COMPLETED');
    const { rows: late } = await pool.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND completed_at > $2', [ids, restartedAt]);
    assert.ok(late[0].n > 0, 'jobs completed after the server restart');
    for (const p of [survivor, ...c.slaves.slice(1), c.simulator, c.server]) {
      assert.ok(alive(p.child.pid!), `${p.name} is still running (log ${p.logFile})`);
    }

    // Each job claimed once (one PENDING → INQUEUE event), by either master; both claimed.
    const { rows: claims } = await pool.query<{ job_id: string; n: number }>(
      `SELECT job_id, count(*)::int AS n FROM job_events WHERE to_status = 'INQUEUE' AND job_id = ANY($1) GROUP BY job_id`, [ids]);
    assert.equal(claims.length, 100, 'every job was claimed');
    assert.deepEqual(claims.filter((r) => r.n !== 1), [], 'no job claimed twice');
    assert.ok(claimedBeforeKill > 0, `${claimer.name} claimed before it was killed`);
    assert.ok(claimedBy(survivor) > 0, `${survivor.name} claimed after the other master was killed`);
    assert.ok(claimedBeforeKill + claimedBy(survivor) >= 100, 'the masters\' logs account for every claim');

    // Each file once: one item per job, one video per job folder, nothing left half-written.
    const { rows: items } = await pool.query<{ job_id: string; n: number; done: number; attempts: number }>(
      `SELECT job_id, count(*)::int AS n, count(*) FILTER (WHERE status = 'COMPLETED')::int AS done, max(attempts)::int AS attempts
       FROM job_items WHERE job_id = ANY($1) GROUP BY job_id`, [ids]);
    assert.equal(items.length, 100);
    assert.deepEqual(items.filter((r) => r.n !== 1 || r.done !== 1), [], 'one completed item per job');
    assert.ok(items.some((r) => r.attempts > 1), "the killed slave's generations were retried elsewhere");
    for (const id of ids) {
      const videos = fs.readdirSync(path.join(c.downloadsDir, String(id))).filter((f) => !f.endsWith('.meta.json'));
      assert.deepEqual(videos, ['0.mp4'], `job ${id}: one file, no partial or second copy`);
    }
  });

  test('the Web UI filters (JobId, JobType, Account) work on SQL visibility', async () => {
    assert.equal(ids.length, 100, 'runs after the jobs test');
    const { client, pool } = t;
    const list = async (query: string) => {
      const out: string[] = [];
      for await (const w of client.workflow.list({ query })) out.push(w.workflowId);
      return out.sort();
    };
    /** Visibility is written asynchronously: poll until the answer is the expected one. */
    const eventually = async (query: string, expected: string[]) => {
      let got: string[] = [];
      await pollUntil(async () => {
        got = await list(query);
        return JSON.stringify(got) === JSON.stringify(expected);
      }, 60_000, 1000);
      assert.deepEqual(got, expected, query);
    };
    const workflowIds = (rows: { id: string }[]) => rows.map((r) => jobWorkflowId(TYPE, Number(r.id))).sort();

    const one = ids[37]!;
    await eventually(`JobId = ${one}`, [jobWorkflowId(TYPE, one)]);
    await eventually(`JobType = '${TYPE}' AND ExecutionStatus = 'Completed'`, workflowIds(ids.map((id) => ({ id: String(id) }))));
    const { rows: alice } = await pool.query<{ id: string }>(`SELECT id FROM jobs WHERE id = ANY($1) AND account = 'alice'`, [ids]);
    assert.ok(alice.length > 0 && alice.length < 100, 'alice has some of the jobs');
    await eventually(`Account = 'alice'`, workflowIds(alice));
    await eventually(`JobType = '${TYPE}' AND Account = 'bob' AND JobId >= ${ids[50]}`,
      workflowIds((await pool.query<{ id: string }>(`SELECT id FROM jobs WHERE id = ANY($1) AND account = 'bob' AND id >= $2`, [ids, ids[50]])).rows));
  });
});
