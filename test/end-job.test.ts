import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { asc, eq } from 'drizzle-orm';
import { accountLeases, accounts, jobCallbacks, jobEvents, jobItems, jobs, type JobStatus } from '../src/shared/db/schema';
import { loadConfig } from '../src/shared/config';
import { endJob } from '../src/shared/jobs/endJob';
import { deliveryActivities } from '../src/slave/activities/deliver';
import { silentLogger } from './fixtures/master-env';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// endJob on PostgreSQL alone: what one ending writes, in one transaction, and what a second
// writer to the same end changes (nothing). The callbacks it leads to: test/endings.test.ts.

describe('endJob: the one verb every ending calls', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await t.db.insert(accounts).values({ name: 'a' });
  });
  after(async () => { await t.drop(); });

  async function jobWith(status: JobStatus, payload: Record<string, unknown> = { callbackUrl: 'https://example.com/hook' }) {
    const [job] = await t.db.insert(jobs).values({ type: 'GROK_VIDEO_GENERATION', status, payload }).returning();
    const jobId = job!.id;
    await t.db.insert(jobItems).values([
      { jobId, index: 0, status: 'COMPLETED' },
      { jobId, index: 1, status: 'RUNNING' },
      { jobId, index: 2, status: 'PENDING' },
      { jobId, index: 3, status: 'CONTENT_MODERATED' },
    ]);
    await t.db.insert(accountLeases).values({ account: 'a', holder: `h${jobId}`, jobId, itemIndex: 1, expiresAt: new Date(Date.now() + 60_000) });
    return jobId;
  }
  const items = async (jobId: number) => (await t.db.select().from(jobItems).where(eq(jobItems.jobId, jobId)).orderBy(asc(jobItems.index))).map((i) => [i.status, i.error]);
  const outbox = (jobId: number) => t.db.select().from(jobCallbacks).where(eq(jobCallbacks.jobId, jobId));

  test('moves the job, fails its open items with the message, frees its leases, writes one outbox row; the NOTIFY wakes the loop', async () => {
    const jobId = await jobWith('PROGRESS');
    const listener = new Client({ connectionString: t.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.channel));
    await listener.query('LISTEN grokflow_callbacks');
    const moved = await endJob(t.db, jobId, { status: 'ERROR', from: ['INQUEUE', 'PROGRESS'], message: 'stopped', detail: { by: 'test', reason: 'a test' } });
    assert.equal(moved.moved, true);
    const [row] = await t.db.select().from(jobs).where(eq(jobs.id, jobId));
    assert.equal(row!.status, 'ERROR');
    assert.equal(row!.errorMessage, 'stopped');
    assert.ok(row!.completedAt);
    assert.deepEqual(await items(jobId), [['COMPLETED', null], ['FAILED', 'stopped'], ['FAILED', 'stopped'], ['CONTENT_MODERATED', null]]);
    assert.deepEqual(await t.db.select().from(accountLeases).where(eq(accountLeases.jobId, jobId)), []);
    assert.equal((await outbox(jobId)).length, 1);
    const [event] = (await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId))).filter((e) => e.toStatus === 'ERROR');
    assert.deepEqual(event!.detail, { by: 'test', reason: 'a test' });
    // The NOTIFY is sent at commit; a round trip on the listener's connection delivers it.
    await listener.query('SELECT 1');
    await listener.end();
    assert.deepEqual(heard, ['grokflow_callbacks']);
  });

  test('a second writer to the same end changes nothing and writes no second row', async () => {
    const jobId = await jobWith('INQUEUE');
    assert.equal((await endJob(t.db, jobId, { status: 'ERROR', message: 'first', detail: { by: 'test', reason: 'first' } })).moved, true);
    const again = await endJob(t.db, jobId, { status: 'ERROR', message: 'second', detail: { by: 'test', reason: 'second' } });
    assert.deepEqual(again.moved ? 'moved' : again.reason, `job ${jobId} cannot move from ERROR to ERROR`);
    const [row] = await t.db.select().from(jobs).where(eq(jobs.id, jobId));
    assert.equal(row!.errorMessage, 'first');
    assert.equal((await outbox(jobId)).length, 1);
    assert.deepEqual((await items(jobId))[1], ['FAILED', 'first']);
  });

  test('guarded: a job not in the expected status is left as it is, items, leases and all', async () => {
    const jobId = await jobWith('PENDING');
    const refused = await endJob(t.db, jobId, { status: 'ERROR', from: 'INQUEUE', message: 'late', detail: { by: 'test', reason: 'late' } });
    assert.equal(refused.moved, false);
    assert.equal(refused.moved ? '' : refused.reason, `job ${jobId} is PENDING, not INQUEUE`);
    assert.deepEqual((await items(jobId))[1], ['RUNNING', null]);
    assert.equal((await t.db.select().from(accountLeases).where(eq(accountLeases.jobId, jobId))).length, 1);
    assert.equal((await outbox(jobId)).length, 0);
    // Forward moves only: PENDING cannot complete.
    const backwards = await endJob(t.db, jobId, { status: 'COMPLETED', detail: { by: 'test', reason: 'skip' } });
    assert.equal(backwards.moved, false);
  });

  test('a job without a callbackUrl ends the same way and has no outbox row', async () => {
    const jobId = await jobWith('PROGRESS', { prompt: 'no hook' });
    assert.equal((await endJob(t.db, jobId, { status: 'COMPLETED', detail: { by: 'test', reason: 'done' } })).moved, true);
    assert.deepEqual((await items(jobId))[2], ['FAILED', 'the job ended COMPLETED']);
    assert.equal((await outbox(jobId)).length, 0);
  });

  test('a job workflow recorded before the outbox sends its own callback only when the outbox has not: whoever stamps the row first', async () => {
    const { prepareDelivery } = deliveryActivities({ db: t.db, config: loadConfig({ DATABASE_URL: t.url }), logger: silentLogger });
    // Ended before the upgrade: no outbox row; the old workflow delivers.
    const [old] = await t.db.insert(jobs).values({ type: 'GROK_VIDEO_GENERATION', status: 'COMPLETED', payload: { callbackUrl: 'https://example.com/hook' } }).returning();
    assert.ok(await prepareDelivery({ jobId: old!.id, endOfJob: 'wf-old' }));
    // Ended after it, the old workflow first: it takes the row, the loop finds it stamped.
    const first = await jobWith('PROGRESS');
    await endJob(t.db, first, { status: 'COMPLETED', detail: { by: 'test', reason: 'done' } });
    assert.ok(await prepareDelivery({ jobId: first, endOfJob: 'wf-first' }));
    assert.ok(await prepareDelivery({ jobId: first, endOfJob: 'wf-first' }), 'its own retry still may');
    const [row] = await outbox(first);
    assert.ok(row!.startedAt);
    assert.equal(row!.workflowId, 'wf-first');
    // The outbox loop first: the old workflow sends nothing.
    const second = await jobWith('PROGRESS');
    await endJob(t.db, second, { status: 'COMPLETED', detail: { by: 'test', reason: 'done' } });
    await t.db.update(jobCallbacks).set({ startedAt: new Date(), workflowId: 'callback(x)' }).where(eq(jobCallbacks.jobId, second));
    assert.equal(await prepareDelivery({ jobId: second, endOfJob: 'wf-second' }), null);
    // The delivery workflow itself (no endOfJob) always prepares.
    assert.ok(await prepareDelivery({ jobId: second }));
  });
});
