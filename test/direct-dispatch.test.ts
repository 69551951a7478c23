import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { createMasterActivities } from '../src/master/activities';
import { createDirectClaim, dispatcherWorkflowId } from '../src/master/directClaim';
import { dispatchSignal, type DispatchBatch, type dispatcherWorkflow } from '../src/master/dispatcherWorkflow';
import { startListener, type JobListener } from '../src/master/listener';
import { schedulerInput } from '../src/master/schedules';
import { MASTER_WORKFLOWS_PATH } from '../src/master/worker';
import { jobType, jobWorkflowId } from '../src/shared/registry';
import { GOOD_VIDEO, silentLogger, startMasterEnv, VIDEO, type MasterEnv } from './fixtures/master-env';
import { DISPATCHER_HISTORY } from './fixtures/record-dispatcher-history';
import { quietTemporal } from './helpers/temporal';
import { waitFor } from './helpers/wait';

// Issue 21 item 5: the master's listener claims in its own process and hands the claimed
// jobs (ids and reservations) to the type's dispatcher workflow, which starts their children.
// A real PostgreSQL and Temporal dev server; no Schedule exists here, so no cron tick claims.

interface JsonEvent { eventType: string; [attributes: string]: unknown }

async function runEvents(client: Client, workflowId: string, runId?: string): Promise<JsonEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (JSON.parse(historyToJSON(history)) as { events: JsonEvent[] }).events;
}

/** Every run of a workflow's continue-as-new chain, first first. */
async function chain(client: Client, workflowId: string): Promise<JsonEvent[][]> {
  const latest = await runEvents(client, workflowId);
  let runId = (latest[0]!.workflowExecutionStartedEventAttributes as { firstExecutionRunId: string }).firstExecutionRunId as string | undefined;
  const runs: JsonEvent[][] = [];
  while (runId) {
    const events = await runEvents(client, workflowId, runId);
    runs.push(events);
    runId = (events.at(-1)!.workflowExecutionContinuedAsNewEventAttributes as { newExecutionRunId?: string } | undefined)?.newExecutionRunId;
  }
  return runs;
}

const count = (events: JsonEvent[], type: string) => events.filter((e) => e.eventType === `EVENT_TYPE_${type}`).length;

describe('direct dispatch', () => {
  let m: MasterEnv;
  let claim: ReturnType<typeof createMasterActivities>['claimJobs'];
  before(async () => {
    m = await startMasterEnv({ reconcileGraceMs: 400 });
    claim = createMasterActivities({ db: m.t.db, client: m.client, logger: silentLogger, reconcileGraceMs: 400, config: m.config }).claimJobs;
  });
  after(async () => { await m?.close(); });

  const started = (id: number) => waitFor(`child of job ${id}`, async () => {
    try { return await m.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).describe(); } catch { return undefined; }
  }, 60_000);

  test('a notification claims in the master process; the dispatcher gets ids and reservations, no activity, and starts the children', async () => {
    const listener: JobListener = startListener({
      databaseUrl: m.t.url, debounceMs: 0, logger: silentLogger, types: [VIDEO],
      wake: createDirectClaim({ client: m.client, claim, logger: silentLogger, input: (e) => schedulerInput(e), idle: '1 minute', shards: 1 }),
    });
    try {
      await listener.ready;
      const jobs = await m.insert(VIDEO, Array.from({ length: 5 }, (_, i) => ({ ...GOOD_VIDEO, prompt: `direct ${i}` })));
      const ids = jobs.map((j) => j.id);
      for (const id of ids) assert.equal((await started(id)).status.name, 'RUNNING');
      for (const e of await m.events(ids)) {
        if (e.toStatus === 'INQUEUE') assert.equal((e.detail as { scheduler?: string }).scheduler, dispatcherWorkflowId(VIDEO));
      }

      const events = (await chain(m.client, dispatcherWorkflowId(VIDEO))).flat();
      assert.equal(count(events, 'ACTIVITY_TASK_SCHEDULED'), 0, 'the claim was no activity: the master made it');
      const handed = events
        .map((e) => e.workflowExecutionSignaledEventAttributes as { signalName: string; input: { payloads: Array<{ data: string }> } } | undefined)
        .filter((a) => a?.signalName === 'dispatch')
        .flatMap((a) => (JSON.parse(Buffer.from(a!.input.payloads[0]!.data, 'base64').toString('utf8')) as DispatchBatch).jobs);
      assert.deepEqual(handed.map((j) => j.jobId).sort((a, b) => a - b), ids);
      for (const j of handed) {
        // Ids and the reservation only: no payload (prompt, image) enters the history.
        assert.deepEqual(Object.keys(j).sort(), ['instance', 'jobId', 'reservation', 'workflowId']);
        assert.deepEqual(Object.keys(j.reservation!).sort(), ['account', 'holder']);
      }
      assert.equal(count(events, 'START_CHILD_WORKFLOW_EXECUTION_INITIATED'), ids.length);
    } finally {
      await listener.close();
    }
  });

  test('a backlog\'s batches go round the dispatcher shards, each job started once; a sequential type keeps one dispatcher', async () => {
    // Batches of 3 over 3 shards: 8 jobs make claims of 3, 3, 2 → shards 0, 1, 2.
    const small = (e: Parameters<typeof schedulerInput>[0]) => ({ ...schedulerInput(e), batchSize: 3 });
    const wake = createDirectClaim({ client: m.client, claim, logger: silentLogger, input: small, idle: '2 seconds', shards: 3 });
    const jobs = await m.insert(VIDEO, Array.from({ length: 8 }, (_, i) => ({ ...GOOD_VIDEO, prompt: `shard ${i}` })));
    await wake(VIDEO);
    for (const j of jobs) assert.equal((await started(j.id)).status.name, 'RUNNING');
    const byShard = new Map<string, number[]>();
    for (const e of await m.events(jobs.map((j) => j.id))) {
      if (e.toStatus !== 'INQUEUE') continue;
      const scheduler = (e.detail as { scheduler: string }).scheduler;
      byShard.set(scheduler, [...(byShard.get(scheduler) ?? []), e.jobId]);
    }
    assert.deepEqual([...byShard.keys()].sort(), [0, 1, 2].map((k) => dispatcherWorkflowId(VIDEO, k)).sort());
    assert.deepEqual([...byShard.values()].map((ids) => ids.length).sort(), [2, 3, 3]);
    // Each shard started exactly the jobs it was handed, none twice.
    const ours = new Set(jobs.map((j) => jobWorkflowId(VIDEO, j.id)));
    const initiated: string[] = [];
    for (const [workflowId, ids] of byShard) {
      const mine = (await chain(m.client, workflowId)).flat()
        .map((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes as { workflowId: string } | undefined)?.workflowId)
        .filter((id): id is string => id !== undefined && ours.has(id));
      assert.deepEqual([...mine].sort(), ids.map((id) => jobWorkflowId(VIDEO, id)).sort(), workflowId);
      initiated.push(...mine);
    }
    assert.equal(new Set(initiated).size, jobs.length);

    // A sequential type starts in claim order, so it never spreads over dispatchers.
    const sequential = (e: Parameters<typeof schedulerInput>[0]) => ({ ...small(e), dispatchMode: 'sequential' as const });
    const inOrder = createDirectClaim({ client: m.client, claim, logger: silentLogger, input: sequential, idle: '2 seconds', shards: 3 });
    const more = await m.insert(VIDEO, Array.from({ length: 7 }, (_, i) => ({ ...GOOD_VIDEO, prompt: `in order ${i}` })));
    await inOrder(VIDEO);
    for (const j of more) assert.equal((await started(j.id)).status.name, 'RUNNING');
    const schedulers = new Set((await m.events(more.map((j) => j.id))).filter((e) => e.toStatus === 'INQUEUE').map((e) => (e.detail as { scheduler: string }).scheduler));
    assert.deepEqual([...schedulers], [dispatcherWorkflowId(VIDEO)]);
  });

  test('a crash between the direct claim and the start: the reconciler starts the job once, on its reservation', async () => {
    // Temporal refuses the hand-over (a namespace that does not exist): the claim has
    // committed and no workflow will start it, as if the master died right after the claim.
    const refused = new Client({ connection: m.client.connection, namespace: 'no-such-namespace' });
    const direct = createDirectClaim({ client: refused, claim, logger: silentLogger, input: (e) => schedulerInput(e), idle: '1 minute', shards: 1 });
    const [job] = await m.insert(VIDEO, [{ ...GOOD_VIDEO, prompt: 'lost hand-over' }]);
    await direct(VIDEO);
    const row = await m.job(job!.id);
    assert.equal(row.status, 'INQUEUE');
    await assert.rejects(m.client.workflow.getHandle(row.workflowId!).describe(), /not found/i);

    await new Promise((r) => setTimeout(r, 500)); // older than the reconcile grace
    const first = await m.tick(VIDEO);
    assert.equal(first.redispatched, 1, JSON.stringify(first));
    assert.equal((await started(job!.id)).status.name, 'RUNNING');
    const input = (await m.client.workflow.getHandle(row.workflowId!).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.deepEqual((JSON.parse(Buffer.from(input!.data!).toString()) as { reservation?: unknown }).reservation, { account: row.account, holder: `job/${job!.id}` });

    // Its workflow runs now: the next tick leaves it alone, and no second run ever starts.
    await new Promise((r) => setTimeout(r, 500));
    const second = await m.tick(VIDEO);
    assert.equal(second.redispatched, 0, JSON.stringify(second));
    const runs: string[] = [];
    for await (const w of m.client.workflow.list({ query: `WorkflowId = '${row.workflowId}'` })) runs.push(w.runId);
    assert.equal(runs.length, 1, 'one run of the job\'s workflow');
    assert.equal((await m.events([job!.id])).filter((e) => e.toStatus === 'INQUEUE').length, 1, 'claimed once');
  });

  test('a dispatcher run continues as new within its history budget, carrying what it has not started; every job starts once', async () => {
    const jobs = await m.insert(VIDEO, Array.from({ length: 24 }, (_, i) => ({ ...GOOD_VIDEO, prompt: `chain ${i}` })));
    const claimed = await claim({ jobType: VIDEO, limit: 24 });
    assert.equal(claimed.jobs.length, 24);
    const workflowId = `test-dispatcher-${process.pid}`;
    const budget = 40;
    const signals = 6;
    for (let i = 0; i < signals; i++) {
      await m.client.workflow.signalWithStart<typeof dispatcherWorkflow, [DispatchBatch]>('dispatcherWorkflow', {
        workflowId,
        taskQueue: jobType(VIDEO).masterTaskQueue,
        args: [{ ...schedulerInput(jobType(VIDEO)), idle: '2 seconds', runEvents: budget }],
        signal: dispatchSignal,
        signalArgs: [{ jobs: claimed.jobs.slice(i * 4, i * 4 + 4) }],
      });
    }
    for (const j of jobs) assert.equal((await started(j.id)).status.name, 'RUNNING');
    await waitFor('the chain to end', async () => (await m.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 60_000);

    const runs = await chain(m.client, workflowId);
    assert.ok(runs.length >= 2, `${runs.length} run(s): the budget made it continue as new`);
    // Within the budget, plus what signals came while its last starts finished (a signal and a task each).
    for (const run of runs) assert.ok(run.length <= budget + 4 * signals, `a run of ${run.length} events`);
    const initiated = runs.flat()
      .map((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes as { workflowId: string } | undefined)?.workflowId)
      .filter(Boolean);
    assert.deepEqual([...initiated].sort(), jobs.map((j) => jobWorkflowId(VIDEO, j.id)).sort(), 'each job started once, none dropped');
  });
});

describe('dispatcher workflow replay', () => {
  before(() => quietTemporal());
  const recorded = JSON.parse(fs.readFileSync(DISPATCHER_HISTORY.file, 'utf8')) as { events: JsonEvent[] };

  test('the recorded history covers its branches: batches, an id already taken, the timer\'s claim, continue-as-new', () => {
    const { events } = recorded;
    assert.equal(count(events, 'WORKFLOW_EXECUTION_SIGNALED'), 2);
    assert.equal(count(events, 'START_CHILD_WORKFLOW_EXECUTION_FAILED'), 1, 'a child id already taken');
    const activities = events
      .map((e) => (e.activityTaskScheduledEventAttributes as { activityType: { name: string } } | undefined)?.activityType.name)
      .filter(Boolean)
      .sort();
    assert.deepEqual(activities, ['checkWorkflowOwner', 'claimJobs']);
    assert.equal(count(events, 'TIMER_FIRED'), 1, 'the capacity timer');
    assert.equal(count(events, 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW'), 1);
  });

  test('the recorded dispatcher history replays against the current dispatcher workflow', async () => {
    await Worker.runReplayHistory({ workflowsPath: MASTER_WORKFLOWS_PATH }, historyFromJSON(recorded), DISPATCHER_HISTORY.workflowId);
  });
});
