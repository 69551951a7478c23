import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { usdToTicks } from '../src/backends/api/cost';
import { parseToken } from '../src/backends/api/token';
import { accounts, jobs } from '../src/shared/db/schema';
import { jobWorkflowId } from '../src/shared/registry';
import { jobEstimate, setApiBudget } from '../src/slave/accounts/budget';
import { readJob } from '../src/slave/plan';
import { loadConfig, projectPath } from '../src/shared/config';
import { runCli, show } from './helpers/cli';
import { startSlaveProcess } from './helpers/slaveProcess';
import { startStack, type Stack } from './helpers/stack';

// The API backend on the real stack: Postgres, a Temporal dev server, master and slave, the
// simulator's stand-in of xAI's API reached over HTTP by the real client (no XAI_API_KEY:
// the stand-in, as `npm start` runs it). Jobs go in as SQL rows and end as rows.

const VIDEO = 'GROK_VIDEO_GENERATION';
const IMAGE = 'GROK_IMAGE_GENERATION';
const SECOND = usdToTicks(0.05);
/** A second of grok-imagine-video at 720p (XAI_VIDEO_PRICES' default). */
const SECOND_720P = usdToTicks(0.07);
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the API backend, end to end', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ env: { XAI_POLL_INTERVAL_MS: '100', MODERATION_MAX_RETRIES: '1' } });
  });
  after(async () => s?.stop());

  const jobRow = async (id: number) => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;

  test('a video job COMPLETED: files, exact cost per item and in total, one submission per item', async () => {
    const id = await s.insertJob({ prompts: ['api: a fox in snow', 'api: a fox on ice'], duration: '6s', resolution: '720p', backend: 'api' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(job.backend, 'api');
    assert.equal(job.account, 'xai', 'XAI_ACCOUNT: the api account of a job that names none');
    assert.equal(job.costTicks, 2 * 6 * SECOND_720P, 'the job\'s total at 720p\'s price: the sum of its items\', exact');
    const items = await s.items(id);
    for (const item of items) {
      assert.equal(item.status, 'COMPLETED');
      assert.equal(item.costTicks, 6 * SECOND_720P);
      assert.equal(item.duration, '6s');
      assert.equal(item.resolution, '720p');
      assert.equal(item.sha256, sha(s.simulator.asset('generated_video.mp4')));
      assert.equal(sha(fs.readFileSync(item.filePath!)), item.sha256);
      const token = parseToken(item.backendToken);
      assert.equal(token.requests.length, 1);
      assert.deepEqual([token.requests[0]!.kind, token.requests[0]!.end, token.requests[0]!.costTicks], ['generation', 'done', 6 * SECOND_720P]);
      assert.equal(s.simulator.xai.accepted(item.prompt!).length, 1, `one submission for "${item.prompt}"`);
      assert.equal(s.simulator.xai.accepted(item.prompt!)[0]!.requestId, token.requests[0]!.id);
    }
    const [account] = await s.t.db.select().from(accounts).where(eq(accounts.name, 'xai'));
    assert.equal(account?.kind, 'api');
  });

  test('the CLI: the api account with its budget and spending, a job\'s cost; a bad budget is exit 2', async () => {
    const cli = (...args: string[]) => runCli(args, { env: s.configEnv });
    const set = await cli('accounts', 'set', 'xai', '--daily-budget', '20');
    assert.equal(set.code, 0, show(set));
    assert.match(set.stdout, /account xai is an api account, daily budget \$20/);
    const view = JSON.parse((await cli('accounts', 'list', '--json')).stdout) as Array<{ name: string; kind: string; dailyBudgetTicks: number; spentTodayTicks: number; budgetLeftTicks: number }>;
    const xai = view.find((a) => a.name === 'xai');
    assert.deepEqual(xai && [xai.kind, xai.dailyBudgetTicks, xai.spentTodayTicks, xai.budgetLeftTicks], ['api', usdToTicks(20), 12 * SECOND_720P, usdToTicks(20) - 12 * SECOND_720P]);
    const table = (await cli('accounts', 'list')).stdout.split('\n').find((l) => l.includes('│ xai'));
    assert.match(table ?? '', /│ api\s+│ default\s+│ XAI_API_KEY .*│ \$19\.16\/\$20\.00\s+│ \$0\.84/);
    const [first] = await s.t.db.select().from(jobs).where(eq(jobs.backend, 'api')).orderBy(jobs.id).limit(1);
    const shown = await cli('jobs', 'show', String(first!.id));
    assert.match(shown.stdout, /^cost {7}\$0\.84$/m);
    assert.match(shown.stdout, /COMPLETED .*│ \$0\.42/);
    // `jobs add --backend api` naming no account: the row records the api account it will spend from.
    const added = await cli('jobs', 'add', '-p', 'api: from the cli', '--duration', '6s', '--backend', 'api', '--json');
    assert.equal(added.code, 0, show(added));
    const fromCli = JSON.parse(added.stdout) as { id: number; payload: { backend: string } };
    assert.equal(fromCli.payload.backend, 'api');
    assert.equal((await jobRow(fromCli.id)).account, 'xai');
    assert.equal((await s.waitForJob(fromCli.id, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
    const bad = await cli('accounts', 'set', 'xai', '--daily-budget', 'lots');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--daily-budget must be an amount in USD such as 20 or 2\.50, or "none", got "lots"/);
  });

  test('an image job COMPLETED: one image per item from one call of n, its cost the published price', async () => {
    const id = await s.insertJob({ prompt: 'api: a lighthouse at dusk', count: 2, backend: 'api' }, IMAGE);
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(job.costTicks, 2 * usdToTicks(0.02));
    for (const item of await s.items(id)) {
      assert.equal(item.status, 'COMPLETED');
      assert.equal(item.costTicks, usdToTicks(0.02));
      assert.equal(item.sha256, sha(s.simulator.asset('image.jpg')));
    }
    assert.equal(s.simulator.xai.accepted('api: a lighthouse at dusk', 'images/generations').length, 1, 'two images: one call with n 2');
  });

  test('a 20-image job makes 2 calls of 10 (xAI\'s n limit), every item COMPLETED at its share of the cost', async () => {
    const id = await s.insertJob({ prompt: 'api: twenty stars', count: 20, resolution: '2k', backend: 'api' }, IMAGE);
    // 20 activities started at XAI_REQUESTS_PER_SECOND=1 (the queue's limit counts activities, not calls).
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 240_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(s.simulator.xai.accepted('api: twenty stars', 'images/generations').length, 2);
    const items = await s.items(id);
    assert.equal(items.filter((i) => i.status === 'COMPLETED').length, 20);
    assert.equal(new Set(items.map((i) => parseToken(i.backendToken).requests[0]!.urls![0])).size, 20, 'each item its own image');
    assert.equal(job.costTicks, 20 * usdToTicks(0.02));
  });

  test('extend: a generation, then an extension to the length asked; both paid for', async () => {
    const id = await s.insertJob({ prompt: 'api: a long river', duration: '10s', extend: 18, backend: 'api' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [item] = await s.items(id);
    assert.equal(item!.duration, '18s');
    assert.equal(item!.costTicks, 18 * SECOND);
    assert.deepEqual(parseToken(item!.backendToken).requests.map((r) => r.kind), ['generation', 'extension']);
    assert.equal(s.simulator.xai.accepted('api: a long river', 'videos/extensions').length, 1);
  });

  test('moderation (respect_moderation false): regenerated, every try paid for; past the retries CONTENT_MODERATED', async () => {
    const once = await s.insertJob({ prompt: 'api: borderline #sim:moderate=1', duration: '6s', backend: 'api' });
    const always = await s.insertJob({ prompt: 'api: forbidden #sim:moderate', duration: '6s', backend: 'api', minSuccessful: 0 });
    const a = await s.waitForJob(once, ['COMPLETED', 'ERROR']);
    assert.equal(a.status, 'COMPLETED', a.errorMessage ?? '');
    const [aItem] = await s.items(once);
    assert.equal(aItem!.moderationRetries, 1);
    assert.equal(aItem!.costTicks, 2 * 6 * SECOND, 'the moderated try was charged too');
    assert.deepEqual(parseToken(aItem!.backendToken).requests.map((r) => r.end), ['moderated', 'done']);

    const b = await s.waitForJob(always, ['COMPLETED', 'ERROR']);
    const [bItem] = await s.items(always);
    assert.equal(bItem!.status, 'CONTENT_MODERATED');
    assert.match(bItem!.error ?? '', /xAI moderated the video \(respect_moderation: false/);
    assert.equal(s.simulator.xai.accepted('api: forbidden').length, 2, 'MODERATION_MAX_RETRIES=1: two tries');
    assert.equal(b.costTicks, 2 * 6 * SECOND);
  });

  test('429: the account cools down for Retry-After, then the item completes', async () => {
    const id = await s.insertJob({ prompt: 'api: busy hour #sim:ratelimit=1', duration: '6s', backend: 'api' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.deepEqual(s.simulator.xai.submissions.filter((x) => x.prompt === 'api: busy hour').map((x) => x.status), [429, 200]);
    const [item] = await s.items(id);
    // A rate limit is not a fault (the account pool): the try went back through the account gate, no attempt used.
    assert.equal(item!.attempts, 1, 'the rate-limited try counts for nothing; the one after the cooldown is the attempt');
  });

  test('expired and failed requests fail the item with xAI\'s word, and are not submitted again', async () => {
    const id = await s.insertJob({ prompts: ['api: too late #sim:expired', 'api: broken #sim:failed', 'api: fine'], duration: '6s', backend: 'api', minSuccessful: 1 });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [expired, failed, fine] = await s.items(id);
    assert.equal(expired!.status, 'FAILED');
    assert.match(expired!.error ?? '', /xAI let request [0-9a-f-]{36} expire/);
    assert.equal(failed!.status, 'FAILED');
    assert.match(failed!.error ?? '', /^xAI: generation_failed: Video generation failed \(request [0-9a-f-]{36}\)$/, 'xAI\'s code and message on the item');
    assert.deepEqual(parseToken(failed!.backendToken).requests[0]!.error, { code: 'generation_failed', message: 'Video generation failed' });
    assert.equal(fine!.status, 'COMPLETED');
    assert.equal(s.simulator.xai.accepted('api: too late').length, 1);
    assert.equal(s.simulator.xai.accepted('api: broken').length, 1);
  });

  test('a budget too small for the estimate: ERROR before anything is submitted, with the numbers', async () => {
    await setApiBudget(s.t.db, 'small-key', usdToTicks(0.5));
    const id = await s.insertJob({ prompts: ['api: budget one', 'api: budget two'], duration: '6s', backend: 'api', account: 'small-key' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.errorMessage, 'account small-key has $0.50 left of its daily budget of $0.50 ($0.00 spent today); the job is estimated at $0.60 (2 video(s) × 6 s of grok-imagine-video at 480p, $0.05/s)');
    assert.equal(s.simulator.xai.accepted('api: budget one').length, 0);
  });

  test('the budget spent mid-run: no further item is started', async () => {
    // Fits the estimate ($0.60), but the first item is moderated once and costs $0.60 alone.
    await setApiBudget(s.t.db, 'tight-key', usdToTicks(0.6));
    const id = await s.insertJob({ prompts: ['api: pricey #sim:moderate=1', 'api: never started'], duration: '6s', backend: 'api', account: 'tight-key' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.errorMessage, 'account tight-key has spent its daily budget of $0.60 ($0.60 today); no further item is started');
    const [first, second] = await s.items(id);
    assert.equal(first!.status, 'COMPLETED');
    assert.equal(second!.status, 'FAILED');
    assert.equal(s.simulator.xai.accepted('api: never started').length, 0);
    assert.equal(job.costTicks, 12 * SECOND);
  });

  test('a browser account\'s name for an API job is refused, naming the fix', async () => {
    await s.t.db.insert(accounts).values({ name: 'alice', kind: 'browser' }).onConflictDoNothing();
    const id = await s.insertJob({ prompt: 'api: wrong account', backend: 'api', account: 'alice' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'ERROR');
    assert.match(job.errorMessage ?? '', /account alice is a Grok login .*an API job needs an api account/);
  });

  test('the key rejected (401): ERROR "API key rejected", the key in no row', async () => {
    const key = s.simulator.xai.apiKey;
    s.simulator.xai.revokeKey(key);
    try {
      const id = await s.insertJob({ prompt: 'api: after revocation', backend: 'api' });
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
      assert.equal(job.status, 'ERROR');
      assert.match(job.errorMessage ?? '', /^API key rejected \(HTTP 401: Incorrect API key provided: \[redacted\]/);
      const [account] = await s.t.db.select().from(accounts).where(eq(accounts.name, 'xai'));
      assert.match(account?.lastAuthError ?? '', /^API key rejected/);
      const dump = JSON.stringify([await jobRow(id), await s.items(id), account]);
      assert.ok(!dump.includes(key), 'the key is nowhere in the rows');
    } finally {
      s.simulator.xai.keys.add(key);
    }
  });

  test('terminate while polling: ERROR "terminated", nothing submitted after it', async () => {
    const id = await s.insertJob({ prompts: ['api: endless #sim:slow=60', 'api: second of the terminated'], duration: '6s', backend: 'api' });
    await until('the first request saved on its row', async () => (await s.items(id))[0]?.backendToken ?? undefined);
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).terminate('operator stop');
    const stoppedAt = Date.now();
    const job = await s.waitForJob(id, ['ERROR']);
    assert.equal(job.errorMessage, 'terminated');
    await sleep(2000);
    assert.equal(s.simulator.xai.accepted('api: second of the terminated').length, 0);
    assert.equal(s.simulator.xai.submissions.filter((x) => x.at > stoppedAt && x.prompt.startsWith('api: ')).length, 0, 'no submission after the terminate');
  });

  test('a 25 s chain: one 15 s generation and one 10 s extension, COMPLETED and billed 25 s', async () => {
    const id = await s.insertJob({ prompt: 'api: a 25 s chain', duration: '6s', extend: 25, backend: 'api' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [item] = await s.items(id);
    assert.equal(item!.duration, '25s');
    assert.deepEqual(parseToken(item!.backendToken).requests.map((r) => r.kind), ['generation', 'extension']);
    const asked = [...s.simulator.xai.requests.values()].filter((r) => r.prompt === 'api: a 25 s chain').map((r) => [r.endpoint, r.duration]);
    assert.deepEqual(asked, [['videos/generations', 15], ['videos/extensions', 10]]);
    assert.equal(item!.costTicks, 25 * SECOND);
  });

  test('extend: 30 and an extension of grok-imagine-video-1.5 are refused before any request, naming the limit', async () => {
    const long = await s.insertJob({ prompt: 'api: thirty seconds', extend: 30, backend: 'api' });
    const onePointFive = await s.insertJob({ prompt: 'api: 1.5 extended', model: 'grok-imagine-video-1.5', extend: 12, backend: 'api' });
    const a = await s.waitForJob(long, ['ERROR', 'COMPLETED']);
    assert.equal(a.status, 'ERROR');
    assert.match(a.errorMessage ?? '', /payload\.extend: 30 s is longer than the API makes: at most 25 s/);
    const b = await s.waitForJob(onePointFive, ['ERROR', 'COMPLETED']);
    assert.equal(b.status, 'ERROR');
    assert.match(b.errorMessage ?? '', /payload\.extend: grok-imagine-video-1\.5 does not extend videos/);
    assert.equal(s.simulator.xai.submissions.filter((x) => x.prompt === 'api: thirty seconds' || x.prompt === 'api: 1.5 extended').length, 0);
  });

  test('720p and 1080p (grok-imagine-video-1.5): the estimate and the recorded cost are the table\'s', async () => {
    const config = loadConfig({});
    const cases = [
      { payload: { prompt: 'api: at 720p', duration: '6s', resolution: '720p', backend: 'api' }, usd: 0.07, model: 'grok-imagine-video' },
      { payload: { prompt: 'api: at 1080p', duration: '6s', resolution: '1080p', model: 'grok-imagine-video-1.5', backend: 'api' }, usd: 0.2, model: 'grok-imagine-video-1.5' },
    ];
    for (const c of cases) {
      const id = await s.insertJob(c.payload);
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
      assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
      const { plan } = readJob(job, config);
      assert.equal(jobEstimate(plan.item!, 1, config).ticks, 6 * usdToTicks(c.usd), `${c.payload.resolution}: the estimate`);
      assert.equal(job.costTicks, 6 * usdToTicks(c.usd), `${c.payload.resolution}: the cost xAI reported`);
      const [item] = await s.items(id);
      assert.equal(item!.resolution, c.payload.resolution);
      const r = [...s.simulator.xai.requests.values()].find((x) => x.prompt === c.payload.prompt)!;
      assert.deepEqual([r.model, r.resolution], [c.model, c.payload.resolution]);
    }
  });

  test('reference images and an edit of a file complete', async (t) => {
    const refs = await s.insertJob({ prompt: 'api: from references', duration: '6s', referenceImages: ['https://example.com/a.jpg', 'https://example.com/b.jpg'], backend: 'api' });
    // A file a payload names must lie inside IMAGES_DIR.
    const imagesDir = projectPath(loadConfig({}).IMAGES_DIR);
    fs.mkdirSync(imagesDir, { recursive: true });
    const file = path.join(imagesDir, `grokflow-edit-${process.pid}.mp4`);
    fs.writeFileSync(file, s.simulator.asset('generated_video.mp4'));
    t.after(() => fs.rmSync(file, { force: true }));
    const edit = await s.insertJob({ prompt: 'api: make it night', editOf: { file }, backend: 'api' });
    for (const id of [refs, edit]) {
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR']);
      assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    }
    assert.equal([...s.simulator.xai.requests.values()].find((r) => r.prompt === 'api: from references')?.references, 2);
    const edited = [...s.simulator.xai.requests.values()].find((r) => r.prompt === 'api: make it night')!;
    assert.equal(edited.endpoint, 'videos/edits');
    const [item] = await s.items(edit);
    assert.equal(item!.duration, '4s', 'an edit is as long as its input');
    assert.deepEqual(parseToken(item!.backendToken).requests.map((r) => r.kind), ['edit']);
    // An edit of another job's finished item.
    const ofItem = await s.insertJob({ prompt: 'api: the references at dawn', editOf: { job: refs, item: 0 }, backend: 'api' });
    const third = await s.waitForJob(ofItem, ['COMPLETED', 'ERROR']);
    assert.equal(third.status, 'COMPLETED', third.errorMessage ?? '');
    assert.equal([...s.simulator.xai.requests.values()].find((r) => r.prompt === 'api: the references at dawn')?.endpoint, 'videos/edits');
  });

  test('Temporal\'s task-queue rate limit spaces the submissions of jobs that run at once (XAI_REQUESTS_PER_SECOND=1)', async () => {
    const prompts = ['one', 'two', 'three', 'four', 'five', 'six'].map((n) => `api: rate ${n}`);
    // Six jobs at once: without the limit their generateItem tasks start within a second.
    const ids = await Promise.all(prompts.map((prompt) => s.insertJob({ prompt, duration: '6s', backend: 'api' })));
    for (const id of ids) await s.waitForJob(id, ['COMPLETED']);
    const at = prompts.map((p) => s.simulator.xai.accepted(p)[0]!.at).sort((a, b) => a - b);
    console.log(`rate-limited submissions at +${at.map((t) => t - at[0]!).join(', +')} ms`);
    // At 1/s they spread over seconds, though not one a second: Temporal's matching limiter
    // lets bursts through (seen: +0, +89, +120, +3822, +3887, +7821 ms; with four jobs once all
    // within 1,994 ms). The span is what it holds to; with the limit at 1000/s it was 1,160 ms.
    assert.ok(at.at(-1)! - at[0]! >= 2500, `${at.length} submissions within ${at.at(-1)! - at[0]!} ms`);
  });
});

describe('the API backend survives kill -9 of the slave while it polls', () => {
  let s: Stack;
  const jobRow = async (id: number) => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;
  const children: ChildProcess[] = [];
  before(async () => {
    // Result URLs live 10 min here (xAI: an hour), counted from when each video was done: the
    // batch's files must be downloaded within it, a kill -9 and a restart included.
    s = await startStack({ slave: false, simulator: { xai: { urlTtlMs: 600_000 } }, env: { XAI_POLL_INTERVAL_MS: '100', XAI_BATCH_POLL_INTERVAL_MS: '200' }, activityTimeouts: { heartbeat: '3 seconds' } });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await s?.stop();
  });

  test('the job completes and the stand-in saw exactly one submission per item', async () => {
    const first = startSlaveProcess(s.configEnv, {}, children);
    await first.ready;
    const prompts = ['api: crash one #sim:slow=4', 'api: crash two'];
    const id = await s.insertJob({ prompts, duration: '6s', backend: 'api' });
    await until('item 0 saved its request id', async () => (await s.items(id))[0]?.backendToken ?? undefined);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startSlaveProcess(s.configEnv, {}, children);
    await second.ready;
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    for (const p of ['api: crash one', 'api: crash two']) assert.equal(s.simulator.xai.accepted(p).length, 1, `one submission for "${p}"`);
    const [item0] = await s.items(id);
    assert.equal(item0!.attempts, 2, 'the killed attempt, then the one that resumed');
    assert.equal(job.costTicks, 2 * 6 * SECOND);
    assert.match(second.output(), /"item":0/, 'the second slave ran the resumed item');
  });

  test('a batch of 10 videos: one batch id on the row, kill -9 while it runs, no second batch, every file downloaded before its URL expired', async () => {
    const first = startSlaveProcess(s.configEnv, {}, children);
    await first.ready;
    const directBefore = s.simulator.xai.callsMade('POST /v1/videos/generations');
    const prompts = Array.from({ length: 10 }, (_, i) => `api: batch ${i} #sim:slow=6`);
    const id = await s.insertJob({ prompts, duration: '6s', backend: 'api', route: 'batch' });
    const batchId = await until('the batch id on the job\'s row', async () => (await jobRow(id)).xaiBatchId ?? undefined);
    await until('the 10 requests in the batch', () => (s.simulator.xai.batches.all.get(batchId)?.entries.length === 10 ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startSlaveProcess(s.configEnv, {}, children);
    await second.ready;
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 300_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    assert.equal(s.simulator.xai.batches.all.size, 1, 'one batch, never a second');
    assert.equal(s.simulator.xai.batches.all.get(batchId)!.entries.length, 10, 'each item added once');
    assert.equal(job.xaiBatchId, batchId);
    assert.equal(s.simulator.xai.callsMade('POST /v1/videos/generations'), directBefore, 'no direct generation');
    assert.equal(s.simulator.xai.calls.get('POST /v1/batches'), 1, 'one batch created');
    const video = sha(s.simulator.asset('generated_video.mp4'));
    for (const item of await s.items(id)) {
      assert.equal(item.status, 'COMPLETED');
      assert.equal(item.sha256, video);
      const [r] = parseToken(item.backendToken).requests;
      assert.deepEqual([r!.kind, r!.end, r!.id], ['batch', 'done', `${batchId}/item-${item.index}`]);
      // The batch's price: half of 6 s at 480p.
      assert.equal(item.costTicks, 3 * SECOND);
    }
    assert.equal(job.costTicks, 10 * 3 * SECOND);
    // Which live slave took the retried batch activity is Temporal's choice (the first test's slave still polls too).
  });
});
