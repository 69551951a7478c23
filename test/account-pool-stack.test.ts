import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, afterEach, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { jobWorkflowId } from '../src/shared/registry';
import { acquireSlot } from '../src/slave/accounts/slots';
import { startCooldown } from '../src/slave/accounts/state';
import type { WaitingItem } from '../src/slave/itemWaits';
import { runCli } from './helpers/cli';
import { startSlaveProcess, untilLogged } from './helpers/slaveProcess';
import { startStack, type Stack } from './helpers/stack';
import { pollUntil, waitFor } from './helpers/wait';

// Accounts as a pool on the whole stack (PostgreSQL, Temporal dev server, master, slaves,
// Chromium, the simulator with three signed-in users: default, alice, bob). Jobs name no
// account: each item takes a slot on a ready account of the default pool.

const VIDEO = 'GROK_VIDEO_GENERATION';
const { EventType } = temporal.api.enums.v1;
const ACCOUNTS = ['default', 'alice', 'bob'];

/** Every event of a job's workflow history. */
async function history(s: Stack, jobId: number): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const h = await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, jobId)).fetchHistory();
  return h.events ?? [];
}

/** How many times any generateItem of the job was retried by Temporal (attempt > 1). */
async function retriedAttempts(s: Stack, jobId: number): Promise<number> {
  return (await history(s, jobId)).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length;
}

/**
 * The longest durable timer the job's workflow slept through (started and fired), in ms (0:
 * none). A job waiting as a row bounds its wait by a timer until its deadline that the claim's
 * signal cancels: started, never fired, so not a sleep.
 */
async function longestTimerMs(s: Stack, jobId: number): Promise<number> {
  const events = await history(s, jobId);
  const fired = new Set(events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED).map((e) => e.timerFiredEventAttributes?.timerId));
  const timers = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED && fired.has(e.timerStartedEventAttributes?.timerId));
  return Math.max(0, ...timers.map((e) => {
    const d = e.timerStartedEventAttributes?.startToFireTimeout;
    return Number(d?.seconds ?? 0) * 1000 + Math.floor((d?.nanos ?? 0) / 1e6);
  }));
}

/** Peak of generations running at once per account, from the simulator's own log. */
function peaks(s: Stack): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of s.simulator.sessionLog) out[l.user] = Math.max(out[l.user] ?? 0, l.running);
  return out;
}

describe('accounts as a pool, on the whole stack', () => {
  let s: Stack | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await s?.stop();
    s = undefined;
  });
  after(async () => {
    await s?.stop();
  });

  test('12 one-video jobs over 3 accounts, one rate limited for 10 minutes: all 12 COMPLETED on the other two, none waited for it', async () => {
    s = await startStack({ env: { ACCOUNT_CONCURRENCY: '2', SLAVE_CONCURRENT_ACTIVITIES: '6' }, simulator: { generationMs: 1500 } });
    s.simulator.rateLimit('bob', 10 * 60_000);
    const post = s.simulator.createPost('default');
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => s!.insertJob({ imageUrl: post.url, prompt: `a pool of twelve, ${i}` })));
    for (const id of ids) {
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 240_000);
      assert.equal(job.status, 'COMPLETED', `job ${id}: ${job.errorMessage}`);
    }
    const { rows: items } = await s.t.pool.query<{ job_id: string; account: string; attempts: number }>(
      `SELECT job_id, account, attempts FROM job_items WHERE job_id = ANY($1::bigint[])`, [ids]);
    assert.equal(items.length, 12);
    assert.deepEqual([...new Set(items.map((i) => i.account))].sort(), ['alice', 'default'], 'every item ran on alice or default');
    assert.deepEqual(items.map((i) => i.attempts), Array(12).fill(1), 'a rate-limited try used no attempt');
    // Grokflow learned bob's cooldown from Grok's answer (one item tried it and moved on).
    const { rows: [bob] } = await s.t.pool.query(`SELECT cooldown_until > now() + interval '5 minutes' AS cooling, last_error FROM accounts WHERE name = 'bob'`);
    assert.equal(bob?.cooling, true, 'bob is known to cool down');
    assert.match(bob?.last_error ?? '', /rate limit/i);
    for (const id of ids) {
      assert.equal(await retriedAttempts(s, id), 0, `job ${id}: no Temporal retry`);
      assert.ok(await longestTimerMs(s, id) < 60_000, `job ${id} never slept for bob's cooldown`);
    }
    assert.equal(s.simulator.generations.filter((g) => g.user === 'bob').length, 0, 'no generation ran on bob');
  });

  test('every account rate limited for a few seconds: the jobs wait (no browser, `jobs list` and the query say so), then complete with attempts unchanged', async () => {
    s = await startStack({ env: { ACCOUNT_CONCURRENCY: '2' }, simulator: { generationMs: 800 } });
    // Long enough to outlast the first Chromium launch, the three tries that find it out and
    // a `jobs list` run (a CLI start takes seconds on a loaded machine).
    for (const a of ACCOUNTS) s.simulator.rateLimit(a, 45_000);
    const post = s.simulator.createPost('default');
    const ids = [await s.insertJob({ imageUrl: post.url, prompt: 'after the cooldown, one' }), await s.insertJob({ imageUrl: post.url, prompt: 'after the cooldown, two' })];

    // While the whole pool cools down the job says so, and no browser page is open on the simulator.
    const waiting = await waitFor('the job to say the whole pool is rate limited', async () => {
      const { rows } = await s!.t.pool.query(`SELECT progress_message FROM jobs WHERE id = $1`, [ids[0]]);
      const message: string = rows[0]?.progress_message ?? '';
      return /every account of pool default is rate limited/.test(message) && message;
    }, 30_000);
    assert.match(waiting, /^waiting: every account of pool default is rate limited; account (default|alice|bob) is rate limited until \d{4}-/);
    assert.equal(s.simulator.openStreams(), 0, 'no generation open while the pool cools down');
    const handle = s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, ids[0]!));
    const [list, query, described] = await Promise.all([runCli(['jobs', 'list'], { env: s.configEnv }), handle.query<WaitingItem[]>('waiting'), handle.describe()]);
    assert.match(list.stdout, /waiting: every account/, list.all);
    assert.equal(query.length, 1, JSON.stringify(query));
    assert.ok(ACCOUNTS.includes(query[0]!.account) && query[0]!.reason === 'cooling' && Date.parse(query[0]!.until ?? '') > Date.now() - 10_000, JSON.stringify(query));
    // The memo follows once the workflow has taken the activity's answer (a workflow task later).
    const memo = (described.memo as { waiting?: string } | undefined)?.waiting ? described.memo as { waiting?: string }
      : await waitFor('the memo `waiting`', async () => {
        const m = ((await handle.describe()).memo ?? {}) as { waiting?: string };
        return m.waiting ? m : undefined;
      }, 10_000, 100);
    assert.match(memo.waiting ?? '', /^item 0: every account of pool default is rate limited/);

    for (const id of ids) {
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
      assert.equal(job.status, 'COMPLETED', `job ${id}: ${job.errorMessage}`);
      assert.equal(await retriedAttempts(s, id), 0, `job ${id}: the cooldown used no Temporal attempt`);
      assert.deepEqual((await s.items(id)).map((i) => i.attempts), [1], 'nor an item attempt');
      const memoAfter = (await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).describe()).memo as { waiting?: string };
      assert.equal(memoAfter.waiting, undefined, 'the memo no longer says waiting');
    }
  });

  test('a job whose deadline passes before any account frees up ends ERROR naming the deadline', async () => {
    s = await startStack({ simulator: { generationMs: 500 } });
    for (const a of ACCOUNTS) await startCooldown(s.t.db, a, 10 * 60_000, 'Rate limit reached');
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'too late', deadlineMinutes: 1 });
    // It waits as a row (no account can take it), until a cron tick finds its deadline passed.
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 200_000);
    assert.equal(job.status, 'ERROR');
    assert.match(job.errorMessage ?? '', /^no account could take the job before its deadline \d{4}-.* \(deadlineMinutes 1\)$/);
    const events = await s.t.pool.query(`SELECT from_status, to_status FROM job_events WHERE job_id = $1 ORDER BY id`, [id]);
    assert.deepEqual(events.rows.map((e) => `${e.from_status}>${e.to_status}`), ['null>PENDING', 'PENDING>ERROR'], 'never claimed');
    assert.equal(s.simulator.generations.length, 0, 'nothing was generated');
  });

  test('concurrency 1 per account with 2 slaves: never two generations on one account at once (the simulator\'s log)', async () => {
    s = await startStack({ env: { ACCOUNT_CONCURRENCY: '1', SLAVE_CONCURRENT_ACTIVITIES: '4' }, simulator: { generationMs: 1500 } });
    const other = startSlaveProcess(s.configEnv, { ACCOUNT_CONCURRENCY: '1', SLAVE_CONCURRENT_ACTIVITIES: '4' }, children);
    await other.ready;
    const post = s.simulator.createPost('default');
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => s!.insertJob({ imageUrl: post.url, prompt: `one at a time, ${i}` })));
    for (const id of ids) {
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 240_000);
      assert.equal(job.status, 'COMPLETED', `job ${id}: ${job.errorMessage}`);
    }
    const peak = peaks(s);
    assert.deepEqual(Object.keys(peak).sort(), [...ACCOUNTS].sort(), 'all three accounts worked');
    for (const a of ACCOUNTS) assert.equal(peak[a], 1, `account ${a} ran ${peak[a]} generations at once: ${JSON.stringify(peak)}`);
    // The test means something only if the accounts ran side by side and both slaves took part.
    const starts = s.simulator.generations.map((g) => [g.startedAt, g.startedAt + g.durationMs] as const);
    assert.ok(starts.some(([a0, a1], i) => starts.some(([b0], j) => i !== j && b0 >= a0 && b0 < a1)), 'generations overlapped across accounts');
    assert.match(other.output(), /"item completed"/, 'the second slave generated too');
  });

  test('kill -9 of a slave holding an account\'s slot: the slot is free again within the heartbeat timeout', async () => {
    s = await startStack({ slave: false, env: { ACCOUNT_CONCURRENCY: '1' }, activityTimeouts: { heartbeat: '4 seconds' } });
    const slave = startSlaveProcess(s.configEnv, {}, children);
    await slave.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('alice').url, prompt: 'held then dropped #sim:slow=120', account: 'alice' });
    await s.untilGenerating(id);
    await untilLogged(slave, '"account":"alice"');
    const probe = { holder: 'test-probe' };
    assert.equal((await acquireSlot(s.t.db, s.config, 'alice', probe, 1000)).kind, 'busy', 'the running generation holds alice\'s only slot');
    slave.child.kill('SIGKILL');
    await slave.exited;
    const freed = await pollUntil(async () => (await acquireSlot(s!.t.db, s!.config, 'alice', probe, 1000)).kind === 'acquired', 4000 + 1500, 200);
    assert.ok(freed, 'alice\'s slot is free again within the 4 s heartbeat timeout (plus one renewal tick)');
  });
});
