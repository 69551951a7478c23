import assert from 'node:assert/strict';
import fs from 'node:fs';
import { afterEach, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PoolClient } from 'pg';
import { jobWorkflowId } from '../src/shared/registry';
import { descendants } from './helpers/processes';
import { startProgram, tsxProgram, type RunningProgram } from './helpers/program';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

// Issue 21: "kill -9 of the master between reservation and start leaks no slot", with a real
// master process (`npm run master`, as a split deployment runs it). The window is made
// exact, not raced: the test holds the account's row lock, so the master's claim waits inside
// its transaction; the Temporal dev server is stopped (SIGSTOP), the lock released, and once
// the claim has committed (INQUEUE, the lease `job/<id>`) the master is killed with -9 before
// it could tell Temporal anything, so no child was started. A new master then redispatches
// the job with its reservation (the reconciler); the job completes once, holds no lease
// afterwards, and the account's whole concurrency is usable.

const VIDEO = 'GROK_VIDEO_GENERATION';
const IMAGE = 'GROK_IMAGE_GENERATION';

/** The dev server the stack started for this file (a child of this process). */
function temporalServerPid(): number {
  const pid = descendants(process.pid).find((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return cmd.includes('start-dev');
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error('no Temporal dev server below this process');
  return pid;
}

describe('kill -9 of a master process between the reservation and the child\'s start', () => {
  let s: Stack | undefined;
  const masters: RunningProgram[] = [];
  let frozen: number | undefined;
  let locker: PoolClient | undefined;
  afterEach(async () => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
    await locker?.query('ROLLBACK').catch(() => undefined);
    locker?.release();
    locker = undefined;
    for (const m of masters.splice(0)) {
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
      await m.exited;
    }
    await s?.stop();
    s = undefined;
  });

  test('no slot leaks: the job completes exactly once, account_leases holds nothing for it, both slots of the account run afterwards', async () => {
    // The in-process master serves only images; the video jobs are the master process's.
    s = await startStack({ masterTypes: [IMAGE], env: { ACCOUNT_CONCURRENCY: '2' }, simulator: { generationMs: 1500 } });
    const stack = s;
    const startMaster = () => {
      const [command, args] = tsxProgram('src/master/main.ts');
      const master = startProgram('the master', command, args, {
        env: {
          PATH: process.env.PATH, ...stack.configEnv, METRICS_PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false',
          // The reconciler's tick and grace, short: it redispatches what the killed master never started.
          SCHEDULER_CRON: '@every 5s', RECONCILE_GRACE_MS: '2000',
        },
      });
      masters.push(master);
      return master;
    };
    const first = startMaster();
    // Generous: a loaded machine can take a minute to compile and load the program.
    await first.waitForOutput('"master ready"', 180_000);

    await s.t.pool.query(`INSERT INTO accounts (name) VALUES ('default') ON CONFLICT (name) DO NOTHING`);
    locker = await s.t.pool.connect();
    await locker.query(`BEGIN; SELECT name FROM accounts WHERE name = 'default' FOR UPDATE`);
    const post = s.simulator.createPost('default');
    const id = await s.insertJob({ imageUrl: post.url, prompt: 'killed between its reservation and its start', account: 'default' });
    await waitFor('the master\'s claim to wait for the account\'s row', async () => (await stack.t.pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`,
    )).rowCount! > 0, 60_000);

    frozen = temporalServerPid();
    process.kill(frozen, 'SIGSTOP');
    await locker.query('COMMIT');
    locker.release();
    locker = undefined;
    await s.waitForJob(id, ['INQUEUE'], 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    process.kill(frozen, 'SIGCONT');
    frozen = undefined;

    // The window: reserved, and no child started.
    const workflowId = jobWorkflowId(VIDEO, id);
    await assert.rejects(s.env.client.workflow.getHandle(workflowId).describe(), WorkflowNotFoundError, 'the killed master started no child');
    assert.deepEqual((await s.t.pool.query('SELECT account, holder, unused FROM account_leases WHERE job_id = $1', [id])).rows,
      [{ account: 'default', holder: `job/${id}`, unused: true }]);

    const second = startMaster();
    await second.waitForOutput('"master ready"', 180_000);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const { rows: path } = await s.t.pool.query('SELECT to_status FROM job_events WHERE job_id = $1 ORDER BY id', [id]);
    assert.deepEqual(path.map((r) => r.to_status), ['PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED'], 'one forward path');
    const runs: string[] = [];
    for await (const run of s.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
    assert.equal(runs.length, 1, 'started once');
    assert.equal(s.simulator.generations.filter((g) => g.prompt === 'killed between its reservation and its start').length, 1, 'generated once');
    assert.equal((await s.t.pool.query('SELECT count(*)::int AS n FROM account_leases WHERE job_id = $1', [id])).rows[0].n, 0, 'no lease left for it');

    // The account's concurrency (2) is whole: two jobs are claimed side by side.
    const both = [
      await s.insertJob({ imageUrl: post.url, prompt: 'after the restart, one', account: 'default' }),
      await s.insertJob({ imageUrl: post.url, prompt: 'after the restart, two', account: 'default' }),
    ];
    const ended = await Promise.all(both.map((b) => stack.waitForJob(b, ['COMPLETED', 'ERROR'], 180_000)));
    for (const e of ended) assert.equal(e.status, 'COMPLETED', e.errorMessage ?? '');
    const { rows: claimed } = await s.t.pool.query(`SELECT max(at) AS last FROM job_events WHERE job_id = ANY($1) AND to_status = 'INQUEUE'`, [both]);
    const firstEnd = Math.min(...ended.map((e) => e.completedAt!.getTime()));
    assert.ok((claimed[0].last as Date).getTime() < firstEnd, 'both were claimed before either ended: two slots at once');
    assert.equal((await s.t.pool.query('SELECT count(*)::int AS n FROM account_leases').then((r) => r.rows[0].n)), 0, 'nothing held at the end');
  });
});
