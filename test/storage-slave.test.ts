import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, show } from './helpers/cli';
import { startSlaveProcess, untilLogged, type SlaveProcess } from './helpers/slaveProcess';
import { startStack, type Stack } from './helpers/stack';
import { startVersitygw, type Versitygw } from './helpers/versitygw';

// OUTPUT_URL end to end: `npm run slave` processes storing into a real S3-compatible server
// (versitygw, POSIX backend), one at a time, with the master, Temporal and Postgres up.

describe('object storage: slaves upload each item and its HD twin to OUTPUT_URL', () => {
  let s: Stack;
  let gw: Versitygw;
  let identity: string;
  const children: ChildProcess[] = [];
  before(async () => {
    gw = await startVersitygw();
    // A short heartbeat timeout, so a killed worker's activity is retried within seconds.
    s = await startStack({ slave: false, activityTimeouts: { heartbeat: '4 seconds' } });
    identity = (await s.t.pool.query('SELECT identity FROM grokflow_instance')).rows[0].identity;
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await s?.stop();
    await gw?.stop();
  });

  const startSlave = (env: Record<string, string>): SlaveProcess => startSlaveProcess(s.configEnv, env, children);
  async function stopSlave(slave: SlaveProcess) {
    slave.child.kill('SIGTERM');
    assert.equal(await slave.exited, 0, slave.output());
  }
  const count = (text: string, part: string) => text.split(part).length - 1;

  test('a 2-video job with upscale lands 4 objects whose sha256 match the rows; local copies go', async () => {
    const slave = startSlave(gw.env('videos'));
    await slave.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'two foxes', count: 2, upscale: true });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    await stopSlave(slave);

    const objects = await gw.objects('videos/');
    const base = `videos/${identity}/${id}`;
    assert.deepEqual(objects.map((o) => o.key), [`${base}/0.mp4`, `${base}/0_hd.mp4`, `${base}/1.mp4`, `${base}/1_hd.mp4`]);
    const items = await s.items(id);
    for (const item of items) {
      assert.equal(item.status, 'COMPLETED');
      assert.equal(item.objectUrl, `s3://${gw.bucket}/${base}/${item.index}_hd.mp4`, 'the row names the HD object');
      assert.equal(item.hd, true);
      assert.equal(item.filePath, null, 'KEEP_LOCAL_COPY is false by default with OUTPUT_URL');
      assert.equal(item.files?.length, 2);
      for (const f of item.files!) {
        const object = objects.find((o) => `s3://${gw.bucket}/${o.key}` === f.url);
        assert.ok(object, `object ${f.url} exists`);
        assert.equal(object.sha256, f.sha256, `${f.url}: the bytes stored are the bytes recorded`);
        assert.equal(object.bytes, f.bytes);
        assert.equal(object.metaSha256, f.sha256);
        assert.equal(f.path, null);
      }
      assert.equal(item.files!.find((f) => f.hd)?.sha256, item.sha256, 'the row\'s sha256 is the HD file\'s');
    }
    const left = fs.readdirSync(path.join(s.dir, 'downloads', String(id))).filter((f) => f.endsWith('.mp4'));
    assert.deepEqual(left, [], 'no local video kept');
    assert.equal(count(slave.output(), '"msg":"object uploaded"'), 4);
    assert.deepEqual((job.result as { files: Array<{ url: string }> }).files.map((f) => f.url), items.map((i) => i.objectUrl));
    const shown = await runCli(['jobs', 'show', String(id)], { env: s.configEnv });
    assert.equal(shown.code, 0, show(shown));
    for (const o of objects) assert.ok(shown.stdout.includes(`s3://${gw.bucket}/${o.key}`), `jobs show lists ${o.key}:\n${shown.stdout}`);
  });

  test('KEEP_LOCAL_COPY=true keeps the file beside its object; image jobs are stored too', async () => {
    const slave = startSlave({ ...gw.env('kept'), KEEP_LOCAL_COPY: 'true' });
    await slave.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a kept fox' });
    const image = await s.insertJob({ prompt: 'a kept lighthouse' }, 'GROK_IMAGE_GENERATION');
    for (const j of [id, image]) {
      const job = await s.waitForJob(j, ['COMPLETED', 'ERROR'], 120_000);
      assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    }
    await stopSlave(slave);
    const [item] = await s.items(id);
    assert.ok(item?.filePath && fs.existsSync(item.filePath), 'the local file stays');
    assert.equal((await gw.objects(`kept/${identity}/${id}/`)).length, 1);
    const [imageItem] = await s.items(image);
    const [stored] = await gw.objects(`kept/${identity}/${image}/`);
    assert.equal(stored?.key, `kept/${identity}/${image}/0.jpg`);
    assert.equal(stored?.sha256, imageItem?.sha256);
    assert.equal(imageItem?.objectUrl, `s3://${gw.bucket}/${stored?.key}`);
  });

  test('a slave killed after the download, before the upload: the retry uploads it, once, without downloading again', async () => {
    const first = startSlave({ ...gw.env('killed'), UPLOAD_TEST_PAUSE_MS: '600000' });
    await first.ready;
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'an interrupted upload' });
    await untilLogged(first, 'test hook: pausing before the upload');
    const downloaded = path.join(s.dir, 'downloads', String(id), '0.mp4');
    assert.ok(fs.existsSync(downloaded), 'the file was downloaded before the kill');
    first.child.kill('SIGKILL');
    await first.exited;
    assert.deepEqual(await gw.objects('killed/'), [], 'nothing was uploaded before the kill');

    const second = startSlave(gw.env('killed'));
    await second.ready;
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 120_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
    await stopSlave(second);
    const [item] = await s.items(id);
    assert.equal(item?.attempts, 2);
    const objects = await gw.objects('killed/');
    assert.deepEqual(objects.map((o) => o.key), [`killed/${identity}/${id}/0.mp4`]);
    assert.equal(objects[0]!.sha256, item?.sha256);
    assert.equal(count(second.output(), '"msg":"object uploaded"'), 1, 'uploaded once');
    assert.match(second.output(), /already downloaded|"reused":true|item completed/);
    assert.doesNotMatch(second.output(), /"msg":"video generated"/, 'the retry did not generate or download again');
  });

  test('a wrong secret fails the items with a clear error; the job follows minSuccessful', async () => {
    const slave = startSlave({ ...gw.env('denied'), AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    await slave.ready;
    const strict = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'denied', count: 2 });
    const lenient = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'denied but fine', count: 2, minSuccessful: 0 });
    const failed = await s.waitForJob(strict, ['COMPLETED', 'ERROR'], 180_000);
    const done = await s.waitForJob(lenient, ['COMPLETED', 'ERROR'], 180_000);
    await stopSlave(slave);
    assert.equal(failed.status, 'ERROR');
    assert.match(failed.errorMessage ?? '', /0 of 2 items completed, 2 required: item 0 FAILED \(storing s3:\/\/grokflow-test\/denied\/.*\/0\.mp4: the storage refused the credentials/);
    assert.equal(done.status, 'COMPLETED', done.errorMessage ?? '');
    for (const item of [...(await s.items(strict)), ...(await s.items(lenient))]) {
      assert.equal(item.status, 'FAILED');
      assert.equal(item.attempts, 1, 'refused credentials are not retried');
      assert.match(item.error ?? '', /refused the credentials \(check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/);
    }
    assert.doesNotMatch(slave.output(), /not-the-secret/, 'the secret is not logged');
    assert.deepEqual(await gw.objects('denied/'), []);
  });
});
