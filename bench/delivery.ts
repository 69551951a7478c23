import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/shared/config';
import { ObjectStore } from '../src/shared/storage/objectStore';
import { resolveCallback } from '../src/shared/webhooks/callbackAddress';
import { postJson, signBody } from '../src/shared/webhooks/post';
import { startReceiver } from '../test/helpers/receiver';
import { startVersitygw } from '../test/helpers/versitygw';

export interface DeliveryRow {
  what: string;
  size: string;
  ms: number;
  'MB/s': string;
}

/** Uploads to a local versitygw (single PUT, multipart, the idempotent re-check) and a signed callback. */
export async function runDeliveryBench(): Promise<DeliveryRow[]> {
  const gw = await startVersitygw();
  const receiver = await startReceiver();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-bench-'));
  const rows: DeliveryRow[] = [];
  try {
    const store = new ObjectStore(loadConfig(gw.env('bench')));
    for (const mb of [4, 50]) {
      const file = path.join(dir, `${mb}.mp4`);
      const body = crypto.randomBytes(mb * 1024 * 1024);
      fs.writeFileSync(file, body);
      const sha = crypto.createHash('sha256').update(body).digest('hex');
      let t0 = performance.now();
      await store.put(file, store.key(`${mb}.mp4`), sha, 'video/mp4');
      const ms = performance.now() - t0;
      rows.push({ what: mb > 5 ? 'upload (multipart, 5 MiB parts)' : 'upload (single PUT)', size: `${mb} MiB`, ms: Math.round(ms), 'MB/s': (mb / (ms / 1000)).toFixed(0) });
      t0 = performance.now();
      await store.put(file, store.key(`${mb}.mp4`), sha, 'video/mp4');
      rows.push({ what: 'retry: same sha256 found, no upload', size: `${mb} MiB`, ms: Math.round(performance.now() - t0), 'MB/s': '' });
    }
    store.destroy();
    const target = await resolveCallback(`${receiver.url}/bench`, true);
    const payload = JSON.stringify({ jobId: 1, items: Array.from({ length: 10 }, (_, index) => ({ index, sha256: 'f'.repeat(64) })) });
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await postJson(target, payload, { 'x-grokflow-signature': signBody(payload, 'bench') }, 5000);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    rows.push({ what: 'signed callback POST to loopback (median of 50)', size: `${payload.length} B`, ms: Math.round(times[25]! * 10) / 10, 'MB/s': '' });
  } finally {
    await receiver.close();
    await gw.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
