import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/shared/config';
import { ObjectStore, parseOutputUrl, StorageError } from '../src/shared/storage/objectStore';
import { startVersitygw, type Versitygw } from './helpers/versitygw';

// The object store against a real S3-compatible server (versitygw, POSIX backend).

describe('object storage (OUTPUT_URL) against versitygw', () => {
  let gw: Versitygw;
  let dir: string;
  before(async () => {
    gw = await startVersitygw();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-store-'));
  });
  after(async () => {
    await gw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('OUTPUT_URL names a bucket and a prefix; anything else is refused naming the variable', () => {
    assert.deepEqual(parseOutputUrl('s3://media/grok/out/'), { bucket: 'media', prefix: 'grok/out' });
    assert.deepEqual(parseOutputUrl('s3://media'), { bucket: 'media', prefix: '' });
    assert.throws(() => loadConfig({ OUTPUT_URL: 'https://media/x' }), /OUTPUT_URL: s3:\/\/bucket\[\/prefix\]/);
  });

  test('a large file goes up in parts, once: the second put finds the same sha256 and skips', async () => {
    const file = path.join(dir, 'big.mp4');
    const body = crypto.randomBytes(12 * 1024 * 1024);
    fs.writeFileSync(file, body);
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    const store = new ObjectStore(loadConfig(gw.env('multi')));
    const first = await store.put(file, store.key('db', '1', 'big.mp4'), sha, 'video/mp4');
    assert.equal(first.uploaded, true);
    assert.equal(first.url, `s3://${gw.bucket}/multi/db/1/big.mp4`);
    const [object] = await gw.objects('multi/');
    assert.equal(object?.sha256, sha, 'the stored bytes are the file');
    assert.equal(object?.metaSha256, sha, 'the sha256 is kept as object metadata');
    assert.match(object?.etag ?? '', /-3"?$/, 'a multipart upload of 3 parts (5 MiB each) made it');
    const second = await store.put(file, store.key('db', '1', 'big.mp4'), sha, 'video/mp4');
    assert.equal(second.uploaded, false, 'a retry does not upload again');
    assert.deepEqual((await gw.objects('multi/'))[0]?.lastModified, object?.lastModified);
    store.destroy();
  });

  test('a changed file under the same key is uploaded again', async () => {
    const file = path.join(dir, 'small.jpg');
    const store = new ObjectStore(loadConfig(gw.env('change')));
    for (const text of ['one', 'two']) {
      fs.writeFileSync(file, text);
      const sha = crypto.createHash('sha256').update(text).digest('hex');
      assert.equal((await store.put(file, store.key('x.jpg'), sha)).uploaded, true);
      assert.equal((await gw.objects('change/'))[0]?.sha256, sha);
    }
    store.destroy();
  });

  test('a wrong secret is a clear, non-retryable error naming the object and the credentials', async () => {
    const file = path.join(dir, 'denied.mp4');
    fs.writeFileSync(file, 'x');
    const store = new ObjectStore(loadConfig({ ...gw.env('denied'), AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    const err = await store.put(file, store.key('a.mp4'), 'abc').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(err.retryable, false);
    assert.match(err.message, new RegExp(`storing s3://${gw.bucket}/denied/a.mp4: the storage refused the credentials \\(check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\\): SignatureDoesNotMatch`));
    assert.doesNotMatch(err.message, /not-the-secret/);
    assert.deepEqual(await gw.objects('denied/'), []);
    store.destroy();
  });
});
