import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { jobEvents, jobs, JOB_STATUSES, type JobStatus } from '../src/shared/db/schema';
import { transitionJob } from '../src/shared/jobs/transition';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// Written out by hand, not derived from the code under test.
const ALLOWED = new Set([
  'PENDING>INQUEUE', 'PENDING>ERROR',
  'INQUEUE>PROGRESS', 'INQUEUE>ERROR',
  'PROGRESS>COMPLETED', 'PROGRESS>ERROR',
]);

describe('job status transitions', () => {
  let t: TestDatabase;
  before(async () => { t = await createTestDatabase(); });
  after(async () => { await t.drop(); });

  // Events of moves only: the INSERT writes the job's first event (null -> status) itself.
  const movesOf = async (jobId: number) =>
    (await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId))).filter((e) => e.fromStatus !== null);

  async function jobIn(status: JobStatus) {
    const [row] = await t.db.insert(jobs).values({ type: 'GROK_VIDEO_GENERATION', status, payload: {} }).returning();
    return row!;
  }

  for (const from of JOB_STATUSES) {
    for (const to of JOB_STATUSES) {
      const allowed = ALLOWED.has(`${from}>${to}`);
      test(`${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, async () => {
        const job = await jobIn(from);
        const result = await transitionJob(t.db, job.id, to, { detail: { by: 'test' } });
        const [after] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
        const events = await movesOf(job.id);
        assert.equal(result.moved, allowed);
        if (allowed) {
          assert.equal(after!.status, to);
          assert.equal(events.length, 1);
          assert.deepEqual([events[0]!.fromStatus, events[0]!.toStatus, events[0]!.detail], [from, to, { by: 'test' }]);
        } else {
          assert.equal(after!.status, from, 'a refused move changes nothing');
          assert.equal(events.length, 0, 'a refused move writes no event');
          assert.match((result as { reason: string }).reason, new RegExp(`job ${job.id}`));
        }
      });
    }
  }

  test('each status stamps its time columns', async () => {
    const job = await jobIn('PENDING');
    await transitionJob(t.db, job.id, 'INQUEUE', { set: { workflowId: 'w' } });
    await transitionJob(t.db, job.id, 'PROGRESS');
    await new Promise((r) => setTimeout(r, 20));
    await transitionJob(t.db, job.id, 'COMPLETED', { set: { result: { files: 1 } } });
    const [row] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
    assert.ok(row!.queuedAt && row!.startedAt && row!.completedAt);
    assert.equal(row!.workflowId, 'w');
    assert.equal(row!.progress, 100);
    assert.ok(row!.durationMs! >= 20, `durationMs ${row!.durationMs}`);
    assert.deepEqual(row!.result, { files: 1 });
  });

  test('the from guard refuses a move from any other status', async () => {
    const job = await jobIn('INQUEUE');
    const result = await transitionJob(t.db, job.id, 'ERROR', { from: 'PROGRESS' });
    assert.equal(result.moved, false);
    const [row] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
    assert.equal(row!.status, 'INQUEUE');
  });

  test('two racing writers: exactly one ends the job', async () => {
    const job = await jobIn('PROGRESS');
    const results = await Promise.all([
      transitionJob(t.db, job.id, 'COMPLETED'),
      transitionJob(t.db, job.id, 'ERROR', { set: { errorMessage: 'terminated' } }),
    ]);
    assert.equal(results.filter((r) => r.moved).length, 1);
    assert.equal((await movesOf(job.id)).length, 1);
  });

  test('an INSERT writes the first event', async () => {
    const job = await jobIn('PENDING');
    const events = await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, job.id));
    assert.deepEqual(events.map((e) => [e.fromStatus, e.toStatus]), [[null, 'PENDING']]);
  });

  test('an unknown job is an error that names it', async () => {
    await assert.rejects(transitionJob(t.db, 987654, 'INQUEUE'), /job 987654 does not exist/);
  });
});
