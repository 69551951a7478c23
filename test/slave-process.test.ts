import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, descendants, survivors } from './helpers/processes';
import { startSlaveProcess, type SlaveProcess } from './helpers/slaveProcess';
import { startStack, type Stack } from './helpers/stack';

// The slave as operators run it: `npm run slave` processes, killed with -9 and stopped with
// SIGTERM in the middle of generations. Master, Temporal, Postgres and the simulator stay up.

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('slave processes: kill -9 and SIGTERM in the middle of a generation', () => {
  let s: Stack;
  const children: ChildProcess[] = [];
  before(async () => {
    // A short heartbeat timeout, so a killed worker's activity is retried within seconds.
    s = await startStack({ slave: false, activityTimeouts: { heartbeat: '4 seconds' } });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await s?.stop();
  });

  const startSlave = (env: Record<string, string> = {}): SlaveProcess => startSlaveProcess(s.configEnv, env, children);

  test('kill -9 mid-generation: a restarted worker finishes the job, the file is downloaded once', async () => {
    const first = startSlave();
    await first.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a comet over the sea #sim:slow=6' });
    await s.untilGenerating(id);
    const browserPids = descendants(first.child.pid!);
    assert.ok(browserPids.length > 0, 'the slave runs a browser');
    first.child.kill('SIGKILL');
    await first.exited;

    // Chromium notices its controlling pipe closed and goes too: no page outlives the worker.
    assert.deepEqual(await survivors(browserPids), [], 'no Chromium process left behind');

    const second = startSlave();
    await second.ready;
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const items = await s.items(id);
    assert.equal(items.length, 1, 'one job_items row, not one per attempt');
    assert.equal(items[0]!.attempts, 2);
    const dir = path.join(s.dir, 'downloads', String(id));
    const videos = fs.readdirSync(dir).filter((f) => f.endsWith('.mp4'));
    assert.deepEqual(videos, ['0.mp4'], 'one file, no partial or second copy');
    assert.equal(sha256(fs.readFileSync(path.join(dir, '0.mp4'))), sha256(s.simulator.asset('generated_video.mp4')));

    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  });

  test('SIGTERM mid-generation within the grace time: the generation finishes, the worker exits 0', async () => {
    const slave = startSlave({ SHUTDOWN_GRACE_MS: '60000' });
    await slave.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a slow sunrise #sim:slow=4' });
    await s.untilGenerating(id);
    slave.child.kill('SIGTERM');
    assert.equal(await slave.exited, 0, slave.output());
    const job = await s.waitForJob(id, ['PROGRESS', 'COMPLETED', 'ERROR'], 1000);
    const [item] = await s.items(id);
    assert.equal(item?.status, 'COMPLETED', `the running item finished before exit (job ${job.status})\n${slave.output()}`);
    // The job's last bookkeeping step runs on whichever worker polls next.
    const next = startSlave();
    await next.ready;
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'], 60_000)).status, 'COMPLETED');
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0);
  });

  test('SIGTERM past the grace time: the generation is cancelled, its browser closed, another worker redoes it', async () => {
    const slave = startSlave({ SHUTDOWN_GRACE_MS: '1000' });
    await slave.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a very slow moon #sim:slow=8' });
    await s.untilGenerating(id);
    const browserPids = descendants(slave.child.pid!);
    slave.child.kill('SIGTERM');
    assert.equal(await slave.exited, 0, slave.output());
    assert.deepEqual(browserPids.filter(alive), [], 'the browser was closed before exit');
    assert.equal((await s.items(id))[0]?.status, 'RUNNING', 'the item was interrupted, not failed');

    const next = startSlave();
    await next.ready;
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0);
  });

  test('a slave facing the simulator (no GROK_BASE_URL) signs its users in and completes a job', async () => {
    const data = path.join(s.dir, 'split-data');
    const slave = startSlave({ GROK_BASE_URL: '', SIMULATOR_URL: s.simulator.url, SIMULATOR_USERS: 'default:pw', GROKFLOW_DATA_DIR: data });
    await slave.ready;
    assert.match(slave.output(), /"msg":"signed in to the simulator"/);
    const state = path.join(data, 'simulator-accounts', 'default.json');
    assert.equal(fs.statSync(state).mode & 0o777, 0o600);
    assert.doesNotMatch(slave.output(), /"pw"|sso=/, 'no password or session in the logs');
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'split deployment' });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    slave.child.kill('SIGTERM');
    assert.equal(await slave.exited, 0);
  });
});
