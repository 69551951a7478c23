import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, asc, eq } from 'drizzle-orm';
import { accounts, jobEvents, jobItems, jobs, type Job } from '../src/shared/db/schema';
import { transitionJob } from '../src/shared/jobs/transition';
import { jobWorkflowId } from '../src/shared/registry';
import { runCli, show, startCli, type CliResult } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

// The `grokflow` CLI as a child process. First against Postgres alone (no workers: what the
// CLI itself decides), then against the whole stack (Temporal, master, slave, simulator,
// Chromium), where its jobs really run.

const VIDEO = 'GROK_VIDEO_GENERATION';

function expectExit(r: CliResult, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, show(r));
  if (pattern) assert.match(r.all, pattern, show(r));
}

function parseId(r: CliResult): number {
  const id = r.stdout.trim();
  assert.match(id, /^\d+$/, show(r));
  return Number(id);
}

describe('grokflow CLI on Postgres alone (no workers)', () => {
  let t: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env });
  const viaTsx = (...args: string[]) => runCli(args, { env, bin: false });
  const job = async (id: number): Promise<Job> => (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;
  const countJobs = async () => (await t.db.select({ id: jobs.id }).from(jobs)).length;

  before(async () => {
    t = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-cli-'));
    fs.mkdirSync(path.join(dir, 'accounts'));
    env = {
      DATABASE_URL: t.url,
      ACCOUNTS_DIR: path.join(dir, 'accounts'),
      // The images a payload may name: this test's folder.
      IMAGES_DIR: dir,
      // Nothing listens there: a command that needed them would fail, not hang on a real service.
      GROK_BASE_URL: 'http://127.0.0.1:9',
      TEMPORAL_ADDRESS: '127.0.0.1:9',
    };
  });
  after(async () => {
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('usage: help is 0; no command, unknown commands, missing arguments and bad ids are 2, naming the problem', async () => {
    const [help, none, jobsAlone, unknown, unknownOption, missingArg, badId, version] = await Promise.all([
      viaTsx('--help'),
      viaTsx(),
      cli('jobs'),
      cli('jobs', 'frobnicate'),
      cli('jobs', 'list', '--colour', 'red'),
      cli('jobs', 'add', '--count'),
      cli('jobs', 'show', 'abc'),
      cli('--version'),
    ]);
    expectExit(help, 0);
    for (const word of ['jobs', 'accounts', 'Exit codes']) assert.ok(help.stdout.includes(word), show(help));
    expectExit(version, 0, /^\d+\.\d+\.\d+/);
    expectExit(none, 2, /Usage: grokflow/);
    expectExit(jobsAlone, 2, /add[\s\S]*list[\s\S]*show[\s\S]*watch[\s\S]*retry[\s\S]*cancel/);
    expectExit(unknown, 2, /unknown command 'frobnicate'/);
    expectExit(unknownOption, 2, /unknown option '--colour'/);
    expectExit(missingArg, 2, /--count <n>.*argument missing/);
    expectExit(badId, 2, /job id must be a number, got "abc"/);
  });

  test('a bad setting is exit 2 naming the variable', async () => {
    const r = await runCli(['jobs', 'list'], { env: { ...env, DATABASE_URL: 'not a url' } });
    expectExit(r, 2, /DATABASE_URL/);
    const level = await runCli(['jobs', 'list'], { env: { ...env, LOG_LEVEL: 'loud' } });
    expectExit(level, 2, /LOG_LEVEL/);
  });

  test('not-found ids are exit 3 for show, watch, retry and cancel', async () => {
    const results = await Promise.all([
      cli('jobs', 'show', '987654'),
      cli('jobs', 'watch', '987654'),
      cli('jobs', 'retry', '987654'),
      cli('jobs', 'cancel', '987654'),
    ]);
    for (const r of results) expectExit(r, 3, /job 987654 not found/);
  });

  test('jobs add: an invalid payload is exit 2 naming the field, and no row is written', async () => {
    const before = await countJobs();
    const cases: Array<[string[], RegExp]> = [
      [['-p', 'a cat', '--count', '0'], /payload\.count/],
      [['-p', 'a cat', '--count', '101'], /payload\.count/],
      [['-p', 'a cat', '--count', 'three'], /--count must be a whole number, got "three"/],
      [['--count', '2'], /payload\.prompt: required when there is no imageUrl or imagePath/],
      [['-p', '   '], /payload\.prompt: must not be empty/],
      [['-p', 'a', 'b', '--count', '3'], /payload\.count: is 3 but prompts has 2/],
      [['-p', 'a cat', '--image-url', 'https://example.com/not-a-post'], /payload\.imageUrl/],
      [['-p', 'a cat', '--account', 'bad name!'], /payload\.account/],
      [['-p', 'a cat', '--min-successful', '3'], /payload\.minSuccessful: is 3, more than the 1 videos/],
      [['--image-path', path.join(dir, 'missing.jpg')], /payload\.imagePath: no file at .*missing\.jpg/],
      [['-p', 'a cat', '--duration', '7s'], /--duration <d>.*7s.*invalid/i],
      [['--type', 'image', '-p', 'a cat', '--image-url', 'https://grok.com/imagine/post/0b5b8d36-0c1e-4b0c-9a39-1f1bd1b4c2a1'], /payload\.imageUrl/],
      [['--type', 'audio', '-p', 'a cat'], /unknown job type "audio"/],
      [['--payload', '{"prompt":"a cat","colour":"red"}'], /payload\.colour/],
      [['--payload', '{"prompt":'], /--payload is not valid JSON/],
      [['--payload', '[1]'], /--payload must be a JSON object/],
      [['--payload', '{"prompt":"a cat"}', '--count', '2'], /--payload replaces the payload flags; drop --count/],
      [['-p', 'a cat', '--priority', 'high'], /--priority must be a whole number/],
      [['-p', 'a cat', '--extend', '31'], /payload\.extend/],
      [['-p', 'a cat', '--aspect-ratio', '4:3'], /--aspect-ratio <r>.*4:3.*invalid/i],
    ];
    const results = await Promise.all(cases.map(([args]) => cli('jobs', 'add', ...args)));
    results.forEach((r, i) => expectExit(r, 2, cases[i]![1]));
    assert.equal(await countJobs(), before, 'no job was inserted');
  });

  test('jobs add: a valid payload is a PENDING row with its creation event; flags, prompts, --payload and --json', async () => {
    const image = path.join(dir, 'still.jpg');
    fs.writeFileSync(image, 'not really a jpeg');
    const [plain, many, fromJson, asJson, withFile, imageJob] = await Promise.all([
      runCli(['jobs', 'add', '-p', 'a cat surfing', '--count', '2', '--account', 'alice', '--upscale', '--priority', '5', '--mode', 'fun', '--aspect-ratio', '9:16', '--extend', '20'], { env, cwd: dir }),
      viaTsx('jobs', 'add', '-p', 'first', 'second', 'third'),
      cli('jobs', 'add', '--payload', '{"prompt":"from json","duration":"6s"}'),
      cli('jobs', 'add', '-p', 'json out', '--json'),
      runCli(['jobs', 'add', '--image-path', 'still.jpg', '-p', 'animate it'], { env, cwd: dir }),
      cli('jobs', 'add', '--type', 'image', '-p', 'a red fox', '-n', '3'),
    ]);
    const id = parseId(plain);
    const row = await job(id);
    assert.equal(row.status, 'PENDING');
    assert.equal(row.type, VIDEO);
    assert.equal(row.priority, 5);
    assert.equal(row.account, 'alice');
    assert.deepEqual(row.payload, { prompt: 'a cat surfing', count: 2, account: 'alice', upscale: true, mode: 'fun', aspectRatio: '9:16', extend: 20 });
    const events = await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, id));
    assert.deepEqual(events.map((e) => [e.fromStatus, e.toStatus]), [[null, 'PENDING']]);

    assert.deepEqual((await job(parseId(many))).payload, { prompts: ['first', 'second', 'third'] });
    assert.deepEqual((await job(parseId(fromJson))).payload, { prompt: 'from json', duration: '6s' });
    expectExit(asJson, 0);
    const printed = JSON.parse(asJson.stdout) as { id: number; status: string; type: string };
    assert.equal(printed.status, 'PENDING');
    assert.equal(printed.type, VIDEO);
    assert.equal((await job(printed.id)).status, 'PENDING');
    // A relative image path is stored absolute: the slave may run elsewhere.
    assert.deepEqual((await job(parseId(withFile))).payload, { imagePath: image, prompt: 'animate it' });
    const img = await job(parseId(imageJob));
    assert.equal(img.type, 'GROK_IMAGE_GENERATION');
    assert.deepEqual(img.payload, { prompt: 'a red fox', count: 3 });
  });

  test('jobs list: a table of recent jobs, filters, --json; a bad filter is 2', async () => {
    const id = parseId(await cli('jobs', 'add', '-p', 'listed'));
    const table = await cli('jobs', 'list');
    expectExit(table, 0);
    const line = table.stdout.split('\n').find((l) => new RegExp(`│ ${id}\\s+│`).test(l));
    assert.ok(line, show(table));
    assert.match(line!, /GROK_VIDEO_GENERATION\s+│ PENDING/);
    for (const head of ['id', 'type', 'status', 'progress', 'account']) assert.match(table.stdout, new RegExp(`│ ${head}\\s`));

    const [images, errors, limited, asJson, badStatus, badLimit] = await Promise.all([
      cli('jobs', 'list', '--type', 'image', '--json'),
      cli('jobs', 'list', '--status', 'error', '--json'),
      cli('jobs', 'list', '--limit', '1', '--json'),
      cli('jobs', 'list', '--json'),
      cli('jobs', 'list', '--status', 'DONE'),
      cli('jobs', 'list', '--limit', '0'),
    ]);
    const rows = (r: CliResult) => JSON.parse(r.stdout) as Job[];
    assert.ok(rows(images).length > 0 && rows(images).every((j) => j.type === 'GROK_IMAGE_GENERATION'), show(images));
    assert.ok(rows(errors).every((j) => j.status === 'ERROR'), show(errors));
    assert.deepEqual(rows(limited).map((j) => j.id), [id], 'newest first');
    assert.ok(rows(asJson).some((j) => j.id === id));
    expectExit(badStatus, 2, /--status must be one of PENDING, INQUEUE, PROGRESS, COMPLETED, ERROR/);
    expectExit(badLimit, 2, /--limit/);
  });

  test('jobs show: the job, its items, files with sha256, errors and events', async () => {
    const id = parseId(await cli('jobs', 'add', '-p', 'a', 'b'));
    await transitionJob(t.db, id, 'INQUEUE', { set: { workflowId: jobWorkflowId(VIDEO, id) } });
    await transitionJob(t.db, id, 'PROGRESS');
    const sha = createHash('sha256').update('video bytes').digest('hex');
    await t.db.insert(jobItems).values([
      { jobId: id, index: 0, prompt: 'a', status: 'COMPLETED', attempts: 1, filePath: `/downloads/${id}/0.mp4`, sha256: sha, bytes: 11 },
      { jobId: id, index: 1, prompt: 'b', status: 'FAILED', attempts: 5, error: 'Server failed to respond (artifacts: /artifacts/x)' },
    ]);
    await transitionJob(t.db, id, 'ERROR', { set: { errorMessage: '1 of 2 items completed, 2 required' } });

    const r = await cli('jobs', 'show', String(id));
    expectExit(r, 0);
    assert.match(r.stdout, new RegExp(`job ${id}\\s+GROK_VIDEO_GENERATION\\s+ERROR`));
    assert.match(r.stdout, new RegExp(`workflow\\s+grok_video_generation\\(${id}\\)`));
    assert.match(r.stdout, /error\s+1 of 2 items completed, 2 required/);
    assert.match(r.stdout, /\nitems\n[\s\S]*COMPLETED[\s\S]*FAILED/);
    assert.ok(r.stdout.includes(`/downloads/${id}/0.mp4  11 bytes  sha256 ${sha}`), show(r));
    assert.match(r.stdout, /\nerrors\n\s+#1\s+FAILED\s+Server failed to respond \(artifacts: \/artifacts\/x\)/);
    const events = r.stdout.slice(r.stdout.indexOf('\nevents'));
    assert.match(events, /PENDING[\s\S]*PENDING\s+│ INQUEUE[\s\S]*INQUEUE\s+│ PROGRESS[\s\S]*PROGRESS\s+│ ERROR/);

    const asJson = JSON.parse((await cli('jobs', 'show', String(id), '--json')).stdout) as { job: Job; items: Array<{ sha256: string | null }>; events: unknown[] };
    assert.equal(asJson.job.id, id);
    assert.equal(asJson.items[0]!.sha256, sha);
    assert.equal(asJson.events.length, 4);
  });

  test('jobs cancel: a PENDING job ends ERROR "cancelled" at once; a finished one is 1', async () => {
    const id = parseId(await cli('jobs', 'add', '-p', 'never mind'));
    const r = await cli('jobs', 'cancel', String(id));
    expectExit(r, 0, new RegExp(`job ${id}: cancelled`));
    const row = await job(id);
    assert.equal(row.status, 'ERROR');
    assert.equal(row.errorMessage, 'cancelled');
    const [last] = await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, id)).orderBy(asc(jobEvents.id)).offset(1);
    assert.deepEqual([last!.fromStatus, last!.toStatus, last!.detail], ['PENDING', 'ERROR', { by: 'cli', reason: 'cancelled while PENDING' }]);

    const again = await cli('jobs', 'cancel', String(id));
    expectExit(again, 1, new RegExp(`job ${id} is already ERROR \\(cancelled\\)`));

    // A job in flight is cancelled through Temporal: unreachable, it fails naming where, and the job is left alone.
    const queued = parseId(await cli('jobs', 'add', '-p', 'in flight'));
    await transitionJob(t.db, queued, 'INQUEUE', { set: { workflowId: jobWorkflowId(VIDEO, queued) } });
    const unreachable = await cli('jobs', 'cancel', String(queued));
    expectExit(unreachable, 1, /cannot reach Temporal at 127\.0\.0\.1:9 \(TEMPORAL_ADDRESS\)/);
    assert.equal((await job(queued)).status, 'INQUEUE');
  });

  test('jobs retry: a new PENDING job linked to the failed one; only ERROR jobs can be retried', async () => {
    const failed = parseId(await cli('jobs', 'add', '-p', 'try me', '--count', '2', '--account', 'alice', '--priority', '3'));
    const early = await cli('jobs', 'retry', String(failed));
    expectExit(early, 1, new RegExp(`job ${failed} is PENDING; only a job in ERROR can be retried`));
    await transitionJob(t.db, failed, 'ERROR', { set: { errorMessage: 'boom' } });

    const r = await cli('jobs', 'retry', String(failed));
    expectExit(r, 0);
    const copy = await job(parseId(r));
    const original = await job(failed);
    assert.notEqual(copy.id, failed);
    assert.equal(copy.status, 'PENDING');
    assert.equal(copy.retryOf, failed);
    assert.deepEqual(copy.payload, original.payload);
    assert.equal(copy.priority, 3);
    assert.equal(copy.account, 'alice');
    const [created] = await t.db.select().from(jobEvents).where(eq(jobEvents.jobId, copy.id));
    assert.deepEqual(created!.detail, { retryOf: failed });
    assert.equal((await job(failed)).status, 'ERROR', 'the failed job stays as it was');
    const shown = await cli('jobs', 'show', String(copy.id));
    assert.match(shown.stdout, new RegExp(`retry of\\s+job ${failed}`));
  });

  test('jobs watch <id>: follows a job live; exit 0 when it completes, 1 with the message when it fails', async () => {
    const ok = parseId(await cli('jobs', 'add', '-p', 'watch me'));
    const bad = parseId(await cli('jobs', 'add', '-p', 'watch me fail'));
    const watchOk = startCli(['jobs', 'watch', String(ok)], { env, bin: false });
    const watchBad = startCli(['jobs', 'watch', String(bad)], { env });
    // Both have read the current state (after LISTEN): every later move must come live.
    await watchOk.waitForOutput(new RegExp(`job ${ok} PENDING`));
    await watchBad.waitForOutput(new RegExp(`job ${bad} PENDING`));

    for (const id of [ok, bad]) {
      await transitionJob(t.db, id, 'INQUEUE');
      await transitionJob(t.db, id, 'PROGRESS');
      await t.db.update(jobs).set({ progress: 40, progressMessage: 'item 0: 40%' }).where(eq(jobs.id, id));
    }
    await watchOk.waitForOutput(new RegExp(`job ${ok} PROGRESS 40% item 0: 40%`));
    await transitionJob(t.db, ok, 'COMPLETED', { set: { progressMessage: '1 of 1 items completed' } });
    await transitionJob(t.db, bad, 'ERROR', { set: { errorMessage: 'account alice needs a new login' } });

    const okResult = await watchOk.done;
    expectExit(okResult, 0, new RegExp(`job ${ok} COMPLETED 100%`));
    assert.match(okResult.stdout, new RegExp(`job ${ok} INQUEUE[\\s\\S]*job ${ok} PROGRESS[\\s\\S]*job ${ok} COMPLETED`));
    const badResult = await watchBad.done;
    expectExit(badResult, 1, new RegExp(`job ${bad} ERROR .*account alice needs a new login`));

    // A job that is already over: the same exit codes at once.
    expectExit(await cli('jobs', 'watch', String(ok)), 0, /COMPLETED/);
    expectExit(await cli('jobs', 'watch', String(bad)), 1, /ERROR/);
  });

  test('jobs watch (all): shows jobs in flight and new ones until interrupted, then exits 0', async () => {
    const running = startCli(['jobs', 'watch'], { env });
    const pending = (await t.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.status, 'PENDING')))[0];
    if (pending) await running.waitForOutput(new RegExp(`job ${pending.id} PENDING`));
    else await new Promise((r) => setTimeout(r, 3000));
    // A new job appears through NOTIFY alone.
    const id = parseId(await cli('jobs', 'add', '-p', 'seen live'));
    await running.waitForOutput(new RegExp(`job ${id} PENDING`));
    running.child.kill('SIGINT');
    expectExit(await running.done, 0);
  });

  test('accounts set and list: quota, cooldown, accounts known only by their saved session; bad input is 2', async () => {
    fs.writeFileSync(path.join(env.ACCOUNTS_DIR!, 'bob.json'), '{}', { mode: 0o600 });
    expectExit(await cli('accounts', 'set', 'carol', '--daily-quota', '5'), 0, /account carol updated/);
    await t.db.update(accounts).set({ cooldownUntil: new Date(Date.now() + 10 * 60_000) }).where(eq(accounts.name, 'carol'));

    const list = await cli('accounts', 'list');
    expectExit(list, 0);
    const carol = list.stdout.split('\n').find((l) => l.includes('│ carol'));
    assert.ok(carol, show(list));
    // account, pool, session, in flight/concurrency, cooldown (until), used today, quota left, grok left, check, budget, spent, min gap, last error
    assert.match(carol!, /│ default\s+│ missing\s+│ 0\/10\s+│ \d{3} s \(until \d{4}-[^)]+\)\s+│ 0\s+│ 5\/5\s+│\s+│\s+│\s+│\s+│ 8 s\s+│/);
    const bob = list.stdout.split('\n').find((l) => l.includes('│ bob'));
    assert.match(bob ?? '', /saved\s+│ 0\/10\s+│\s+│ 0\s+│ unlimited/, show(list));

    expectExit(await cli('accounts', 'set', 'carol', '--clear-cooldown', '--daily-quota', 'none'), 0);
    const view = JSON.parse((await cli('accounts', 'list', '--json')).stdout) as Array<{ name: string; cooldownSeconds: number; quotaLeft: number | null; loggedIn: boolean }>;
    assert.deepEqual(view.find((a) => a.name === 'carol'), {
      name: 'carol', pool: 'default', loggedIn: false, cooldownSeconds: 0, cooldownUntil: null, dailyQuota: null, usedToday: 0, quotaLeft: null,
      inFlight: 0, concurrency: 10, minGapMs: 8000, lastAuthError: null, lastError: null,
      kind: 'browser', dailyBudgetTicks: null, spentTodayTicks: 0, budgetLeftTicks: null,
      grokQuotaLeft: null, grokQuotaTotal: null, grokQuotaReadAt: null, canaryOk: null, canaryAt: null, canaryError: null,
    });
    assert.equal(view.find((a) => a.name === 'bob')?.loggedIn, true);

    const [nothing, negative, word, badName] = await Promise.all([
      cli('accounts', 'set', 'carol'),
      cli('accounts', 'set', 'carol', '--daily-quota', '-1'),
      cli('accounts', 'set', 'carol', '--daily-quota', 'lots'),
      cli('accounts', 'set', '../etc', '--daily-quota', '1'),
    ]);
    expectExit(nothing, 2, /nothing to set: give --daily-quota, --daily-budget, --pool, --concurrency, --min-gap or --clear-cooldown/);
    expectExit(negative, 2, /--daily-quota/);
    expectExit(word, 2, /--daily-quota must be a whole number ≥ 0, or "none", got "lots"/);
    expectExit(badName, 2, /invalid account name "\.\.\/etc"/);
  });

  test('accounts login: bad usage is 2 before any browser starts; the password never comes from argv', async () => {
    const [noUser, noPassword, badName, headedNoDisplay] = await Promise.all([
      runCli(['login', 'dave', '--headless'], { env: { ...env, GROK_LOGIN_PASSWORD: 'x' } }),
      cli('accounts', 'login', 'dave', '--headless', '--user', 'dave'),
      runCli(['accounts', 'login', '../../evil', '--headless', '--user', 'x'], { env: { ...env, GROK_LOGIN_PASSWORD: 'x' } }),
      runCli(['accounts', 'login', 'dave'], { env: { ...env, DISPLAY: undefined, WAYLAND_DISPLAY: undefined } }),
    ]);
    expectExit(noUser, 2, /--headless needs --user/);
    expectExit(noPassword, 2, /--user dave needs the password in GROK_LOGIN_PASSWORD/);
    expectExit(badName, 2, /invalid account name/);
    expectExit(headedNoDisplay, 1, /needs a display/);
    assert.deepEqual(fs.readdirSync(env.ACCOUNTS_DIR!).sort(), ['bob.json']);
  });
});

describe('grokflow CLI against the whole stack (Temporal, master, slave, simulator, Chromium)', () => {
  let s: Stack;
  const cli = (...args: string[]) => runCli(args, { env: s.configEnv });
  const job = async (id: number): Promise<Job> => (await s.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;

  before(async () => { s = await startStack(); });
  after(async () => { await s?.stop(); });

  test('jobs add → the job runs to COMPLETED; watch exits 0; list and show report it with its file and sha256', async () => {
    // The package's bin, from another directory, as a user runs it.
    const added = await runCli(['jobs', 'add', '-p', 'a lighthouse at dusk', '--json'], { env: s.configEnv, cwd: s.dir });
    expectExit(added, 0);
    const { id, status } = JSON.parse(added.stdout) as { id: number; status: string };
    assert.equal(status, 'PENDING');

    const watched = await runCli(['jobs', 'watch', String(id)], { env: s.configEnv });
    expectExit(watched, 0, new RegExp(`job ${id} COMPLETED 100%`));
    const row = await job(id);
    assert.equal(row.status, 'COMPLETED');
    const events = await s.t.db.select().from(jobEvents).where(eq(jobEvents.jobId, id)).orderBy(asc(jobEvents.id));
    assert.deepEqual(events.map((e) => e.toStatus), ['PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED']);

    const list = await cli('jobs', 'list');
    const line = list.stdout.split('\n').find((l) => new RegExp(`│ ${id}\\s+│`).test(l));
    assert.match(line ?? '', /GROK_VIDEO_GENERATION\s+│ COMPLETED\s+│ 100%/, show(list));

    const [item] = await s.items(id);
    assert.equal(item!.status, 'COMPLETED');
    const file = item!.filePath!;
    const sha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    assert.equal(item!.sha256, sha);
    const shown = await cli('jobs', 'show', String(id));
    expectExit(shown, 0);
    assert.ok(shown.stdout.includes(`${file}  ${fs.statSync(file).size} bytes  sha256 ${sha}`), show(shown));
    assert.match(shown.stdout, /\nevents\n[\s\S]*PENDING\s+│ INQUEUE[\s\S]*INQUEUE\s+│ PROGRESS[\s\S]*PROGRESS\s+│ COMPLETED/);
    assert.match(shown.stdout, new RegExp(`workflow\\s+grok_video_generation\\(${id}\\) \\(run `));
  });

  test('jobs watch exits 1 on a job that ends ERROR (session expired), naming the account; retry makes a linked PENDING job', async () => {
    const id = parseId(await cli('jobs', 'add', '-p', 'a fox #sim:expired', '--account', 'alice'));
    const watched = await runCli(['jobs', 'watch', String(id)], { env: s.configEnv });
    expectExit(watched, 1, new RegExp(`job ${id} ERROR .*account alice needs a new login`));
    assert.match((await job(id)).errorMessage ?? '', /account alice needs a new login/);

    const accountsView = JSON.parse((await cli('accounts', 'list', '--json')).stdout) as Array<{ name: string; lastAuthError: string | null }>;
    assert.ok(accountsView.find((a) => a.name === 'alice')?.lastAuthError, `alice has its auth error: ${JSON.stringify(accountsView)}`);

    const retried = await cli('jobs', 'retry', String(id));
    expectExit(retried, 0);
    const copyId = parseId(retried);
    const copy = await job(copyId);
    assert.equal(copy.retryOf, id);
    assert.deepEqual(copy.payload, { prompt: 'a fox #sim:expired', account: 'alice' });
    const [created] = await s.t.db.select().from(jobEvents).where(eq(jobEvents.jobId, copyId)).orderBy(asc(jobEvents.id)).limit(1);
    assert.deepEqual([created!.fromStatus, created!.toStatus], [null, 'PENDING']);
    // The copy runs like any job (and fails the same way: its prompt still logs the session out).
    const ended = await s.waitForJob(copyId, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(ended.status, 'ERROR');
    assert.match(ended.errorMessage ?? '', /account alice needs a new login/);
    const events = await s.t.db.select().from(jobEvents).where(eq(jobEvents.jobId, copyId)).orderBy(asc(jobEvents.id));
    assert.deepEqual(events.map((e) => e.toStatus), ['PENDING', 'INQUEUE', 'PROGRESS', 'ERROR']);
  });

  test('accounts login --headless against the simulator: 0600 session, no secret printed; the account then runs a job', async () => {
    const password = 'Tr0ub4dor-and-3';
    s.simulator.addUser('carol', password);
    const wrong = await runCli(['accounts', 'login', 'alice', '--headless', '--user', 'carol'], { env: { ...s.configEnv, GROK_LOGIN_PASSWORD: 'not-her-password' } });
    expectExit(wrong, 1, /account alice: sign-in refused/);
    assert.ok(!wrong.all.includes('not-her-password'), show(wrong));

    const r = await runCli(['accounts', 'login', 'alice', '--headless', '--user', 'carol'], { env: { ...s.configEnv, GROK_LOGIN_PASSWORD: password } });
    expectExit(r, 0, /account alice logged in; session saved to .*alice\.json \(mode 0600\)/);
    const file = path.join(s.configEnv.ACCOUNTS_DIR!, 'alice.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { cookies: Array<{ value: string }> };
    assert.ok(state.cookies.length > 0, 'the session has cookies');
    assert.ok(!r.all.includes(password), 'the password is never printed');
    for (const c of state.cookies) assert.ok(!r.all.includes(c.value), 'no cookie value is printed');

    const [row] = await s.t.db.select().from(accounts).where(eq(accounts.name, 'alice'));
    assert.equal(row!.storageState, file);
    assert.equal(row!.lastAuthError, null, 'a fresh login clears the last auth error');
    const list = await cli('accounts', 'list');
    assert.match(list.stdout.split('\n').find((l) => l.includes('│ alice')) ?? '', /saved/, show(list));

    const id = parseId(await cli('jobs', 'add', '-p', 'after a new login', '--account', 'alice'));
    const ended = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(ended.status, 'COMPLETED', ended.errorMessage ?? '');
  });

  test('jobs cancel on a running job: the workflow is cancelled and the job ends ERROR "cancelled"', async () => {
    const id = parseId(await cli('jobs', 'add', '-p', 'a very long take #sim:slow=300'));
    const running = await s.waitForJob(id, ['PROGRESS', 'COMPLETED', 'ERROR'], 120_000);
    assert.equal(running.status, 'PROGRESS', running.errorMessage ?? '');
    // Wait until the generation itself is under way (the item is being worked on).
    let started: Awaited<ReturnType<typeof s.items>>[number] | undefined;
    await waitFor(() => `the item of job ${id} to start: ${JSON.stringify(started)}`, async () => {
      [started] = await s.items(id);
      return started?.status === 'RUNNING' || started?.attempts;
    }, 120_000, 100);
    const r = await cli('jobs', 'cancel', String(id), '--wait');
    expectExit(r, 0, new RegExp(`job ${id}: cancellation requested for workflow grok_video_generation\\(${id}\\)[\\s\\S]*job ${id}: ERROR cancelled`));
    const row = await job(id);
    assert.equal(row.status, 'ERROR');
    assert.equal(row.errorMessage, 'cancelled');
    // The row ends first (failJob runs inside the workflow's cancellation), the workflow a moment later.
    const handle = s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id));
    let workflowStatus = '';
    await waitFor(() => `workflow of job ${id} to close, is ${workflowStatus}`, async () => {
      workflowStatus = (await handle.describe()).status.name;
      return workflowStatus !== 'RUNNING';
    }, 30_000, 100);
    assert.equal(workflowStatus, 'CANCELLED');
    const [item] = await s.items(id);
    assert.equal(item!.status, 'FAILED');

    const again = await cli('jobs', 'cancel', String(id));
    expectExit(again, 1, /is already ERROR \(cancelled\)/);
    const watched = await cli('jobs', 'watch', String(id));
    expectExit(watched, 1, /ERROR .*cancelled/);
  });

  test('accounts list shows the quota left that the slave enforces', async () => {
    // One item completed on the default account today, whatever the pool chose before.
    const onDefault = parseId(await cli('jobs', 'add', '-p', 'on the default account', '--account', 'default'));
    expectExit(await cli('jobs', 'watch', String(onDefault)), 0, /COMPLETED/);
    expectExit(await cli('accounts', 'set', 'default', '--daily-quota', '50'), 0);
    const view = JSON.parse((await cli('accounts', 'list', '--json')).stdout) as Array<{ name: string; usedToday: number; quotaLeft: number | null; dailyQuota: number | null }>;
    const def = view.find((a) => a.name === 'default');
    // Items count for the account they ran on (a pool job's items may each run elsewhere).
    const used = await s.t.db.select({ id: jobItems.id }).from(jobItems)
      .where(and(eq(jobItems.account, 'default'), eq(jobItems.status, 'COMPLETED')));
    assert.ok(used.length >= 1);
    assert.equal(def?.usedToday, used.length, JSON.stringify(view));
    assert.equal(def!.dailyQuota, 50);
    assert.equal(def!.quotaLeft, 50 - used.length);

    // A quota used up: the job waits as a row (PENDING, never claimed), `jobs show` says
    // why; more quota (a setting changed) wakes the claim and the job runs.
    expectExit(await cli('accounts', 'set', 'default', '--daily-quota', String(def!.usedToday)), 0);
    const id = parseId(await cli('jobs', 'add', '-p', 'over quota', '--account', 'default'));
    const shown = await cli('jobs', 'show', String(id));
    expectExit(shown, 0, new RegExp(`job ${id} .* PENDING`));
    assert.match(shown.stdout, /waiting +account default, \d+ of \d+ slots busy; account default has used its daily quota \(\d+\/\d+\)/, show(shown));
    expectExit(await cli('accounts', 'set', 'default', '--daily-quota', 'none'), 0);
    expectExit(await cli('jobs', 'watch', String(id)), 0, /COMPLETED/);
  });
});
