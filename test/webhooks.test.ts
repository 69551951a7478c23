import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { asc, eq } from 'drizzle-orm';
import { jobDeliveries, jobs } from '../src/shared/db/schema';
import { freeLoopbackPort } from '../src/shared/freePort';
import { parsePayload, videoPayloadSchema } from '../src/shared/payloads';
import { jobWorkflowId } from '../src/shared/registry';
import { addressRange, CallbackRefused, resolveCallback } from '../src/shared/webhooks/callbackAddress';
import { runCli, show } from './helpers/cli';
import { startReceiver, type Received, type Receiver } from './helpers/receiver';
import { startSlaveProcess, type SlaveProcess } from './helpers/slaveProcess';
import { startStack, type Stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const SECRET = 'test-webhook-secret-0123456789';
const IMAGES_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-images-'));

function verify(r: Received): boolean {
  const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(r.body).digest('hex')}`;
  const got = String(r.headers['x-grokflow-signature'] ?? '');
  return got.length === expected.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

describe('callback addresses and payloads', () => {
  test('loopback, private, link-local and other non-public addresses are refused, checked after resolution', async () => {
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/', 'http://192.168.1.1/', 'http://172.16.0.1/',
      'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://0.0.0.0/']) {
      await assert.rejects(resolveCallback(url, false), (err: unknown) => err instanceof CallbackRefused && /refused; WEBHOOK_ALLOW_PRIVATE=true allows it/.test(err.message), url);
    }
    assert.equal((await resolveCallback('https://8.8.8.8/hook', false)).address, '8.8.8.8');
    assert.equal((await resolveCallback('http://127.0.0.1:9/x', true)).address, '127.0.0.1');
    assert.equal(addressRange('::ffff:10.0.0.1'), 'private');
  });

  test('callbackUrl must be http or https', () => {
    assert.throws(() => parsePayload(videoPayloadSchema, { prompt: 'x', callbackUrl: 'ftp://example.com/x' }), /payload\.callbackUrl: must be an http or https URL/);
    assert.equal(parsePayload(videoPayloadSchema, { prompt: 'x', callbackUrl: 'https://example.com/x' }).callbackUrl, 'https://example.com/x');
  });
});

describe('webhooks: a signed callback when a job ends, retried by Temporal', () => {
  let s: Stack;
  let receiver: Receiver;
  let slave: SlaveProcess;
  const children: ChildProcess[] = [];
  const env = {
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    // Short intervals for the test; the policy keeps its shape (exponential, capped, bounded).
    WEBHOOK_RETRY_INITIAL_MS: '300',
    WEBHOOK_RETRY_MAX_MS: '1000',
    WEBHOOK_TIMEOUT_MS: '2000',
    // imagePath must lie inside it: a missing file there passes the claim and fails the job's start.
    IMAGES_DIR: IMAGES_DIR,
  };
  before(async () => {
    receiver = await startReceiver();
    s = await startStack({ slave: false, env });
    slave = startSlaveProcess(s.configEnv, {}, children);
    await slave.ready;
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await s?.stop();
    await receiver?.close();
    fs.rmSync(IMAGES_DIR, { recursive: true, force: true });
  });

  const post = () => s.simulator.createPost('default').url;
  const deliveries = (jobId: number) => s.t.db.select().from(jobDeliveries).where(eq(jobDeliveries.jobId, jobId)).orderBy(asc(jobDeliveries.id));

  test('one delivery per job, signed, with the job, its items, timing and cost', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a hook', count: 2, callbackUrl: `${receiver.url}/one` });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    const [got] = await receiver.until(1, '/one');
    assert.ok(verify(got!), 'the signature verifies with WEBHOOK_SECRET');
    assert.equal(got!.headers['content-type'], 'application/json');
    const body = JSON.parse(got!.body);
    assert.equal(got!.headers['x-grokflow-delivery'], body.deliveryId);
    assert.equal(body.jobId, id);
    assert.equal(body.type, 'GROK_VIDEO_GENERATION');
    assert.equal(body.status, 'COMPLETED');
    assert.equal(body.error, null);
    assert.ok(body.timing.completedAt && body.timing.durationMs >= 0);
    assert.equal(body.items.length, 2);
    for (const item of body.items) {
      assert.equal(item.status, 'COMPLETED');
      assert.match(item.sha256, /^[0-9a-f]{64}$/);
      assert.ok(item.bytes > 0 && item.file);
      assert.equal(item.hd, false);
    }
    assert.deepEqual(body.cost, { attempts: 2, moderationRetries: 0 });
    // Give a duplicate the time it would need to show up.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(receiver.received.filter((r) => r.path === '/one').length, 1, 'exactly one delivery');
    const rows = await deliveries(id);
    assert.deepEqual(rows.map((d) => [d.attempt, d.httpStatus, d.error, d.deliveryId]), [[1, 200, null, body.deliveryId]]);
    assert.doesNotMatch(slave.output(), new RegExp(SECRET), 'the secret is never logged');
    const history = JSON.stringify(await s.env.client.workflow.getHandle(job.workflowId!).fetchHistory());
    assert.doesNotMatch(history, new RegExp(SECRET), 'nor in the workflow history');
  });

  test('a job that ends ERROR is delivered too', async () => {
    const missing = path.join(IMAGES_DIR, 'nonexistent.jpg');
    const id = await s.insertJob({ imagePath: missing, prompt: 'no image', callbackUrl: `${receiver.url}/error` });
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000)).status, 'ERROR');
    const [got] = await receiver.until(1, '/error');
    const body = JSON.parse(got!.body);
    assert.ok(verify(got!));
    assert.equal(body.status, 'ERROR');
    assert.ok(body.error.includes(`payload.imagePath: no file at ${missing}`), body.error);
  });

  test('a receiver that answers 500 twice gets the third attempt, same delivery id; the job stays COMPLETED', async () => {
    receiver.answers.set('/flaky', [500, 500]);
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a flaky hook', callbackUrl: `${receiver.url}/flaky` });
    const got = await receiver.until(3, '/flaky');
    assert.equal(new Set(got.map((r) => r.headers['x-grokflow-delivery'])).size, 1, 'one delivery id across the retries');
    assert.ok(got.every(verify));
    const rows = await untilRows(id, (r) => r.some((d) => d.httpStatus === 200));
    assert.deepEqual(rows.map((d) => [d.attempt, d.httpStatus, d.error]), [[1, 500, 'HTTP 500'], [2, 500, 'HTTP 500'], [3, 200, null]]);
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
  });

  test('a final 4xx is not retried, and does not change the job', async () => {
    receiver.answers.set('/gone', [410]);
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a gone hook', callbackUrl: `${receiver.url}/gone` });
    await receiver.until(1, '/gone');
    await untilRows(id, (r) => r.some((d) => d.httpStatus === 410));
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(receiver.received.filter((r) => r.path === '/gone').length, 1, 'no retry after 410');
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
  });

  test('a receiver that is down for a while gets the delivery when it comes back', async () => {
    const port = await freeLoopbackPort();
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a sleeping hook', callbackUrl: `http://127.0.0.1:${port}/late` });
    const failed = await untilRows(id, (r) => r.filter((d) => d.error && /ECONNREFUSED/.test(d.error)).length >= 2);
    assert.ok(failed.every((d) => d.httpStatus === null));
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'])).status, 'COMPLETED', 'the job ended regardless');
    const late = await startReceiver(port);
    try {
      const [got] = await late.until(1, '/late');
      assert.ok(verify(got!));
      assert.equal(JSON.parse(got!.body).jobId, id);
      const rows = await untilRows(id, (r) => r.some((d) => d.httpStatus === 200));
      assert.equal(new Set(rows.map((d) => d.deliveryId)).size, 1);
    } finally {
      await late.close();
    }
  });

  test('grokflow jobs redeliver sends it again with a new delivery id, and jobs show lists the attempts', async () => {
    const [first] = await receiver.until(1, '/one');
    const id = JSON.parse(first!.body).jobId as number;
    const r = await runCli(['jobs', 'redeliver', String(id)], { env: s.configEnv });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`job ${id}: callback redelivery started`));
    const got = await receiver.until(2, '/one');
    assert.notEqual(got[1]!.headers['x-grokflow-delivery'], got[0]!.headers['x-grokflow-delivery']);
    assert.ok(verify(got[1]!));
    await untilRows(id, (rows) => rows.filter((d) => d.httpStatus === 200).length === 2);
    const shown = await runCli(['jobs', 'show', String(id)], { env: s.configEnv });
    assert.match(shown.stdout, /deliveries/);
    assert.equal(shown.stdout.match(/ 200 /g)?.length, 2, shown.stdout);
    const noHook = await s.insertJob({ imageUrl: post(), prompt: 'no hook' });
    await s.waitForJob(noHook, ['COMPLETED', 'ERROR'], 120_000);
    const refused = await runCli(['jobs', 'redeliver', String(noHook)], { env: s.configEnv });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`job ${noHook} has no callbackUrl`));
  });

  test('a payload the master rejects at claim still gets its callback, once: ERROR with the validation message', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'too many', count: 500, callbackUrl: `${receiver.url}/rejected` });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'ERROR');
    assert.match(job.errorMessage ?? '', /payload\.count/);
    const [got] = await receiver.until(1, '/rejected');
    assert.ok(verify(got!));
    const body = JSON.parse(got!.body);
    assert.equal(body.jobId, id);
    assert.equal(body.status, 'ERROR');
    assert.equal(body.error, job.errorMessage);
    await untilRows(id, (r) => r.some((d) => d.httpStatus === 200));
    // Give a duplicate (a second start, a retried claim) the time it would need to show up.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(receiver.received.filter((r) => r.path === '/rejected').length, 1, 'exactly one delivery');
    // Rejected while PENDING, the job has no workflow id: its callback's id is built from the job's.
    const callback = await s.env.client.workflow.getHandle(`callback(${job.workflowId ?? jobWorkflowId(job.type, id)})`).describe();
    assert.equal(callback.status.name, 'COMPLETED');
  });

  test('a workflow terminated mid-generation still gets its callback, once: ERROR "terminated"', async () => {
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a long one #sim:slow=120', callbackUrl: `${receiver.url}/terminated` });
    await s.untilGenerating(id);
    const [row] = await s.t.db.select({ workflowId: jobs.workflowId }).from(jobs).where(eq(jobs.id, id));
    await s.env.client.workflow.getHandle(row!.workflowId!).terminate('operator stop');
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 60_000);
    assert.equal(job.errorMessage, 'terminated');
    const [got] = await receiver.until(1, '/terminated');
    assert.ok(verify(got!));
    const body = JSON.parse(got!.body);
    assert.equal(body.jobId, id);
    assert.equal(body.status, 'ERROR');
    assert.equal(body.error, 'terminated');
    assert.equal(body.items[0].status, 'FAILED');
    await untilRows(id, (r) => r.some((d) => d.httpStatus === 200));
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(receiver.received.filter((r) => r.path === '/terminated').length, 1, 'exactly one delivery');
  });

  test('a slave killed mid-delivery does not lose it: another slave delivers, same delivery id', async () => {
    receiver.answers.set('/killed', ['hang']);
    const id = await s.insertJob({ imageUrl: post(), prompt: 'a killed hook', callbackUrl: `${receiver.url}/killed` });
    await receiver.until(1, '/killed');
    slave.child.kill('SIGKILL');
    await slave.exited;
    slave = startSlaveProcess(s.configEnv, {}, children);
    await slave.ready;
    const got = await receiver.until(2, '/killed');
    assert.equal(got[1]!.headers['x-grokflow-delivery'], got[0]!.headers['x-grokflow-delivery'], 'a duplicate carries the same delivery id');
    const rows = await untilRows(id, (r) => r.some((d) => d.httpStatus === 200));
    assert.equal(rows.at(-1)!.attempt, 2);
    assert.equal((await s.waitForJob(id, ['COMPLETED', 'ERROR'])).status, 'COMPLETED');
  });

  async function untilRows(jobId: number, ok: (rows: Awaited<ReturnType<typeof deliveries>>) => boolean, timeoutMs = 120_000) {
    let rows: Awaited<ReturnType<typeof deliveries>> = [];
    return waitFor(() => `job ${jobId}'s deliveries: ${JSON.stringify(rows)}`, async () => {
      rows = await deliveries(jobId);
      return ok(rows) && rows;
    }, timeoutMs, 100);
  }
});
