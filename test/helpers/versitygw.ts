import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { toolPath } from '../../src/setup/tools';
import { freeLoopbackPort } from '../../src/shared/freePort';
import { waitFor } from './wait';

export interface Versitygw {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** The settings a grokflow process needs to store into this bucket under `prefix`. */
  env(prefix: string): Record<string, string>;
  /** Every object under the prefix with its metadata and the sha256 of its bytes. */
  objects(prefix: string): Promise<Array<{ key: string; sha256: string; metaSha256?: string; bytes: number; etag?: string; lastModified?: Date }>>;
  stop(): Promise<void>;
}

/** The Versity S3 Gateway on a free port, POSIX backend on a temporary folder, its own keys. */
export async function startVersitygw(): Promise<Versitygw> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-s3-'));
  const port = await freeLoopbackPort();
  const accessKey = `grokflow${crypto.randomBytes(4).toString('hex')}`;
  const secretKey = crypto.randomBytes(18).toString('hex');
  const child = spawn(toolPath('versitygw'), ['--port', `127.0.0.1:${port}`, '--access', accessKey, '--secret', secretKey, '--quiet', 'posix', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => `versitygw to start:\n${out}`, async () => {
    if (await listening(port)) return true;
    if (child.exitCode !== null) throw new Error(`versitygw did not start:\n${out}`);
    return false;
  }, 30_000, 100);
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = 'grokflow-test';
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    endpoint, bucket, accessKey, secretKey,
    env: (prefix) => ({
      OUTPUT_URL: `s3://${bucket}/${prefix}`,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_SECRET_ACCESS_KEY: secretKey,
    }),
    async objects(prefix) {
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      const out = [];
      for (const o of list.Contents ?? []) {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key! }));
        out.push({
          key: o.Key!, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
          metaSha256: head.Metadata?.sha256, etag: head.ETag, lastModified: head.LastModified,
        });
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
