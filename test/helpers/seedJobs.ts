import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { TICKS_PER_USD } from '../../src/backends/api/cost';
import { jobItems, jobs, type JobStatus } from '../../src/shared/db/schema';
import type { TestDatabase } from './db';

// A pipeline's history as rows: a few hundred jobs of both types, every status, several
// accounts and pools, api costs, moderated items, spread over the last days. Finished items
// get real files: the simulator's own generated video and image, copied as the results a
// slave would have stored (the generation itself is tested elsewhere; here the pages are).

const ASSETS = path.join(__dirname, '..', '..', 'src', 'simulator', 'assets');
export const SEED_ACCOUNTS = ['alice', 'bob', 'carol', 'xai'] as const;
const WORDS = ['fox', 'lighthouse', 'desert', 'neon city', 'waterfall', 'robot', 'forest', 'harbour', 'comet', 'glacier'];

export interface SeededItem { jobId: number; index: number; prompt: string; account: string; file: string | null; costTicks: number | null; status: string; moderationRetries: number }
export interface Seeded { jobIds: number[]; items: SeededItem[] }

/** Deterministic: the same rows on every run (a small linear congruential generator). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

export async function seedJobs(t: TestDatabase, downloadsDir: string, count = 300, seed = 7): Promise<Seeded> {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const now = Date.now();
  const jobRows = Array.from({ length: count }, (_, i) => {
    const video = rnd() < 0.7;
    const account = pick(SEED_ACCOUNTS);
    const api = account === 'xai';
    // Mostly finished, some failed, a few still on their way.
    const r = rnd();
    const status: JobStatus = r < 0.62 ? 'COMPLETED' : r < 0.82 ? 'ERROR' : r < 0.9 ? 'PROGRESS' : r < 0.95 ? 'INQUEUE' : 'PENDING';
    const created = new Date(now - Math.floor(rnd() * 5 * 86_400_000) - 3_600_000);
    const ran = 20_000 + Math.floor(rnd() * 200_000);
    const ended = status === 'COMPLETED' || status === 'ERROR';
    return {
      type: video ? 'GROK_VIDEO_GENERATION' : 'GROK_IMAGE_GENERATION',
      status,
      payload: { prompt: `a ${pick(WORDS)} at dusk, take ${i}`, ...(api ? { backend: 'api' } : {}), ...(rnd() < 0.3 ? { pool: 'night' } : {}) },
      account,
      backend: api ? 'api' : 'browser',
      progress: status === 'COMPLETED' ? 100 : status === 'PROGRESS' ? 40 : 0,
      createdAt: created,
      updatedAt: created,
      startedAt: status === 'PENDING' || status === 'INQUEUE' ? null : new Date(created.getTime() + 2_000),
      completedAt: ended ? new Date(created.getTime() + 2_000 + ran) : null,
      durationMs: ended ? ran : null,
      errorMessage: status === 'ERROR' ? 'every item failed' : null,
    };
  });
  const inserted = await t.db.insert(jobs).values(jobRows).returning({ id: jobs.id, type: jobs.type, status: jobs.status, account: jobs.account, backend: jobs.backend, payload: jobs.payload });
  const items: SeededItem[] = [];
  const itemRows: Array<typeof jobItems.$inferInsert> = [];
  for (const j of inserted) {
    const n = j.type === 'GROK_VIDEO_GENERATION' ? 1 : 2;
    for (let index = 0; index < n; index++) {
      const status = j.status === 'COMPLETED' ? (rnd() < 0.1 ? 'CONTENT_MODERATED' : 'COMPLETED') : j.status === 'ERROR' ? pick(['FAILED', 'CONTENT_MODERATED'] as const) : j.status === 'PROGRESS' ? 'RUNNING' : 'PENDING';
      const moderationRetries = status === 'PENDING' ? 0 : Math.floor(rnd() * rnd() * 3);
      const costTicks = j.backend === 'api' && status !== 'PENDING' ? Math.round((0.05 + rnd() * 0.5) * TICKS_PER_USD) : null;
      let file: string | null = null;
      if (status === 'COMPLETED') {
        const name = j.type === 'GROK_VIDEO_GENERATION' ? 'generated_video.mp4' : 'image.jpg';
        file = path.join(downloadsDir, String(j.id), `${index}-${name}`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.copyFileSync(path.join(ASSETS, name), file);
      }
      const prompt = (j.payload as { prompt: string }).prompt;
      itemRows.push({ jobId: j.id, index, prompt, status, attempts: status === 'PENDING' ? 0 : 1 + moderationRetries, moderationRetries, filePath: file, bytes: file ? fs.statSync(file).size : null, duration: file && j.type === 'GROK_VIDEO_GENERATION' ? '6s' : null, account: j.account, costTicks });
      items.push({ jobId: j.id, index, prompt, account: j.account!, file, costTicks, status, moderationRetries });
    }
  }
  await t.db.insert(jobItems).values(itemRows);
  // A job's cost is the sum of its items' (as the slave keeps it).
  await t.db.execute(sql`UPDATE jobs j SET cost_ticks = s.c FROM (SELECT job_id, sum(cost_ticks) AS c FROM job_items GROUP BY job_id) s WHERE s.job_id = j.id AND s.c IS NOT NULL`);
  return { jobIds: inserted.map((j) => j.id), items };
}
