import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { databaseIdentity } from '../src/shared/db/instance';
import { jobEvents, jobItems, jobs } from '../src/shared/db/schema';
import { jobType } from '../src/shared/registry';
import { startStack, type Stack } from './helpers/stack';

// A job is its database AND its id: job ids restart at 1 in every database, so a workflow or
// a downloaded file of another database's job of the same id must never count as this one's.

const VIDEO = 'GROK_VIDEO_GENERATION';

describe('database identity: another database\'s workflows and files are never taken for ours', () => {
  let s: Stack;
  before(async () => { s = await startStack(); });
  after(async () => { await s?.stop(); });

  async function snapshot(id: number) {
    return JSON.stringify([
      await s.t.db.select().from(jobs).where(eq(jobs.id, id)),
      await s.t.db.select().from(jobItems).where(eq(jobItems.jobId, id)),
      await s.t.db.select().from(jobEvents).where(eq(jobEvents.jobId, id)),
    ]);
  }

  test('a workflow of another database reaching this slave fails WrongDatabase and changes no row', async () => {
    const id = await s.insertJob({ prompt: 'ours' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const before = await snapshot(id);

    // What database A's workflow of its own job `id` looks like once B's slave polls its queue.
    const other = randomUUID();
    const handle = await s.env.client.workflow.start('grokVideoGenerationWorkflow', {
      taskQueue: jobType(VIDEO).slaveTaskQueue,
      workflowId: `other-database-${id}`,
      args: [{ jobId: id, jobType: VIDEO, activityTimeouts: { startToClose: '1 minute', scheduleToClose: '2 minutes', heartbeat: '5 seconds' }, instance: other }],
    });
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = (err.cause as { cause?: Error; type?: string }).cause ?? err.cause;
    assert.match(String((cause as Error).message), new RegExp(`job ${id}'s workflow belongs to the grokflow database ${other}, but this worker serves database ${await databaseIdentity(s.t.db)}: nothing was changed`));
    assert.equal((cause as { type?: string }).type, 'WrongDatabase');
    assert.equal(await snapshot(id), before, 'the job, its items and its events are untouched');
  });

  test('a file whose sidecar names another database is not reused: the item is generated and downloaded anew', async () => {
    // Job `first` leaves a real download and sidecar; the same files then appear under the
    // next job's folder as another database's job of that id would have left them.
    const atStart = s.simulator.generations.length;
    const first = await s.insertJob({ prompt: 'the first' });
    assert.equal((await s.waitForJob(first, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
    const perJob = s.simulator.generations.length - atStart; // text → image → video
    const [firstItem] = await s.items(first);
    const sidecar = JSON.parse(fs.readFileSync(`${firstItem!.filePath}.meta.json`, 'utf8')) as { owner: string; files: Array<{ filePath: string }> };
    assert.equal(sidecar.owner, `${await databaseIdentity(s.t.db)}/${first}`, 'a sidecar names its database and job');

    const next = first + 1000;
    const foreignDir = path.join(s.config.DOWNLOADS_DIR, String(next));
    fs.mkdirSync(foreignDir, { recursive: true });
    const foreignFile = path.join(foreignDir, '0.mp4');
    fs.writeFileSync(foreignFile, 'another database\'s video');
    fs.writeFileSync(`${foreignFile}.meta.json`, JSON.stringify({ ...sidecar, owner: `${randomUUID()}/${next}`, files: [{ ...sidecar.files[0], filePath: foreignFile }] }));

    const generationsBefore = s.simulator.generations.length;
    await s.t.pool.query('INSERT INTO jobs (id, type, payload) VALUES ($1, $2, $3)', [next, VIDEO, JSON.stringify({ prompt: 'the next' })]);
    const job = await s.waitForJob(next, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(s.simulator.generations.length, generationsBefore + perJob, 'generated, not taken from the foreign file');
    const [item] = await s.items(next);
    assert.equal(item!.filePath, foreignFile);
    assert.notEqual(fs.readFileSync(foreignFile, 'utf8'), 'another database\'s video');
    assert.equal(item!.sha256, firstItem!.sha256, 'the simulator\'s video, downloaded for this job');
    const rewritten = JSON.parse(fs.readFileSync(`${foreignFile}.meta.json`, 'utf8')) as { owner: string };
    assert.equal(rewritten.owner, `${await databaseIdentity(s.t.db)}/${next}`);
  });
});
