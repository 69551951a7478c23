import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from './helpers/stack';

// The backlog on the whole stack (PostgreSQL, Temporal dev server, master, slave, Chromium,
// the simulator with three signed-in users): jobs wait as PENDING rows, only what can run is
// claimed, and a job's history stays bounded by continuing as new.

const IMAGE = 'GROK_IMAGE_GENERATION';

describe('the backlog waits as rows', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  test('a backlog over 3 accounts of 1 slot: INQUEUE + PROGRESS never above 3, every job COMPLETED, started in FIFO order', async () => {
    s = await startStack({ env: { ACCOUNT_CONCURRENCY: '1' }, simulator: { generationMs: 800 } });
    const post = s.simulator.createPost('default');
    const ids: number[] = [];
    for (let i = 0; i < 9; i++) ids.push(await s.insertJob({ imageUrl: post.url, prompt: `backlog ${i}` }));
    let peak = 0;
    for (;;) {
      const { rows } = await s.t.pool.query(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status`);
      const n = (st: string) => rows.find((r) => r.status === st)?.n ?? 0;
      peak = Math.max(peak, n('INQUEUE') + n('PROGRESS'));
      if (n('COMPLETED') + n('ERROR') === ids.length) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const id of ids) {
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
      assert.equal(job.status, 'COMPLETED', `job ${id}: ${job.errorMessage}`);
    }
    assert.ok(peak <= 3, `at most the 3 slots claimed at once, saw ${peak}`);
    assert.ok(peak >= 2, `the accounts ran side by side (peak ${peak})`);
    const { rows: claims } = await s.t.pool.query(`SELECT job_id FROM job_events WHERE to_status = 'INQUEUE' ORDER BY at, id`);
    assert.deepEqual(claims.map((r) => Number(r.job_id)), ids, 'claimed in the order they were added (one priority)');
  });

  test('a job whose history crosses SLAVE_HISTORY_EVENTS continues as new (ids, plan, slot) and finishes COMPLETED', async () => {
    s = await startStack({ env: { SLAVE_HISTORY_EVENTS: '20' }, simulator: { generationMs: 300 } });
    const id = await s.insertJob({ prompt: 'a long job, in several runs', count: 5 }, IMAGE);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.deepEqual((await s.items(id)).map((i) => i.status), Array(5).fill('COMPLETED'));
    // The run startJob recorded is the first: it continued as new; the last run completed.
    const first = await s.env.client.workflow.getHandle(jobWorkflowId(IMAGE, id), job.runId!).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    // The job row is COMPLETED a moment before its workflow returns.
    await s.env.client.workflow.getHandle(jobWorkflowId(IMAGE, id)).result();
    const last = await s.env.client.workflow.getHandle(jobWorkflowId(IMAGE, id)).describe();
    assert.equal(last.status.name, 'COMPLETED');
    assert.notEqual(last.runId, job.runId);
    // Each run's history stays near the threshold (a few events past it while the last item ends).
    for (const runId of [job.runId!, last.runId]) {
      const events = (await s.env.client.workflow.getHandle(jobWorkflowId(IMAGE, id), runId).fetchHistory()).events ?? [];
      assert.ok(events.length < 40, `run ${runId}: ${events.length} events`);
    }
    const { rows } = await s.t.pool.query('SELECT count(*)::int AS n FROM account_leases WHERE job_id = $1', [id]);
    assert.equal(rows[0].n, 0, 'the ended job holds no slot');
  });
});

