import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import { databaseIdentity } from '../../shared/db/instance';
import { StorageError, type ObjectStore } from '../../shared/storage/objectStore';
import { FailureType } from '../failures';
import type { DownloadedFile, ItemSuccess } from '../../backends/types';
import { setItem } from './jobs';

/** One file of an item as recorded in job_items.files: where it is and what it holds. */
export interface ItemFile {
  hd: boolean;
  /** The local file; null once removed (KEEP_LOCAL_COPY=false). */
  path: string | null;
  /** s3://bucket/key, when OUTPUT_URL is set. */
  url: string | null;
  sha256: string;
  bytes: number;
}

const CONTENT_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png' };

/**
 * The step after a download: with OUTPUT_URL, each file of the item (and its HD twin) goes to
 * `<prefix>/<database identity>/<jobId>/<file name>`. Idempotent: the store skips an object
 * that already holds the same sha256, so a retried activity does not upload twice.
 */
export async function storeItemFiles(
  deps: { db: Db; store?: ObjectStore; logger: Logger },
  jobId: number,
  files: Array<DownloadedFile & { hd: boolean }>,
): Promise<ItemFile[]> {
  const { store } = deps;
  if (!store) return files.map((f) => ({ hd: f.hd, path: f.filePath, url: null, sha256: f.sha256, bytes: f.bytes }));
  const identity = await databaseIdentity(deps.db);
  const stored: ItemFile[] = [];
  for (const f of files) {
    const key = store.key(identity, String(jobId), path.basename(f.filePath));
    const put = await store.put(f.filePath, key, f.sha256, CONTENT_TYPES[path.extname(f.filePath)]);
    deps.logger.info({ object: put.url, bytes: f.bytes, sha256: f.sha256 }, put.uploaded ? 'object uploaded' : 'object already stored');
    stored.push({ hd: f.hd, path: f.filePath, url: put.url, sha256: f.sha256, bytes: f.bytes });
  }
  return stored;
}

/**
 * The item's files, stored when OUTPUT_URL is set. A storage failure is the item's error and
 * a StorageFailed failure: retried by Temporal, unless the storage refused the credentials.
 */
export async function storeItem(
  deps: { db: Db; config: Config; store?: ObjectStore; logger: Logger },
  { jobId, index, outcome, onStoring }: { jobId: number; index: number; outcome: ItemSuccess; onStoring(): void },
): Promise<ItemFile[]> {
  try {
    if (deps.store) {
      onStoring();
      await pauseBeforeUpload(deps.config, deps.logger);
    }
    return await storeItemFiles(deps, jobId, outcome.files);
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    await setItem(deps.db, jobId, index, { error: err.message });
    deps.logger.error({ retryable: err.retryable }, err.message);
    throw ApplicationFailure.create({ type: FailureType.StorageFailed, message: err.message, nonRetryable: !err.retryable });
  }
}

/** Whether the local files stay once stored: KEEP_LOCAL_COPY, default false with OUTPUT_URL. */
export function keepLocalCopy(config: Pick<Config, 'OUTPUT_URL' | 'KEEP_LOCAL_COPY'>): boolean {
  return config.KEEP_LOCAL_COPY ?? !config.OUTPUT_URL;
}

/**
 * Removes the stored files' local copies; called once the row says COMPLETED, so a retry
 * never needs them. The driver's small sidecar stays: without its files it reuses nothing.
 */
export async function removeLocalCopies(files: ItemFile[]): Promise<ItemFile[]> {
  for (const f of files) if (f.path) await fs.promises.rm(f.path, { force: true });
  return files.map((f) => ({ ...f, path: null }));
}

/** Test hook (UPLOAD_TEST_PAUSE_MS, 0 in deployments): a window between download and upload to kill the slave in. */
async function pauseBeforeUpload(config: Pick<Config, 'UPLOAD_TEST_PAUSE_MS'>, logger: Logger): Promise<void> {
  if (config.UPLOAD_TEST_PAUSE_MS <= 0) return;
  logger.warn({ ms: config.UPLOAD_TEST_PAUSE_MS }, 'test hook: pausing before the upload');
  await new Promise((r) => setTimeout(r, config.UPLOAD_TEST_PAUSE_MS));
}
