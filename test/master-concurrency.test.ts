import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { and, eq, inArray } from 'drizzle-orm';
import { loadConfig } from '../src/shared/config';
import { masterAccountsEnv } from './helpers/masterAccounts';
import { CALLBACKS_CHANNEL } from '../src/master/callbackOutbox';
import { jobEvents, jobs } from '../src/shared/db/schema';
import { JOB_TYPE_NAMES, jobType, jobWorkflowId } from '../src/shared/registry';
import { ensureSchedules, runMaster, scheduleId, dispatcherWorkflowId } from '../src/master/worker';
import { GOOD_VIDEO, IMAGE, silentLogger, startMasterEnv, VIDEO, type MasterEnv } from './fixtures/master-env';
import { waitFor } from './helpers/wait';

// The masters' cron fires once a year, so in this file a claim that is not a test's own
// trigger can only come from the NOTIFY listener's wake: tests check who claimed a job
// (its INQUEUE event names the scheduler run) instead of timing the pickup.
const QUIET_CRON = '0 0 1 1 *';

describe('two masters at once, the NOTIFY listener, schedules', () => {
  let m: MasterEnv;
  const abort = new AbortController();
  let masters: Promise<void>[] = [];
  // Room to claim for masters with no slave (the capacity claim).
  const accounts = masterAccountsEnv();

  before(async () => {
    m = await startMasterEnv({ runWorkers: false });
    const config = loadConfig({
      DATABASE_URL: m.t.url, TEMPORAL_ADDRESS: m.env.address, NOTIFY_DEBOUNCE_MS: '20', LOG_LEVEL: 'silent',
      SCHEDULER_CRON: QUIET_CRON, ...accounts.env,
    });
    const readies: Promise<void>[] = [];
    // Two masters started at the same moment: both ensure the schedules, both run workers
    // on the same task queues, both listen. Each opens its own Temporal connections, as two
    // processes would (the SDK refuses two workers of one queue on one NativeConnection).
    masters = [0, 1].map(() => {
      let ready!: () => void;
      readies.push(new Promise<void>((r) => { ready = r; }));
      return runMaster(config, { signal: abort.signal, logger: silentLogger, reconcileGraceMs: 2000, onReady: ready });
    });
    await Promise.race([Promise.all(readies), ...masters]);
  });
  after(async () => {
    abort.abort();
    const stopped = await Promise.allSettled(masters);
    await m?.close();
    accounts.cleanup();
    for (const s of stopped) if (s.status === 'rejected') throw s.reason;
  });

  async function allQueued(ids: number[]) {
    const rows = await m.t.db.select({ id: jobs.id }).from(jobs).where(and(inArray(jobs.id, ids), eq(jobs.status, 'INQUEUE')));
    return rows.length === ids.length;
  }

  /** The scheduler workflow id that claimed each job, from its PENDING→INQUEUE event. */
  async function claimedBy(ids: number[]): Promise<Map<number, string>> {
    const events = await m.t.db.select().from(jobEvents)
      .where(and(inArray(jobEvents.jobId, ids), eq(jobEvents.toStatus, 'INQUEUE')));
    const by = new Map<number, string>();
    for (const e of events) {
      assert.ok(!by.has(e.jobId), `job ${e.jobId} claimed twice`);
      by.set(e.jobId, String((e.detail as { scheduler?: string } | null)?.scheduler));
    }
    return by;
  }

  async function scheduleIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const s of m.client.schedule.list()) ids.push(s.scheduleId);
    return ids.sort();
  }

  test('one schedule per type after two masters started together; overlap BUFFER_ONE, short catch-up', async () => {
    assert.deepEqual(await scheduleIds(), JOB_TYPE_NAMES.map(scheduleId).sort());
    const described = await m.client.schedule.getHandle(scheduleId(VIDEO)).describe();
    assert.equal(described.policies.overlap, ScheduleOverlapPolicy.BUFFER_ONE);
    assert.equal(described.policies.catchupWindow, 60_000);
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.type === 'startWorkflow' && described.action.taskQueue, jobType(VIDEO).masterTaskQueue);
    assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'schedulerWorkflow');
    assert.match(described.state.note ?? '', new RegExp(QUIET_CRON.replace(/\*/g, '\\*')));
  });

  test('a restart, and three at once, never duplicate or fail; a changed cron updates the schedule', async () => {
    // A third master coming up and going down again (a restart) adds no schedule...
    const restart = new AbortController();
    let up!: () => void;
    const ready = new Promise<void>((r) => { up = r; });
    const third = runMaster(loadConfig({
      DATABASE_URL: m.t.url, TEMPORAL_ADDRESS: m.env.address, LOG_LEVEL: 'silent', SCHEDULER_CRON: QUIET_CRON, ...accounts.env,
    }), { signal: restart.signal, logger: silentLogger, onReady: up });
    await Promise.race([ready, third]);
    restart.abort();
    await third;
    assert.deepEqual(await scheduleIds(), JOB_TYPE_NAMES.map(scheduleId).sort());
    // ...and, with the same settings, leaves the schedules as they are.
    assert.deepEqual(Object.values(await ensureSchedules(m.client, { cron: QUIET_CRON })), ['unchanged', 'unchanged']);
    // Three masters restarting at once with a new cron: every type ends on the new cron.
    // (Schedule updates carry no conflict token, so two may both write the same spec.)
    const outcomes = await Promise.all([1, 2, 3].map(() => ensureSchedules(m.client, { cron: '*/5 * * * *' })));
    for (const type of JOB_TYPE_NAMES) {
      const per = outcomes.map((o) => o[type]);
      assert.ok(per.includes('updated'), `${type}: ${JSON.stringify(per)}`);
      assert.ok(per.every((o) => o === 'updated' || o === 'unchanged'), `${type}: ${JSON.stringify(per)}`);
      const described = await m.client.schedule.getHandle(scheduleId(type)).describe();
      assert.ok(described.info.nextActionTimes.length > 0);
      for (const at of described.info.nextActionTimes) assert.equal(at.getUTCMinutes() % 5, 0, `${type} next action ${at.toISOString()}`);
    }
    assert.deepEqual(Object.values(await ensureSchedules(m.client, { cron: '*/5 * * * *' })), ['unchanged', 'unchanged']);
    // Back to the quiet cron for the tests below.
    const again = await Promise.all([1, 2].map(() => ensureSchedules(m.client, { cron: QUIET_CRON })));
    assert.ok(again.flatMap((o) => Object.values(o)).every((o) => o === 'updated' || o === 'unchanged'));
    assert.deepEqual(await scheduleIds(), JOB_TYPE_NAMES.map(scheduleId).sort());
  });

  test('a schedule trigger (BUFFER_ONE) runs a tick that claims', async () => {
    // Inserted without its NOTIFY (this test database only), so the listener stays asleep
    // and only the triggered schedule run can claim it.
    await m.t.pool.query('ALTER TABLE jobs DISABLE TRIGGER jobs_notify');
    let job;
    try {
      [job] = await m.insert(IMAGE, [{ prompt: 'triggered' }]);
    } finally {
      await m.t.pool.query('ALTER TABLE jobs ENABLE TRIGGER jobs_notify');
    }
    await m.client.schedule.getHandle(scheduleId(IMAGE)).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
    await waitFor('the triggered tick', () => allQueued([job!.id]), 60_000);
    const by = (await claimedBy([job!.id])).get(job!.id)!;
    assert.ok(by.startsWith(`${scheduleId(IMAGE)}-`) && by !== dispatcherWorkflowId(IMAGE), by);
    const described = await m.client.schedule.getHandle(scheduleId(IMAGE)).describe();
    assert.ok(described.info.recentActions.some((a) => a.action.workflow.workflowId === by), 'a run of the schedule');
  });

  test('inserts alone (no tick by hand) are picked up by the listener, each job started exactly once', async () => {
    const inserted: number[] = [];
    for (let i = 0; i < 8; i++) {
      const rows = await m.insert(i % 2 ? IMAGE : VIDEO, Array.from({ length: 10 }, () => (i % 2 ? { prompt: `i${i}` } : GOOD_VIDEO)));
      inserted.push(...rows.map((r) => r.id));
      // And ticks by hand racing the listener's wakes.
      if (i === 3) void m.tick(VIDEO);
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor('every job INQUEUE', () => allQueued(inserted), 60_000);
    const by = await claimedBy(inserted);
    assert.equal(by.size, inserted.length, 'exactly one claim per job');
    const rowsById = new Map((await m.t.db.select().from(jobs).where(inArray(jobs.id, inserted))).map((r) => [r.id, r]));
    for (const [id, scheduler] of by) {
      const type = rowsById.get(id)!.type;
      assert.ok(scheduler === dispatcherWorkflowId(type as typeof VIDEO) || scheduler.startsWith('test-tick-'), `job ${id} claimed by ${scheduler}`);
    }
    const rows = await m.t.db.select().from(jobs).where(inArray(jobs.id, inserted));
    await Promise.all(rows.map(async (row) => {
      const workflowId = jobWorkflowId(row.type, row.id);
      assert.equal(row.workflowId, workflowId);
      const described = await waitFor(`child ${workflowId}`, async () => {
        try { return await m.client.workflow.getHandle(workflowId).describe(); } catch { return undefined; }
      });
      assert.equal(described.status.name, 'RUNNING');
    }));
  });

  test('one insert alone is claimed by the listener\'s direct claim, not by a cron tick', async () => {
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    await waitFor('INQUEUE', () => allQueued([job!.id]), 60_000, 10);
    assert.equal((await claimedBy([job!.id])).get(job!.id), dispatcherWorkflowId(VIDEO));
    const described = await waitFor('the child', async () => {
      try { return await m.client.workflow.getHandle(jobWorkflowId(VIDEO, job!.id)).describe(); } catch { return undefined; }
    });
    assert.equal(described.taskQueue, jobType(VIDEO).slaveTaskQueue);
  });

  test('the listener reconnects after Postgres drops its connection', async () => {
    const killed = await m.t.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND query NOT ILIKE '%${CALLBACKS_CHANNEL}%'`,
    );
    assert.equal(killed.rowCount, 2, 'both masters listen');
    await new Promise((r) => setTimeout(r, 100));
    const [job] = await m.insert(VIDEO, [GOOD_VIDEO]);
    await waitFor('INQUEUE after a reconnect', () => allQueued([job!.id]), 60_000);
    // The cron is quiet: only a listener (its reconnect wake, or the insert's NOTIFY) claims.
    assert.equal((await claimedBy([job!.id])).get(job!.id), dispatcherWorkflowId(VIDEO));
    await waitFor('both listening again', async () => {
      const r = await m.t.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND query NOT ILIKE '%${CALLBACKS_CHANNEL}%'`);
      return r.rowCount === 2;
    });
  });
});
