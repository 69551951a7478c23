import type { ItemSuccess } from '../../backends/types';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import { generationSeconds, itemsTotal } from '../../shared/metrics';
import type { ObjectStore } from '../../shared/storage/objectStore';
import { setItem } from '../activities/jobs';
import { keepLocalCopy, removeLocalCopies, storeItem } from '../activities/storeFiles';
import type { ProgressHandle } from '../progress';

/**
 * A generated item's last steps: its files stored (OUTPUT_URL), the row COMPLETED with what
 * the backend reported, the local copies removed once the row no longer needs them.
 */
export async function completeItem(
  deps: { db: Db; config: Config; store?: ObjectStore; logger: Logger },
  { jobId, index, type, outcome, progress, startedAt }: { jobId: number; index: number; type: string; outcome: ItemSuccess; progress: ProgressHandle; startedAt: number },
): Promise<void> {
  const { db, config, store, logger } = deps;
  const files = await storeItem(deps, { jobId, index, outcome, onStoring: () => progress.update(99, 'storing') });
  const main = files[files.length - 1]!;
  const mainFile = outcome.files[outcome.files.length - 1]!;
  await setItem(db, jobId, index, {
    status: 'COMPLETED', mediaUrl: mainFile.mediaUrl, filePath: mainFile.filePath, sha256: mainFile.sha256,
    bytes: mainFile.bytes, hd: mainFile.hd, objectUrl: main.url, files, duration: outcome.duration ?? null, resolution: outcome.resolution ?? null, error: null,
  });
  if (store && !keepLocalCopy(config)) {
    await setItem(db, jobId, index, { filePath: null, files: await removeLocalCopies(files) });
  }
  await progress.stop({ percent: 100, message: 'downloaded' });
  itemsTotal.inc({ type, outcome: 'completed' });
  generationSeconds.observe({ type }, (Date.now() - startedAt) / 1000);
  logger.info({ file: mainFile.filePath, object: main.url ?? undefined, bytes: mainFile.bytes, sha256: mainFile.sha256 }, 'item completed');
}
