import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { transitionJob } from '../src/shared/jobs/transition';
import { schedulerInput } from '../src/master/schedules';
import { MASTER_WORKFLOWS_PATH } from '../src/master/worker';
import { BATCHES_PER_RUN } from '../src/master/workflows';
import { databaseIdentity } from '../src/shared/db/instance';
import { GrokflowInstanceKey } from '../src/shared/searchAttributeKeys';
import { jobType, jobWorkflowId } from '../src/shared/registry';
import type { SlaveWorkflowInput } from '../src/shared/workflowInputs';
import { createMasterActivities } from '../src/master/activities';
import { RECONCILE_PAGE } from '../src/master/activities/reconcile';
import { GOOD_VIDEO, IMAGE, silentLogger, startMasterEnv, VIDEO, type MasterEnv } from './fixtures/master-env';
import { SCHEDULER_HISTORIES } from './fixtures/record-scheduler-history';
import { quietTemporal } from './helpers/temporal';

/** A history as proto JSON: enums by name, payloads base64 (the form `temporal` tools use). */
interface JsonEvent {
  eventType: string;
  [attributes: string]: unknown;
}
interface StartChildAttributes {
  workflowId: string;
  workflowType: { name: string };
  taskQueue: { name: string };
  parentClosePolicy: string;
  workflowIdReusePolicy: string;
  input: { payloads: Array<{ data: string }> };
}

function startChildCommands(events: JsonEvent[]): StartChildAttributes[] {
  return events
    .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes as StartChildAttributes | undefined)
    .filter((a): a is StartChildAttributes => a !== undefined);
}

/** The histories of a workflow's continue-as-new chain, first run first, as proto JSON. */
async function chain(client: Client, workflowId: string, firstRunId: string): Promise<JsonEvent[][]> {
  const runs: JsonEvent[][] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = (JSON.parse(historyToJSON(history)) as { events: JsonEvent[] }).events;
    runs.push(events);
    runId = (events.at(-1)!.workflowExecutionContinuedAsNewEventAttributes as { newExecutionRunId?: string } | undefined)?.newExecutionRunId;
  }
  return runs;
}

function slaveInput(a: StartChildAttributes): SlaveWorkflowInput {
  return JSON.parse(Buffer.from(a.input.payloads[0]!.data, 'base64').toString('utf8')) as SlaveWorkflowInput;
}

describe('master scheduler: claim and dispatch', () => {
  let m: MasterEnv;
  before(async () => { m = await startMasterEnv({ reconcileGraceMs: 400 }); });
  after(async () => { await m?.close(); });

  test('N PENDING rows → N slave workflows "<type>(<id>)" on the slave queue, jobs INQUEUE with events', async () => {
    const video = await m.insert(VIDEO, Array.from({ length: 12 }, (_, i) => ({ ...GOOD_VIDEO, prompt: `p${i}` })));
    const image = await m.insert(IMAGE, [{ prompt: 'a cat' }, { prompt: 'a dog', count: 2 }]);
    const result = await m.tick(VIDEO);
    assert.equal(result.claimed, 12);
    assert.equal(result.started, 12);

    for (const job of video) {
      const row = await m.job(job.id);
      const workflowId = jobWorkflowId(VIDEO, job.id);
      assert.equal(row.status, 'INQUEUE');
      assert.equal(row.workflowId, workflowId);
      assert.ok(row.queuedAt);
      const described = await m.client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'RUNNING');
      assert.equal(described.taskQueue, jobType(VIDEO).slaveTaskQueue);
      assert.equal(described.type, jobType(VIDEO).slaveWorkflow);
    }
    // What the scheduler asked Temporal for: ABANDON, never a second run of an id, the
    // slave's queue, and an input carrying the registry's activity timeouts.
    const history = JSON.parse(historyToJSON(await m.client.workflow.getHandle(m.lastTickId!).fetchHistory())) as { events: JsonEvent[] };
    const commands = startChildCommands(history.events);
    assert.equal(commands.length, 12);
    const instance = await databaseIdentity(m.t.db);
    assert.match(instance, /^[0-9a-f-]{36}$/);
    for (const c of commands) {
      assert.equal(c.parentClosePolicy, 'PARENT_CLOSE_POLICY_ABANDON');
      assert.equal(c.workflowIdReusePolicy, 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE');
      assert.equal(c.taskQueue.name, 'grok_video_generation');
      assert.equal(c.workflowType.name, 'grokVideoGenerationWorkflow');
      const input = slaveInput(c);
      assert.equal(c.workflowId, `grok_video_generation(${input.jobId})`);
      // The database's identity travels in the input, the memo and a search attribute; the
      // slot the claim reserved travels as ids (an account name, the lease's holder).
      const lease = await m.t.pool.query('SELECT account, holder, unused FROM account_leases WHERE job_id = $1', [input.jobId]);
      assert.equal(lease.rows.length, 1, `job ${input.jobId} holds one reserved slot`);
      assert.deepEqual(input, {
        jobId: input.jobId, jobType: VIDEO, activityTimeouts: jobType(VIDEO).activityTimeouts, instance,
        reservation: { account: lease.rows[0].account, holder: `job/${input.jobId}` },
      });
      assert.equal(lease.rows[0].holder, `job/${input.jobId}`);
      assert.equal(lease.rows[0].unused, true);
    }
    const first = await m.client.workflow.getHandle(jobWorkflowId(VIDEO, video[0]!.id)).describe();
    assert.equal(first.memo?.grokflowInstance, instance);
    assert.deepEqual(first.typedSearchAttributes.get(GrokflowInstanceKey), instance);
    assert.deepEqual(commands.map((c) => slaveInput(c).jobId).sort((a, b) => a - b), video.map((j) => j.id).sort((a, b) => a - b));

    const events = (await m.events(video.map((j) => j.id))).filter((e) => e.fromStatus !== null);
    assert.equal(events.length, 12, 'one PENDING→INQUEUE event per job (besides its creation event)');
    assert.ok(events.every((e) => e.fromStatus === 'PENDING' && e.toStatus === 'INQUEUE'));

    // The other type is untouched until its own scheduler ticks.
    for (const job of image) assert.equal((await m.job(job.id)).status, 'PENDING');
    const imageResult = await m.tick(IMAGE);
    assert.equal(imageResult.started, 2);
    const child = await m.client.workflow.getHandle(jobWorkflowId(IMAGE, image[1]!.id)).describe();
    assert.equal(child.taskQueue, 'grok_image_generation');
  });

  test('claims by priority, then age, batch by batch; a run that used its batches continues as new until drained', async () => {
    const low = await m.insert(VIDEO, Array.from({ length: 2 * BATCHES_PER_RUN }, () => GOOD_VIDEO));
    const high = await m.insert(VIDEO, [GOOD_VIDEO], 10);
    // batchSize 1, sequential: every claim takes one job, in priority then age order.
    const handle = await m.client.workflow.start('schedulerWorkflow', {
      taskQueue: jobType(VIDEO).masterTaskQueue,
      workflowId: 'test-priority',
      args: [{ ...schedulerInput(jobType(VIDEO)), batchSize: 1, dispatchMode: 'sequential' }],
    });
    await handle.result();
    const queuedAt = async (id: number) => (await m.job(id)).queuedAt!.getTime();
    for (const j of low) assert.ok((await queuedAt(high[0]!.id)) <= (await queuedAt(j.id)));
    for (let i = 1; i < low.length; i++) assert.ok((await queuedAt(low[i - 1]!.id)) <= (await queuedAt(low[i]!.id)));
    for (const j of [...low, ...high]) assert.equal((await m.job(j.id)).status, 'INQUEUE');

    // The chain: BATCHES_PER_RUN claims per run (bounded history), then continue-as-new.
    const runs = await chain(m.client, 'test-priority', handle.firstExecutionRunId);
    const children = runs.map((events) => startChildCommands(events).map((c) => c.workflowId));
    assert.deepEqual(children.map((c) => c.length), [BATCHES_PER_RUN, BATCHES_PER_RUN, 1]);
    assert.deepEqual(children.flat(), [high[0]!, ...low].map((j) => jobWorkflowId(VIDEO, j.id)), 'started in claim order');
    // Only the tick's first run reconciles; its continuations only claim.
    const activities = runs.map((events) => events
      .map((e) => (e.activityTaskScheduledEventAttributes as { activityType: { name: string } } | undefined)?.activityType.name)
      .filter(Boolean));
    assert.equal(activities[0]![0], 'reconcileJobs');
    for (const later of activities.slice(1)) assert.ok(later.every((name) => name === 'claimJobs'), later.join());
  });

  test('bad payloads → ERROR naming the field; good jobs in the same tick dispatched', async () => {
    const bad = await m.insert(VIDEO, [
      { ...GOOD_VIDEO, count: 0 },
      { ...GOOD_VIDEO, colour: 'red' },
      { imageUrl: 'https://example.com/not-a-post', prompt: 'x' },
      { imageUrl: GOOD_VIDEO.imageUrl, imagePath: '/tmp/a.png', prompt: 'x' },
      { count: 2 },
      'not an object',
    ]);
    const good = await m.insert(VIDEO, [GOOD_VIDEO, { prompt: 'text only' }]);
    const badImage = await m.insert(IMAGE, [{ prompt: '' }]);
    const result = await m.tick(VIDEO);
    assert.equal(result.claimed, 2);
    assert.equal(result.started, 2);
    const expected = [/payload\.count/, /payload\.colour/, /payload\.imageUrl/, /payload\.imagePath/, /payload\.prompt/, /payload/];
    for (const [i, job] of bad.entries()) {
      const row = await m.job(job.id);
      assert.equal(row.status, 'ERROR', `bad payload ${i}`);
      assert.match(row.errorMessage!, expected[i]!);
      await assert.rejects(m.client.workflow.getHandle(jobWorkflowId(VIDEO, job.id)).describe(), WorkflowNotFoundError);
      const events = await m.events([job.id]);
      // Refused before any slot is reserved for it: straight from PENDING.
      assert.deepEqual(events.map((e) => `${e.fromStatus}>${e.toStatus}`).sort(), ['PENDING>ERROR', 'null>PENDING']);
    }
    for (const job of good) {
      assert.equal((await m.job(job.id)).status, 'INQUEUE');
      assert.equal((await m.client.workflow.getHandle(jobWorkflowId(VIDEO, job.id)).describe()).status.name, 'RUNNING');
    }
    await m.tick(IMAGE);
    assert.match((await m.job(badImage[0]!.id)).errorMessage!, /payload\.prompt/);
  });

  test('rows edited by hand: an unknown type and a PROGRESS job with no workflow end ERROR naming why; the tick goes on', async () => {
    const { rows } = await m.t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_AUDIO_GENERATION', '{}') RETURNING id`);
    const unknown = Number(rows[0].id);
    const [orphan] = await m.insert(VIDEO, [GOOD_VIDEO]);
    await m.t.pool.query(`UPDATE jobs SET status = 'PROGRESS' WHERE id = $1`, [orphan!.id]);
    await new Promise((r) => setTimeout(r, 500)); // past the reconciler's grace
    const [good] = await m.insert(VIDEO, [GOOD_VIDEO]);
    const result = await m.tick(VIDEO);
    assert.equal(result.started, 1, 'the good job is dispatched in the same tick');
    assert.equal((await m.job(good!.id)).status, 'INQUEUE');
    const unknownRow = await m.job(unknown);
    assert.equal(unknownRow.status, 'ERROR');
    assert.match(unknownRow.errorMessage!, /unknown job type "GROK_AUDIO_GENERATION"; known: GROK_VIDEO_GENERATION, GROK_IMAGE_GENERATION/);
    const orphanRow = await m.job(orphan!.id);
    assert.equal(orphanRow.status, 'ERROR');
    assert.match(orphanRow.errorMessage!, new RegExp(`workflow grok_video_generation\\(${orphan!.id}\\) not found while the job was PROGRESS`));
  });

  test('the reconciler reads in pages: more stale jobs than one page all end ERROR in one tick, with their items', async () => {
    const n = RECONCILE_PAGE * 2 + 17;
    const { rows } = await m.t.pool.query(
      `INSERT INTO jobs (type, payload, status, updated_at) SELECT $1, '{}', 'PROGRESS', now() - interval '1 minute' FROM generate_series(1, $2) RETURNING id`,
      [VIDEO, n],
    );
    const ids = rows.map((r) => Number(r.id));
    await m.t.pool.query(`INSERT INTO job_items (job_id, index, status) SELECT unnest($1::bigint[]), 0, 'RUNNING'`, [ids]);
    const result = await m.tick(VIDEO);
    assert.ok(result.failed >= n, `${result.failed} failed, ${n} stale`);
    const left = await m.t.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status <> 'ERROR'`, [ids]);
    assert.equal(left.rows[0].n, 0);
    const open = await m.t.pool.query(`SELECT count(*)::int AS n FROM job_items WHERE job_id = ANY($1) AND status IN ('PENDING', 'RUNNING')`, [ids]);
    assert.equal(open.rows[0].n, 0, 'no item RUNNING under an ERROR job');
  });

  test('a workflow id held by another database\'s workflow: the job ends ERROR naming the conflict and the fix', async () => {
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    const workflowId = jobWorkflowId(VIDEO, job!.id);
    // Another database's job of the same id, already closed, as its master started it.
    const other = '00000000-0000-4000-8000-000000000001';
    const foreign = await m.client.workflow.start('grokVideoGenerationWorkflow', {
      taskQueue: 'nobody-polls-this', workflowId, args: [{ jobId: job!.id, jobType: VIDEO, activityTimeouts: jobType(VIDEO).activityTimeouts, instance: other }],
      memo: { grokflowInstance: other },
    });
    await foreign.terminate('the other database is gone');
    const result = await m.tick(VIDEO);
    assert.equal(result.conflicts, 1);
    assert.equal(result.alreadyStarted, 0, 'not counted as started');
    const row = await m.job(job!.id);
    assert.equal(row.status, 'ERROR');
    assert.match(row.errorMessage!, new RegExp(`workflow id grok_video_generation\\(${job!.id}\\) is already taken by a TERMINATED workflow of another grokflow database \\(instance ${other};`));
    assert.match(row.errorMessage!, /TEMPORAL_NAMESPACE\) or its own WORKFLOW_ID_PREFIX/);
    assert.equal((await foreign.describe()).status.name, 'TERMINATED', 'the other database\'s workflow is left as it was');
  });

  test('WORKFLOW_ID_PREFIX prefixes the id the claim writes and the scheduler starts', async () => {
    const [job] = await m.insert(IMAGE, [{ prompt: 'prefixed' }]);
    const claim = createMasterActivities({ db: m.t.db, client: m.client, logger: silentLogger, reconcileGraceMs: 500, workflowIdPrefix: 'deploy-b.', config: m.config }).claimJobs;
    const claimed = await claim({ jobType: IMAGE, limit: 10 });
    assert.deepEqual(claimed.jobs.map((j) => j.workflowId), [`deploy-b.grok_image_generation(${job!.id})`]);
    assert.equal((await m.job(job!.id)).workflowId, `deploy-b.grok_image_generation(${job!.id})`);
    assert.equal(jobWorkflowId(IMAGE, job!.id, 'deploy-b.'), claimed.jobs[0]!.workflowId);
  });

  test('a slave workflow terminated before its first activity → job ERROR naming TERMINATED', async () => {
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    await m.tick(VIDEO);
    const workflowId = jobWorkflowId(VIDEO, job!.id);
    await m.client.workflow.getHandle(workflowId).terminate('operator');
    await new Promise((r) => setTimeout(r, 500)); // older than the reconcile grace
    const result = await m.tick(VIDEO);
    assert.equal(result.failed, 1);
    const row = await m.job(job!.id);
    assert.equal(row.status, 'ERROR');
    assert.match(row.errorMessage!, /TERMINATED/);
    assert.match(row.errorMessage!, new RegExp(workflowId.replace(/[()]/g, '\\$&')));
    // A job that already ended is never touched again.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await m.tick(VIDEO)).failed, 0);
  });

  test('a PROGRESS job whose workflow completed without a final status → ERROR naming COMPLETED', async () => {
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    await transitionJob(m.t.db, job!.id, 'INQUEUE', { set: { workflowId: 'stray-completed' } });
    await transitionJob(m.t.db, job!.id, 'PROGRESS');
    // Any workflow under that id that ends COMPLETED: the scheduler itself, with nothing to do.
    await m.client.workflow.execute('schedulerWorkflow', {
      taskQueue: jobType(IMAGE).masterTaskQueue, workflowId: 'stray-completed',
      args: [schedulerInput(jobType(IMAGE))],
    });
    await new Promise((r) => setTimeout(r, 500));
    await m.tick(VIDEO);
    const row = await m.job(job!.id);
    assert.equal(row.status, 'ERROR');
    assert.match(row.errorMessage!, /closed as COMPLETED/);
  });

  test('an INQUEUE job whose child never started → redispatched once it is older than the grace', async () => {
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    const workflowId = jobWorkflowId(VIDEO, job!.id);
    // As if the master died between the claim and the start.
    await transitionJob(m.t.db, job!.id, 'INQUEUE', { set: { workflowId } });
    // The claim's age as the reconciler sees it, set rather than waited for: a loaded machine
    // took longer than the grace (500 ms) to run a tick. The row's touch trigger is off for it.
    const claimedAgo = (interval: string) => m.t.pool.query(
      `BEGIN; SET LOCAL session_replication_role = replica; UPDATE jobs SET updated_at = now() - interval '${interval}' WHERE id = ${job!.id}; COMMIT;`);
    await claimedAgo('-1 minute'); // a claim made just now, whatever the tick's pace
    const early = await m.tick(VIDEO);
    assert.equal(early.redispatched, 0, 'a fresh claim is left alone');
    await claimedAgo('1 second');
    const result = await m.tick(VIDEO);
    assert.equal(result.redispatched, 1);
    assert.equal(result.started, 1);
    assert.equal((await m.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');
    assert.equal((await m.job(job!.id)).status, 'INQUEUE');
    // Running now: later ticks leave it alone.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await m.tick(VIDEO)).redispatched, 0);
  });

  test('a workflow id already taken is never started twice: closed → ERROR; concurrent redispatch → one run', async () => {
    const [closed, lost] = await m.insert(VIDEO, [GOOD_VIDEO, GOOD_VIDEO]);
    const closedId = jobWorkflowId(VIDEO, closed!.id);
    const lostId = jobWorkflowId(VIDEO, lost!.id);
    await transitionJob(m.t.db, closed!.id, 'INQUEUE', { set: { workflowId: closedId } });
    await transitionJob(m.t.db, lost!.id, 'INQUEUE', { set: { workflowId: lostId } });
    const first = await m.client.workflow.start(jobType(VIDEO).slaveWorkflow, {
      taskQueue: jobType(VIDEO).slaveTaskQueue, workflowId: closedId,
      args: [{ jobId: closed!.id, jobType: VIDEO, activityTimeouts: jobType(VIDEO).activityTimeouts }],
    });
    await first.terminate('gone');
    await new Promise((r) => setTimeout(r, 500));
    // Two scheduler runs at once both find `lost` never started and both try to start it.
    const results = await Promise.all([m.tick(VIDEO), m.tick(VIDEO)]);
    assert.equal(results.reduce((n, r) => n + r.started, 0), 1, JSON.stringify(results));
    assert.equal(results.reduce((n, r) => n + r.failed, 0), 1);
    assert.equal((await m.job(closed!.id)).status, 'ERROR');
    assert.equal((await m.client.workflow.getHandle(closedId).describe()).runId, first.firstExecutionRunId, 'no second run');
    assert.equal((await m.job(lost!.id)).status, 'INQUEUE');
    assert.equal((await m.client.workflow.getHandle(lostId).describe()).status.name, 'RUNNING');
  });
});

describe('scheduler workflow replay', () => {
  before(() => quietTemporal());
  const load = (file: string) => historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));

  for (const [name, recorded] of Object.entries(SCHEDULER_HISTORIES)) {
    test(`the recorded ${name} history replays against the current scheduler workflow`, async () => {
      await Worker.runReplayHistory({ workflowsPath: MASTER_WORKFLOWS_PATH }, load(recorded.file), recorded.workflowId);
    });
  }

  test('the recorded concurrent history covers every branch of a tick', () => {
    const { events } = JSON.parse(fs.readFileSync(SCHEDULER_HISTORIES.concurrent.file, 'utf8')) as { events: JsonEvent[] };
    const count = (type: string) => events.filter((e) => e.eventType === `EVENT_TYPE_${type}`).length;
    assert.equal(count('WORKFLOW_EXECUTION_SIGNALED'), 1, 'a wake signal');
    const activities = events
      .map((e) => (e.activityTaskScheduledEventAttributes as { activityType: { name: string } } | undefined)?.activityType.name)
      .filter(Boolean);
    assert.deepEqual(activities, ['reconcileJobs', ...Array<string>(BATCHES_PER_RUN).fill('claimJobs')]);
    assert.equal(count('ACTIVITY_TASK_COMPLETED'), 1 + BATCHES_PER_RUN);
    assert.equal(count('START_CHILD_WORKFLOW_EXECUTION_INITIATED'), 14, 'a redispatch and 13 valid claimed');
    assert.equal(count('START_CHILD_WORKFLOW_EXECUTION_FAILED'), 1, 'a child id already taken');
    assert.equal(count('CHILD_WORKFLOW_EXECUTION_STARTED'), 13);
    assert.equal(count('WORKFLOW_EXECUTION_CONTINUED_AS_NEW'), 1, 'every batch full: continues as new');
  });

  test('the recorded wake history idles, is woken again, then idles out', () => {
    const { events } = JSON.parse(fs.readFileSync(SCHEDULER_HISTORIES.wake.file, 'utf8')) as { events: JsonEvent[] };
    const count = (type: string) => events.filter((e) => e.eventType === `EVENT_TYPE_${type}`).length;
    assert.equal(count('WORKFLOW_EXECUTION_SIGNALED'), 2);
    assert.equal(count('ACTIVITY_TASK_COMPLETED'), 2, 'a claim per wake, no reconcile');
    assert.equal(count('TIMER_CANCELED'), 1, 'the idle wait that a wake ended');
    assert.equal(count('TIMER_FIRED'), 1, 'the idle wait that ended the run');
    assert.equal(count('CHILD_WORKFLOW_EXECUTION_STARTED'), 3);
    assert.equal(count('WORKFLOW_EXECUTION_COMPLETED'), 1);
  });

  test('a scheduler with its activities reordered fails the replay (the test can catch a break)', async () => {
    const recorded = SCHEDULER_HISTORIES.concurrent;
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('./fixtures/scheduler-reordered-workflows') },
        load(recorded.file),
        recorded.workflowId,
      ),
      DeterminismViolationError,
    );
  });
});
