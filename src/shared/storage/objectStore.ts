import fs from 'node:fs';
import { HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config';

/** Where OUTPUT_URL points: a bucket and a key prefix (no leading or trailing slash). */
export interface OutputLocation {
  bucket: string;
  prefix: string;
}

export function parseOutputUrl(url: string): OutputLocation {
  const u = new URL(url);
  if (u.protocol !== 's3:') throw new Error(`OUTPUT_URL must be s3://bucket[/prefix], got ${url}`);
  return { bucket: u.hostname, prefix: u.pathname.replace(/^\/+|\/+$/g, '') };
}

/** The object's URL as rows, the CLI and webhooks show it. */
export function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export interface StoredObject {
  url: string;
  key: string;
  /** false: an object with the same sha256 was already there (a retried activity). */
  uploaded: boolean;
}

/** Credentials refused by the server: no retry will fix them. */
const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidClientTokenId', 'Forbidden']);

export class StorageError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'StorageError';
  }
}

/** An S3-compatible bucket (OUTPUT_URL) grokflow writes finished files to. */
export class ObjectStore {
  readonly location: OutputLocation;
  private readonly client: S3Client;

  constructor(config: Pick<Config, 'OUTPUT_URL' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY'>) {
    if (!config.OUTPUT_URL) throw new Error('OUTPUT_URL is not set');
    this.location = parseOutputUrl(config.OUTPUT_URL);
    const credentials = config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
      : undefined; // the SDK's default chain: profile, SSO, instance role…
    this.client = new S3Client({
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      credentials,
      // Temporal retries the activity; the SDK's own few quick retries cover blips only.
      maxAttempts: 3,
    });
  }

  key(...parts: string[]): string {
    return [this.location.prefix, ...parts].filter(Boolean).join('/');
  }

  /**
   * Uploads the file unless the object is already there with the same sha256 (kept in the
   * object's metadata): a retried activity does not upload again. lib-storage's Upload goes
   * multipart for files above its part size (5 MiB) and single PUT below.
   */
  async put(filePath: string, key: string, sha256: string, contentType?: string): Promise<StoredObject> {
    const url = objectUrl(this.location.bucket, key);
    try {
      if ((await this.storedSha256(key)) === sha256) return { url, key, uploaded: false };
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.location.bucket, Key: key, Body: fs.createReadStream(filePath), ContentType: contentType, Metadata: { sha256 } },
        leavePartsOnError: false,
      });
      await upload.done();
      return { url, key, uploaded: true };
    } catch (err) {
      throw storageError(err, url);
    }
  }

  /** The sha256 recorded on the object, undefined when there is no object. */
  async storedSha256(key: string): Promise<string | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: key }));
      return head.Metadata?.sha256;
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      // 403: S3 answers a HEAD of a missing key so when the key may not list the bucket; the
      // upload that follows tells a refused key from a missing object.
      if (err instanceof NotFound || status === 404 || status === 403) return undefined;
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

function storageError(err: unknown, url: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const credentials = CREDENTIAL_ERRORS.has(name) || status === 403;
  const why = credentials ? 'the storage refused the credentials (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' : 'upload failed';
  // A HEAD answers 403 without a body, so the SDK can name it by status only.
  const known = e.message && !/^Unknown/.test(name) && e.message !== 'UnknownError';
  const detail = known ? `${name}: ${e.message}` : `HTTP ${status ?? '?'}`;
  return new StorageError(`storing ${url}: ${why}: ${detail}`, !credentials);
}
