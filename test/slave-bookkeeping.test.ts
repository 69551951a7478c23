import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { jobs, type Job } from '../src/shared/db/schema';
import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from './helpers/stack';

// Status changes run on the slave's bookkeeping task queue, apart from generations: with the
// only generation slot held by a long generation, other jobs still start, end and fail.
// Asserted on states and order, never on time (timings are in `npm run bench -- bookkeeping`).

const VIDEO = 'GROK_VIDEO_GENERATION';

describe('slave: bookkeeping never waits for a generation slot (SLAVE_CONCURRENT_ACTIVITIES=1)', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ env: { SLAVE_CONCURRENT_ACTIVITIES: '1' } });
  });
  after(async () => {
    await s?.stop();
  });

  const insert = (prompt: string) => s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt });
  const generation = (prompt: string) => s.simulator.generations.find((g) => g.rawPrompt === prompt);
  const terminate = async (id: number) => {
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).terminate('test over');
    await s.waitForJob(id, ['ERROR'], 120_000);
  };

  test('while one job generates, another goes INQUEUE → PROGRESS and, cancelled, ends ERROR', async () => {
    const longPrompt = `holds the slot ${Date.now()} #sim:slow=600`;
    const a = await insert(longPrompt);
    await s.untilGenerating(a);

    const b = await insert(`waits for the slot ${Date.now()}`);
    // startJob ran although the one generation slot is taken.
    const started: Job = await s.waitForJob(b, ['PROGRESS', 'COMPLETED', 'ERROR'], 120_000);
    assert.equal(started.status, 'PROGRESS', started.errorMessage ?? '');
    assert.deepEqual((await s.items(b)).map((i) => i.status), ['PENDING'], 'its items exist, not yet generated');
    assert.equal(generation(longPrompt)?.outcome, 'running', 'the first job still holds the slot');

    // failJob too: a cancel ends B although its generation never got a slot.
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, b)).cancel();
    const cancelled = await s.waitForJob(b, ['ERROR', 'COMPLETED'], 120_000);
    assert.equal(cancelled.status, 'ERROR');
    assert.equal(cancelled.errorMessage, 'cancelled');
    assert.deepEqual((await s.items(b)).map((i) => i.status), ['FAILED']);

    const [stillA] = await s.t.db.select().from(jobs).where(eq(jobs.id, a));
    assert.equal(stillA?.status, 'PROGRESS', 'the long generation was never interrupted');
    assert.equal(generation(longPrompt)?.outcome, 'running');
    await terminate(a);
  });

  test('a job whose generation ended is COMPLETED while the next job\'s generation holds the slot', async () => {
    const firstPrompt = `finishes first ${Date.now()} #sim:slow=4`;
    const a = await insert(firstPrompt);
    await s.untilGenerating(a);
    const longPrompt = `takes the slot next ${Date.now()} #sim:slow=600`;
    const b = await insert(longPrompt);
    await s.waitForJob(b, ['PROGRESS'], 120_000);

    const done = await s.waitForJob(a, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(done.status, 'COMPLETED', done.errorMessage ?? '');
    await s.untilGenerating(b);
    // Order: A's finishJob did not wait for B's generation, which is still running.
    assert.equal(generation(longPrompt)?.outcome, 'running');
    await terminate(b);
  });
});
