import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { cancelJob } from '../src/cli/jobActions';
import { startCallbackOutbox, type CallbackOutbox } from '../src/master/callbackOutbox';
import { accountLeases, jobCallbacks, jobDeliveries, jobItems, jobs, type Job } from '../src/shared/db/schema';
import { jobType, jobWorkflowId } from '../src/shared/registry';
import { startReceiver, type Received, type Receiver } from './helpers/receiver';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';
import { silentLogger } from './fixtures/master-env';

// Issue 21, item 4: every way a job ends goes through endJob (src/shared/jobs/endJob.ts), so
// every ending sends exactly one signed callback (through the outbox and the master's
// delivery loop, here two of them racing) and leaves no item RUNNING or PENDING and no lease
// under the ended job.

const SECRET = 'endings-webhook-secret-0123456789';
// imagePath must lie inside it: a missing file there passes the claim and fails the job's start.
const IMAGES_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-images-'));
const VIDEO = 'GROK_VIDEO_GENERATION';
const IMAGE = 'GROK_IMAGE_GENERATION';

function verify(r: Received): boolean {
  const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(r.body).digest('hex')}`;
  return r.headers['x-grokflow-signature'] === expected;
}

describe('one verb per ending: exactly one callback, no open item, no lease', () => {
  let s: Stack;
  let receiver: Receiver;
  // A second delivery loop, as a second master runs one: every ending below is raced by both.
  let second: CallbackOutbox | undefined;
  /** What each ending took from its end to its delivery workflow's start and first POST (printed, not asserted). */
  const figures: Array<Record<string, string | number>> = [];
  before(async () => {
    receiver = await startReceiver();
    // The master claims video jobs only: an image job stays PENDING (cancel while PENDING) and
    // an image job in flight is never reconciled (cancel with its workflow gone).
    s = await startStack({
      masterTypes: [VIDEO],
      env: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true', MODERATION_MAX_RETRIES: '1', IMAGES_DIR, WEBHOOK_RETRY_INITIAL_MS: '300', WEBHOOK_RETRY_MAX_MS: '1000' },
    });
    await s.t.pool.query(`INSERT INTO accounts (name) VALUES ('default') ON CONFLICT DO NOTHING`);
    second = startCallbackOutbox({ databaseUrl: s.t.url, db: s.t.db, client: s.env.client, logger: silentLogger, sweepMs: 200 });
    await second.ready;
  });
  after(async () => {
    if (figures.length > 0) console.table(figures);
    await second?.close();
    await s?.stop();
    await receiver?.close();
    fs.rmSync(IMAGES_DIR, { recursive: true, force: true });
  });

  const post = () => s.simulator.createPost('default').url;
  const hook = (name: string) => `${receiver.url}/${name}`;
  const cancel = (id: number) => cancelJob({ db: s.t.db, temporal: async () => s.env.client }, String(id), 'cli');
  const job = async (id: number) => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;

  /** A row as an operator's hand edit leaves it: in flight, an item RUNNING, a lease held. */
  async function inFlightRow(type: string, status: 'INQUEUE' | 'PROGRESS', name: string, touchedAgo = '0 seconds'): Promise<number> {
    const { rows } = await s.t.pool.query(
      `INSERT INTO jobs (type, payload, status, updated_at) VALUES ($1, $2, $3, now() - $4::interval) RETURNING id`,
      [type, JSON.stringify({ prompt: name, imageUrl: post(), callbackUrl: hook(name) }), status, touchedAgo],
    );
    const id = Number(rows[0].id);
    // Its workflow id as a claim would have written it; no such workflow exists.
    await s.t.pool.query(`UPDATE jobs SET workflow_id = $2, updated_at = now() - $3::interval WHERE id = $1`, [id, jobWorkflowId(type, id), touchedAgo]);
    await s.t.pool.query(`INSERT INTO job_items (job_id, index, prompt, status) VALUES ($1, 0, $2, 'RUNNING')`, [id, name]);
    await s.t.pool.query(`INSERT INTO account_leases (account, holder, job_id, item_index, expires_at) VALUES ('default', $1, $2, 0, now() + interval '1 hour')`, [`hand-${id}`, id]);
    return id;
  }

  /**
   * The ending's one callback: signed, for this job and status; its delivery workflow (the id
   * derived from the job) COMPLETED, one outbox row, one delivery id; the job's own workflow
   * scheduled no delivery of its own; no item open; no lease left.
   */
  async function oneCallback(id: number, name: string, status: Job['status'], error?: RegExp): Promise<void> {
    const [got] = await receiver.until(1, `/${name}`);
    assert.ok(verify(got!), 'signed with WEBHOOK_SECRET');
    const body = JSON.parse(got!.body);
    assert.equal(body.jobId, id);
    assert.equal(body.status, status);
    if (error) assert.match(body.error ?? '', error);
    const row = await job(id);
    assert.equal(row.status, status);
    const workflowId = row.workflowId ?? jobWorkflowId(row.type, id);
    // The delivery workflow has finished: nothing of this ending can still be sent.
    await waitFor(() => `callback(${workflowId}) to complete`, async () => {
      const d = await s.env.client.workflow.getHandle(`callback(${workflowId})`).describe().catch(() => undefined);
      return d?.status.name === 'COMPLETED';
    }, 60_000, 100);
    assert.equal(receiver.received.filter((r) => r.path === `/${name}`).length, 1, 'exactly one callback');
    const outbox = await s.t.db.select().from(jobCallbacks).where(eq(jobCallbacks.jobId, id));
    assert.equal(outbox.length, 1);
    assert.ok(outbox[0]!.startedAt, 'the outbox row is stamped started');
    assert.equal(outbox[0]!.workflowId, `callback(${workflowId})`);
    const [firstAttempt] = await s.t.db.select().from(jobDeliveries).where(eq(jobDeliveries.jobId, id)).orderBy(jobDeliveries.id).limit(1);
    figures.push({ ending: name, 'end → started (ms)': outbox[0]!.startedAt!.getTime() - outbox[0]!.createdAt.getTime(),
      'end → first attempt (ms)': firstAttempt!.at.getTime() - outbox[0]!.createdAt.getTime() });
    const deliveries = await s.t.db.select().from(jobDeliveries).where(eq(jobDeliveries.jobId, id));
    assert.equal(new Set(deliveries.map((d) => d.deliveryId)).size, 1, 'one delivery id');
    const open = await s.t.db.select().from(jobItems).where(and(eq(jobItems.jobId, id), inArray(jobItems.status, ['PENDING', 'RUNNING'])));
    assert.deepEqual(open, [], 'no item PENDING or RUNNING under a final job');
    assert.deepEqual(await s.t.db.select().from(accountLeases).where(eq(accountLeases.jobId, id)), [], 'no lease left');
  }

  /** The job's own workflow (started since the outbox) scheduled no callback activity. */
  async function noDeliveryInJobWorkflow(id: number): Promise<void> {
    const history = await s.env.client.workflow.getHandle((await job(id)).workflowId!).fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    assert.ok(scheduled.includes('finishJob') || scheduled.includes('failJob') || scheduled.includes('generateItem'), String(scheduled));
    assert.ok(!scheduled.includes('prepareDelivery') && !scheduled.includes('deliverCallback'), `no delivery in the job's workflow: ${scheduled}`);
  }

  test('completed (finishJob)', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'done', count: 2, callbackUrl: hook('completed') });
    await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    await oneCallback(id, 'completed', 'COMPLETED');
    await noDeliveryInJobWorkflow(id);
  });

  test('failed: too few items completed (finishJob ERROR)', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'refused #sim:moderate', callbackUrl: hook('threshold') });
    await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    await oneCallback(id, 'threshold', 'ERROR', /0 of 1 items completed, 1 required/);
    await noDeliveryInJobWorkflow(id);
  });

  test('failed: a job-wide error (failJob)', async () => {
    const id = await s.insertJob({ imagePath: path.join(IMAGES_DIR, 'nonexistent.jpg'), prompt: 'no image', callbackUrl: hook('failjob') });
    await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    await oneCallback(id, 'failjob', 'ERROR', /payload\.imagePath: no file/);
    await noDeliveryInJobWorkflow(id);
  });

  test('payload rejected at claim', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'too many', count: 500, callbackUrl: hook('rejected') });
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'rejected', 'ERROR', /payload\.count/);
  });

  test('owner conflict: the workflow id is another database\'s', async () => {
    const id = 900_001; // an id chosen here, so the other database's workflow can exist first
    const other = '00000000-0000-4000-8000-000000000009';
    const foreign = await s.env.client.workflow.start('grokVideoGenerationWorkflow', {
      taskQueue: 'nobody-polls-this',
      workflowId: jobWorkflowId(VIDEO, id),
      args: [{ jobId: id, jobType: VIDEO, activityTimeouts: jobType(VIDEO).activityTimeouts, instance: other }],
      memo: { grokflowInstance: other },
    });
    await foreign.terminate('the other database is gone');
    await s.t.pool.query(`INSERT INTO jobs (id, type, payload) VALUES ($1, $2, $3)`, [id, VIDEO, JSON.stringify({ imageUrl: post(), prompt: 'taken', callbackUrl: hook('conflict') })]);
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'conflict', 'ERROR', /already taken by a TERMINATED workflow of another grokflow database/);
  });

  test('reconciled: in flight with no workflow', async () => {
    const id = await inFlightRow(VIDEO, 'PROGRESS', 'reconciled', '1 minute');
    // A PENDING insert wakes the scheduler, whose tick reconciles first.
    await s.insertJob({ prompt: 'wake', count: 500 });
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'reconciled', 'ERROR', /not found while the job was PROGRESS/);
    assert.equal((await s.items(id))[0]!.status, 'FAILED');
  });

  test('reconciled: a PENDING row of a type no scheduler serves', async () => {
    const { rows } = await s.t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_AUDIO_GENERATION', $1) RETURNING id`, [JSON.stringify({ callbackUrl: hook('unknown') })]);
    const id = Number(rows[0].id);
    await s.insertJob({ prompt: 'wake', count: 500 });
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'unknown', 'ERROR', /unknown job type "GROK_AUDIO_GENERATION"/);
  });

  test('cancelled while PENDING', async () => {
    const id = await s.insertJob({ prompt: 'never claimed', callbackUrl: hook('pending') }, IMAGE);
    const outcome = await cancel(id);
    assert.equal(outcome.ended, true);
    await oneCallback(id, 'pending', 'ERROR', /^cancelled$/);
  });

  test('cancelled with its workflow gone', async () => {
    const id = await inFlightRow(IMAGE, 'PROGRESS', 'gone');
    const outcome = await cancel(id);
    assert.equal(outcome.ended, true);
    assert.match(outcome.message, /was not running/);
    await oneCallback(id, 'gone', 'ERROR', /^cancelled$/);
    assert.equal((await s.items(id))[0]!.status, 'FAILED');
  });

  test('cancelled while running', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'stop me #sim:slow=120', callbackUrl: hook('cancelled') });
    await s.untilGenerating(id);
    const outcome = await cancel(id);
    assert.equal(outcome.ended, false);
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'cancelled', 'ERROR', /^cancelled$/);
    await noDeliveryInJobWorkflow(id);
  });

  test('terminated mid-generation', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'kill me #sim:slow=120', callbackUrl: hook('terminated') });
    await s.untilGenerating(id);
    await s.env.client.workflow.getHandle((await job(id)).workflowId!).terminate('operator stop');
    await s.waitForJob(id, ['ERROR'], 60_000);
    await oneCallback(id, 'terminated', 'ERROR', /^terminated$/);
    assert.equal((await s.items(id))[0]!.status, 'FAILED');
  });
});
