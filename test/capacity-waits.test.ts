import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { closeBackends, createBackends } from '../src/backends';
import { createLogger } from '../src/shared/logger';
import { waitingReasons } from '../src/shared/jobs/waiting';
import { jobWorkflowId } from '../src/shared/registry';
import type { WaitingItem } from '../src/slave/itemWaits';
import { runSlave } from '../src/slave/worker';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

// Issue 21, "Nothing polls": a running job that needs a slot and every account it may use is
// busy waits as its job_waits row; the master's claim hands it the next free slot, in
// priority-then-age order with PENDING jobs, and signals its workflow. Both such waits, on
// the whole stack (PostgreSQL, Temporal dev server, master, slave, Chromium, the simulator):
// a reservation that ran out before the first item, and a rate limit in the middle of a pool
// job while the pool's other members are busy. ACCOUNT_BUSY_RETRY_MS is the stack's 500 ms:
// the old path would have asked again several times per wait; here the history shows each
// item asked once before its wait and once after it.

const VIDEO = 'GROK_VIDEO_GENERATION';
const { EventType } = temporal.api.enums.v1;

async function history(s: Stack, jobId: number): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, jobId)).fetchHistory()).events ?? [];
}

/** generateItem activities scheduled, durable timers fired and `capacity` signals received by the job's workflow. */
async function counts(s: Stack, jobId: number): Promise<{ generateItem: number; timersFired: number; capacitySignals: number }> {
  const events = await history(s, jobId);
  return {
    generateItem: events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
      && e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateItem').length,
    timersFired: events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED).length,
    capacitySignals: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
      && e.workflowExecutionSignaledEventAttributes?.signalName === 'capacity').length,
  };
}

/** A slave in this process, started when the test says (the stack's own is off). */
async function startSlave(s: Stack): Promise<() => Promise<void>> {
  const logger = createLogger(s.config);
  const backends = createBackends(s.config, { logger });
  const stop = new AbortController();
  let ready!: () => void;
  const up = new Promise<void>((r) => (ready = r));
  const running = runSlave(s.config, { signal: stop.signal, logger, connection: s.env.nativeConnection, backends, onReady: () => ready() });
  await Promise.race([up, running]);
  return async () => {
    stop.abort();
    await running.catch(() => undefined);
    await closeBackends(backends);
  };
}

const block = (s: Stack, account: string) => s.t.pool.query(
  `INSERT INTO accounts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING;`, [account],
).then(() => s.t.pool.query(`INSERT INTO account_leases (account, holder, expires_at) VALUES ($1, 'blocker', now() + interval '1 hour')`, [account]));

/** The job's history, as just recorded, replays against the current workflow code (row waits included). */
async function replays(s: Stack, jobId: number): Promise<void> {
  const h = await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, jobId)).fetchHistory();
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../src/slave/workflows') }, h);
}

async function inqueueAt(s: Stack, jobId: number): Promise<Date> {
  const { rows } = await s.t.pool.query(`SELECT at FROM job_events WHERE job_id = $1 AND to_status = 'INQUEUE'`, [jobId]);
  return rows[0].at as Date;
}

async function leftBehind(s: Stack, ids: number[]): Promise<{ leases: number; waits: number }> {
  const { rows } = await s.t.pool.query(
    `SELECT (SELECT count(*)::int FROM account_leases WHERE job_id = ANY($1)) AS leases, (SELECT count(*)::int FROM job_waits) AS waits`, [ids],
  );
  return rows[0];
}

describe('running jobs with no slot wait as rows, the claim hands them one', () => {
  let s: Stack | undefined;
  let stopSlave: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stopSlave?.();
    stopSlave = undefined;
    await s?.stop();
    s = undefined;
  });

  test('a reservation that ran out before the first item, its account busy: the job waits as a row, no asking again; the freed slot goes to it before a younger PENDING job', async () => {
    s = await startStack({ slave: false, env: { ACCOUNT_CONCURRENCY: '1' }, simulator: { generationMs: 800 } });
    const post = s.simulator.createPost('default');
    const x = await s.insertJob({ imageUrl: post.url, prompt: 'its reservation ran out', account: 'default' });
    await s.waitForJob(x, ['INQUEUE']);
    const handle = s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, x));
    await waitFor('the job\'s workflow to start', () => handle.describe().then(() => true, () => false), 20_000);
    // No slave yet: the reservation runs out, and someone else takes the account's one slot.
    await s.t.pool.query(`UPDATE account_leases SET expires_at = clock_timestamp() - interval '1 second' WHERE holder = $1`, [`job/${x}`]);
    await block(s, 'default');
    const y = await s.insertJob({ imageUrl: post.url, prompt: 'younger, PENDING', account: 'default' });

    stopSlave = await startSlave(s);
    await waitFor('the job to wait as a row', async () => (await s!.t.pool.query('SELECT 1 FROM job_waits WHERE job_id = $1', [x])).rowCount === 1, 60_000);
    const [jobX, jobY] = await Promise.all([s.waitForJob(x, ['PROGRESS']), s.waitForJob(y, ['PENDING'])]);
    const said = await waitingReasons(s.t.db, s.config, [jobX, jobY]);
    assert.match(said.get(x) ?? '', /^waiting: account default, 1 of 1 slots busy; running, its next item waits for the slot the master hands it$/);
    assert.match(said.get(y) ?? '', /^waiting: account default, 1 of 1 slots busy$/);
    const query = await waitFor('the workflow\'s query `waiting`', async () => {
      const q = await handle.query<WaitingItem[]>('waiting');
      return q.length > 0 && q;
    }, 10_000);
    assert.deepEqual(query.map((w) => ({ index: w.index, account: w.account, asRow: w.asRow })), [{ index: 0, account: 'default', asRow: true }]);
    // Five ACCOUNT_BUSY_RETRY_MS: the path before job_waits would have asked five more times.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await counts(s, x)).generateItem, 1, 'the waiting item asked once');
    assert.equal(await s.t.pool.query(`SELECT status FROM jobs WHERE id = $1`, [y]).then((r) => r.rows[0].status), 'PENDING');

    await s.t.pool.query(`DELETE FROM account_leases WHERE holder = 'blocker'`);
    const doneX = await s.waitForJob(x, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(doneX.status, 'COMPLETED', doneX.errorMessage ?? '');
    const doneY = await s.waitForJob(y, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(doneY.status, 'COMPLETED', doneY.errorMessage ?? '');
    assert.ok((await inqueueAt(s, y)).getTime() >= doneX.completedAt!.getTime(), 'the younger PENDING job got the slot only once the waiting job was done with it');
    assert.deepEqual(await counts(s, x), { generateItem: 2, timersFired: 0, capacitySignals: 1 }, 'one ask before the wait, one after the signal, no timer');
    await replays(s, x);
    assert.deepEqual(await leftBehind(s, [x, y]), { leases: 0, waits: 0 });
  });

  test('a rate limit in the middle of a pool job while the other members are busy: the slot is released, the job waits as a row and gets the account back when its cooldown ends', async () => {
    s = await startStack({
      env: { ACCOUNT_CONCURRENCY: '1', RATE_LIMIT_COOLDOWN_MS: '4000' },
      simulator: { generationMs: 600, cooldownMs: 4000 },
    });
    await block(s, 'alice');
    await block(s, 'bob');
    const post = s.simulator.createPost('default');
    const x = await s.insertJob({ imageUrl: post.url, prompts: ['a calm lake', '#sim:ratelimit a stormy lake'] });
    await waitFor('the rate-limited job to wait as a row', async () => (await s!.t.pool.query('SELECT 1 FROM job_waits WHERE job_id = $1', [x])).rowCount === 1, 120_000);
    // It holds nothing while it waits: the rate-limited account's slot went back.
    assert.equal((await s.t.pool.query('SELECT count(*)::int AS n FROM account_leases WHERE job_id = $1', [x])).rows[0].n, 0);
    const { rows: [cooling] } = await s.t.pool.query(`SELECT cooldown_until FROM accounts WHERE name = 'default'`);
    assert.ok(cooling.cooldown_until, 'the account cools down');
    const y = await s.insertJob({ imageUrl: post.url, prompt: 'younger, PENDING' });
    const jobX = await s.waitForJob(x, ['PROGRESS']);
    assert.match((await waitingReasons(s.t.db, s.config, [jobX])).get(x) ?? '', /^waiting: pool default, 2 of 3 slots busy; next cooldown ends \d\d:\d\d; running, its next item waits/);

    const doneX = await s.waitForJob(x, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(doneX.status, 'COMPLETED', doneX.errorMessage ?? '');
    assert.deepEqual((await s.items(x)).map((i) => [i.status, i.account, i.attempts]), [['COMPLETED', 'default', 1], ['COMPLETED', 'default', 1]]);
    const { rows: [granted] } = await s.t.pool.query(`SELECT cooldown_until FROM accounts WHERE name = 'default'`);
    assert.ok(!granted.cooldown_until || doneX.completedAt! >= granted.cooldown_until, 'the item ran again after the cooldown');
    const doneY = await s.waitForJob(y, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(doneY.status, 'COMPLETED', doneY.errorMessage ?? '');
    assert.ok((await inqueueAt(s, y)).getTime() >= doneX.completedAt!.getTime(), 'the freed account went to the waiting job first');
    // Item 0, item 1 rate limited (the gate then answered "wait as a row"), item 1 again after the signal.
    assert.deepEqual(await counts(s, x), { generateItem: 3, timersFired: 0, capacitySignals: 1 });
    await replays(s, x);
    assert.deepEqual(await leftBehind(s, [x, y]), { leases: 0, waits: 0 });
  });
});
