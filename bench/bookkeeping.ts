import { startStack } from '../test/helpers/stack';
import type { BenchRow } from './slave';

// Issue 17's targets: status changes never queue behind generations. Every generation slot
// of the slave is kept busy by a backlog of one-video jobs; per job, from the database's and
// the simulator's clocks (one host):
// - generation end → COMPLETED (finishJob, for jobs whose generation ended while others
//   still waited for a slot);
// - INQUEUE → PROGRESS (startJob, while every slot was busy).

const SLOTS = 3;
const JOBS = 24;
const GENERATION_MS = 3000;
const TARGET_MS = 1000;
const INSERT_EVERY_MS = 500;

/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function runBookkeepingBench(): Promise<BenchRow[]> {
  const s = await startStack({
    simulator: { generationMs: GENERATION_MS },
    env: { SLAVE_CONCURRENT_ACTIVITIES: String(SLOTS), PROGRESS_THROTTLE_MS: '1000', LOG_LEVEL: 'error' },
    activityTimeouts: { heartbeat: '20 seconds' },
  });
  try {
    const job = (prompt: string) => s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt });
    await s.waitForJob(await job(`warm-up ${Date.now()}`), ['COMPLETED'], 120_000);

    // One job every INSERT_EVERY_MS: faster than the slots finish them (a backlog builds up,
    // every slot stays busy), yet each start measured alone rather than as a burst.
    const prompts = Array.from({ length: JOBS }, (_, i) => `backlog ${i} ${Date.now()}`);
    const ids: number[] = [];
    for (const p of prompts) {
      ids.push(await job(p));
      await new Promise((r) => setTimeout(r, INSERT_EVERY_MS));
    }
    const done = await Promise.all(ids.map((id) => s.waitForJob(id, ['COMPLETED'], 600_000)));

    const gens = prompts.map((p) => s.simulator.generations.find((g) => g.prompt === p)!);
    const lastStart = Math.max(...gens.map((g) => g.startedAt));
    // An item's last write is generateItem's own (COMPLETED with its file): its updated_at
    // splits generation end → COMPLETED into the generation slot's part and bookkeeping's.
    const itemDone = await Promise.all(ids.map(async (id) => (await s.items(id))[0]!.updatedAt.getTime()));
    const finish: number[] = [];
    const download: number[] = [];
    const bookkeeping: number[] = [];
    const start: number[] = [];
    done.forEach((j, i) => {
      const end = gens[i]!.startedAt + gens[i]!.durationMs;
      // Slots still saturated when this generation ended: another job's generation began later.
      if (end < lastStart) {
        finish.push(j.completedAt!.getTime() - end);
        download.push(itemDone[i]! - end);
        bookkeeping.push(j.completedAt!.getTime() - itemDone[i]!);
      }
      // Every job after the first SLOTS was claimed while the slots were busy with others.
      if (i >= SLOTS) start.push(j.startedAt!.getTime() - j.queuedAt!.getTime());
    });
    const row = (measure: string, xs: number[]): BenchRow[] => [
      { measure: `${measure} (p95 of ${xs.length})`, value: seconds(percentile(xs, 95)), target: '< 1 s', verdict: percentile(xs, 95) < TARGET_MS ? 'PASS' : 'FAIL' },
      { measure: `${measure} (median, max)`, value: `${seconds(percentile(xs, 50))}, ${seconds(Math.max(...xs))}`, target: '', verdict: '' },
    ];
    return [
      ...row(`generation end → COMPLETED, all ${SLOTS} slots busy`, finish),
      { measure: '  of which the download, in the generation slot (median, p95)', value: `${seconds(percentile(download, 50))}, ${seconds(percentile(download, 95))}`, target: '', verdict: '' },
      { measure: '  of which item saved → job COMPLETED, bookkeeping (median, p95)', value: `${seconds(percentile(bookkeeping, 50))}, ${seconds(percentile(bookkeeping, 95))}`, target: '', verdict: '' },
      ...row(`INQUEUE → PROGRESS, all ${SLOTS} slots busy`, start),
      { measure: `${JOBS} jobs of ${GENERATION_MS / 1000} s generations on ${SLOTS} slots: wall time`, value: seconds(Math.max(...done.map((j) => j.completedAt!.getTime())) - Math.min(...done.map((j) => j.createdAt.getTime()))), target: '', verdict: '' },
    ];
  } finally {
    await s.stop();
  }
}
