import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from './helpers/stack';

// An attempt that misses its heartbeat (a slave stalled on a loaded machine) is timed out by
// Temporal, which starts the next attempt; the stalled one, when it wakes, hears NOT_FOUND
// from the server — the same word a terminate gives. It must not end the job as
// "terminated": the workflow runs on and the next attempt finishes the job.

const VIDEO = 'GROK_VIDEO_GENERATION';

describe('an attempt superseded after a missed heartbeat', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ simulator: { generationMs: 6000 }, activityTimeouts: { heartbeat: '2 seconds' } });
  });
  after(async () => {
    await s?.stop();
  });

  test('the job is not ended "terminated": the next attempt completes it', async () => {
    const post = s.simulator.createPost('default');
    const id = await s.insertJob({ imageUrl: post.url, prompt: 'a stall mid-generation' });
    await s.untilGenerating(id, 120_000);
    // This process hosts the slave: blocking it sends no heartbeat for three timeouts.
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      // a stalled event loop, on purpose
    }
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', `job ended ${job.status}: ${job.errorMessage}`);
    // The stall did supersede an attempt (else this test proves nothing).
    const history = await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).fetchHistory();
    const timedOut = (history.events ?? []).filter((e) => e.activityTaskTimedOutEventAttributes || e.activityTaskStartedEventAttributes?.attempt && e.activityTaskStartedEventAttributes.attempt > 1);
    assert.ok(timedOut.length > 0, 'no activity attempt was timed out by the stall');
    const { rows } = await s.t.pool.query(`SELECT to_status FROM job_events WHERE job_id = $1 ORDER BY id`, [id]);
    assert.ok(!rows.some((r) => r.to_status === 'ERROR'), `events: ${rows.map((r) => r.to_status).join(' → ')}`);
  });
});
