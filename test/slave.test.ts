import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { toolPath } from '../src/setup/tools';
import { accounts, jobEvents } from '../src/shared/db/schema';
import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from './helpers/stack';

// The slave from the user's side: rows inserted with SQL, real Postgres, the Temporal dev
// server, real Chromium against the simulator; outcomes read back from Postgres.

const VIDEO = 'GROK_VIDEO_GENERATION';
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const run = promisify(execFile);
const HISTORIES = path.join(__dirname, 'fixtures', 'histories');
/** Every string and byte field of a value, as text: protobuf messages hide their bytes from JSON.stringify. */
function textOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string' || typeof v === 'number') out.push(String(v));
  else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
  else if (v instanceof Date) out.push(v.toISOString());
  else if (v && typeof v === 'object') for (const x of Object.values(v)) textOf(x, out);
  return out;
}

describe('slave: jobs from INSERT to COMPLETED or ERROR', () => {
  let s: Stack;
  before(async () => {
    s = await startStack();
  });
  after(async () => {
    await s?.stop();
  });

  test('a row inserted with SQL ends COMPLETED with its file, times, result and events', async () => {
    const post = s.simulator.createPost('default');
    const id = await s.insertJob({ imageUrl: post.url, prompt: 'a red fox running through snow' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(job.progress, 100);
    assert.ok(job.startedAt && job.completedAt && job.completedAt >= job.startedAt);
    assert.ok((job.durationMs ?? -1) >= 0);
    assert.equal(job.workflowId, jobWorkflowId(VIDEO, id));

    const [item] = await s.items(id);
    assert.equal(item?.status, 'COMPLETED');
    const file = fs.readFileSync(item!.filePath!);
    assert.equal(sha256(file), sha256(s.simulator.asset('generated_video.mp4')), 'the downloaded file is the video the simulator served');
    assert.equal(item!.sha256, sha256(file));
    assert.equal(item!.bytes, file.length);
    assert.deepEqual([item!.duration, item!.resolution], ['10s', '720p'], '"max" and the default resolution, as the page showed them chosen');

    const result = job.result as { completed: number; requested: number; files: Array<{ path: string; sha256: string }> };
    assert.equal(result.completed, 1);
    assert.equal(result.requested, 1);
    assert.deepEqual(result.files.map((f) => [f.path, f.sha256]), [[item!.filePath, item!.sha256]]);

    const events = await s.t.db.select().from(jobEvents).where(eq(jobEvents.jobId, id)).orderBy(jobEvents.id);
    assert.deepEqual(events.map((e) => e.toStatus), ['PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED']);

    // Web UI: the workflow carries the search attributes and a memo.
    const described = await s.env.client.workflow.getHandle(job.workflowId!).describe();
    assert.deepEqual(described.searchAttributes.JobId, [id]);
    assert.deepEqual(described.searchAttributes.JobType, [VIDEO]);
    // Naming no account, it ran on one of the pool's: the Web UI's Account says which.
    assert.ok(item!.account && ['default', 'alice', 'bob'].includes(item!.account), String(item!.account));
    assert.deepEqual(described.searchAttributes.Account, [item!.account]);
    assert.match(String((described.memo as { summary?: string }).summary), /1 × video: "a red fox/);

    // The history just recorded replays against the current workflow code.
    const history = await s.env.client.workflow.getHandle(job.workflowId!).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../src/slave/workflows') }, history);

    // Secrets stay out of Temporal and Postgres: no session cookie in the history (inputs,
    // results, heartbeats), the job row or its events.
    const state = JSON.parse(fs.readFileSync(path.join(s.configEnv.ACCOUNTS_DIR!, 'default.json'), 'utf8')) as { cookies: Array<{ value: string }> };
    assert.ok(state.cookies.length > 0);
    const stored = textOf([history, job, events]).join('\n');
    assert.ok(textOf(history).join('\n').includes('1 × video:'), 'the search sees inside payloads (the memo)');
    for (const c of state.cookies) assert.ok(!stored.includes(c.value), 'a session cookie reached the history or the database');
    if (process.env.RECORD_HISTORIES) {
      // How the committed fixture was made: the CLI's JSON, as `temporal workflow show` prints it.
      const { stdout } = await run(toolPath('temporal'), ['workflow', 'show', '--address', s.env.address, '--workflow-id', job.workflowId!, '--output', 'json']);
      fs.writeFileSync(path.join(HISTORIES, 'slave-video-completed.json'), stdout);
    }
  });

  test('an image job: one downloaded image per item, COMPLETED', async () => {
    const id = await s.insertJob({ prompt: 'a lighthouse at dusk', count: 2 }, 'GROK_IMAGE_GENERATION');
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(job.workflowId, jobWorkflowId('GROK_IMAGE_GENERATION', id));
    const items = await s.items(id);
    assert.deepEqual(items.map((i) => i.status), ['COMPLETED', 'COMPLETED']);
    for (const item of items) {
      const file = fs.readFileSync(item.filePath!);
      assert.equal(item.sha256, sha256(file));
      assert.equal(item.bytes, file.length);
      assert.match(file.subarray(0, 3).toString('hex'), /^ffd8ff/, 'a JPEG');
    }
    assert.notEqual(items[0]!.filePath, items[1]!.filePath);
  });

  test('count=3 with #sim:moderate=2: regenerated, COMPLETED, retries recorded', async () => {
    const post = s.simulator.createPost('default');
    // One account: the simulator counts a prompt's tries per account (a pool would spread them).
    const id = await s.insertJob({ imageUrl: post.url, prompt: 'three owls #sim:moderate=2', count: 3, account: 'default' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const items = await s.items(id);
    assert.equal(items.length, 3);
    assert.ok(items.every((i) => i.status === 'COMPLETED'));
    // The first two tries of this prompt are moderated: item 0 regenerates twice, the rest pass.
    assert.deepEqual(items.map((i) => i.moderationRetries), [2, 0, 0]);
    assert.equal((job.result as { moderationRetries: number }).moderationRetries, 2);
    assert.equal(new Set(items.map((i) => i.filePath)).size, 3);
  });

  test('moderated beyond MODERATION_MAX_RETRIES: CONTENT_MODERATED, and the job fails on its threshold', async () => {
    const id = await s.insertJob({ prompt: 'always refused #sim:moderate' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'ERROR');
    assert.match(job.errorMessage ?? '', /0 of 1/);
    const [item] = await s.items(id);
    assert.equal(item?.status, 'CONTENT_MODERATED');
    assert.equal(item?.moderationRetries, s.config.MODERATION_MAX_RETRIES);
  });

  test('#sim:ratelimit on a named account: the cooldown is stored, the job waits for it and completes, using no attempt', async () => {
    const id = await s.insertJob({ prompt: 'a lighthouse #sim:ratelimit', account: 'alice' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [account] = await s.t.db.select().from(accounts).where(eq(accounts.name, 'alice'));
    assert.ok(account?.cooldownUntil, 'cooldown_until was stored');
    const [item] = await s.items(id);
    assert.equal(item?.attempts, 1, 'the rate-limited try is not an attempt');
    assert.equal(item?.account, 'alice', 'a job naming an account keeps to it');
    // The retry came after the cooldown the simulator announced.
    assert.ok(job.completedAt!.getTime() >= account!.cooldownUntil!.getTime());
  });

  test('daily quota: a job that cannot fit ends ERROR with the numbers; one that fits runs', async () => {
    const { rows } = await s.t.pool.query(`SELECT count(*)::int AS used FROM job_items i JOIN jobs j ON j.id = i.job_id
      WHERE coalesce(i.account, j.account) = 'default' AND i.status = 'COMPLETED' AND i.updated_at >= date_trunc('day', now())`);
    const used = rows[0].used as number;
    await s.t.pool.query(`INSERT INTO accounts (name, daily_quota) VALUES ('default', $1)
      ON CONFLICT (name) DO UPDATE SET daily_quota = EXCLUDED.daily_quota`, [used + 1]);
    try {
      const tooBig = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'two of them', count: 2, account: 'default' });
      const refused = await s.waitForJob(tooBig, ['COMPLETED', 'ERROR']);
      assert.equal(refused.status, 'ERROR');
      assert.equal(refused.errorMessage, `account default has 1 of its daily quota of ${used + 1} left; the job needs 2`);
      assert.equal((await s.items(tooBig)).length, 0, 'nothing was generated');

      const fits = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'just one', account: 'default' });
      assert.equal((await s.waitForJob(fits, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
    } finally {
      await s.t.pool.query(`UPDATE accounts SET daily_quota = NULL WHERE name = 'default'`);
    }
  });

  test('#sim:expired: ERROR "account bob needs a new login", recorded on the account', async () => {
    // bob, not default: the simulator logs the account out for good, as Grok would.
    const id = await s.insertJob({ prompt: 'a castle #sim:expired', account: 'bob' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.errorMessage, 'account bob needs a new login');
    const [account] = await s.t.db.select().from(accounts).where(eq(accounts.name, 'bob'));
    assert.ok(account?.lastAuthError);
    assert.doesNotMatch(JSON.stringify(job), /sim_session|cookie/i, 'no session value in the job row');
  });

  test('#sim:netdrop: retried by Temporal, COMPLETED', async () => {
    // One account: the simulator drops a prompt's first try per account (a retry may change account in a pool).
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a waterfall #sim:netdrop', account: 'default' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [item] = await s.items(id);
    assert.equal(item?.attempts, 2);
  });

  test('`temporal workflow terminate` during PROGRESS: ERROR "terminated", no page left open', async () => {
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a long one #sim:slow=120' });
    await s.untilGenerating(id);
    assert.equal(s.generator!.browser.openSessions(), 1);
    await run(toolPath('temporal'), [
      'workflow', 'terminate', '--address', s.env.address, '--workflow-id', jobWorkflowId(VIDEO, id), '--reason', 'operator stop',
    ]);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 30_000);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.errorMessage, 'terminated');
    const [item] = await s.items(id);
    assert.equal(item?.status, 'FAILED');
    assert.equal(s.generator!.browser.openSessions(), 0, 'the browser context of the job was closed');
  });

  test('terminate through the SDK (what tctl sends): ERROR "terminated"', async () => {
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'another long one #sim:slow=120' });
    await s.untilGenerating(id);
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).terminate('stop');
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 30_000);
    assert.equal(job.errorMessage, 'terminated');
    assert.equal(s.generator!.browser.openSessions(), 0);
  });

  test('workflow cancel: ERROR "cancelled", no page left open', async () => {
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'to be cancelled #sim:slow=120' });
    await s.untilGenerating(id);
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).cancel();
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 30_000);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.errorMessage, 'cancelled');
    assert.equal(s.generator!.browser.openSessions(), 0);
  });

  // slave-capacity-claim-busy.json was recorded on ec7a8ba (capacity-claim, before
  // capacity-waits): an item whose reservation ran out asked again every ACCOUNT_BUSY_RETRY_MS
  // while its account was busy; newer workflows wait as a job_waits row instead.
  test('a committed slave history replays against the current workflow code', async () => {
    const files = fs.readdirSync(HISTORIES).filter((f) => f.startsWith('slave-'));
    assert.ok(files.length >= 1, 'at least one recorded slave history');
    for (const f of files) {
      const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, f), 'utf8'));
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../src/slave/workflows') }, history, f);
    }
  });
});
