import { startStack } from '../test/helpers/stack';
import type { BenchRow } from './slave';

// Issue 12's figures for the API backend, against the simulator's stand-in of xAI's API:
// - one video job's overhead: INSERT → COMPLETED minus the stand-in's generation time;
// - the rate Temporal's task-queue limit holds: JOBS one-video jobs inserted at once, the
//   stand-in's submissions per second from first to last (target: at most
//   XAI_REQUESTS_PER_SECOND), and the largest burst in any one second;
// - batch vs direct (issue 23): one job of BATCH_ITEMS videos sent as direct calls, then the
//   same as one batch ("route": "batch"): wall time INSERT → COMPLETED and the requests each
//   made to the API (every POST and GET the stand-in answered under /v1, polls included).

const GENERATION_MS = 2000;
const POLL_MS = 250;
const JOBS = 10;
const BATCH_ITEMS = 10;
const BATCH_POLL_MS = 1000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function runApiBench(): Promise<BenchRow[]> {
  const s = await startStack({
    simulator: { generationMs: GENERATION_MS },
    env: { XAI_POLL_INTERVAL_MS: String(POLL_MS), XAI_BATCH_POLL_INTERVAL_MS: String(BATCH_POLL_MS), XAI_REQUESTS_PER_SECOND: '1', SLAVE_CONCURRENT_ACTIVITIES: String(JOBS), LOG_LEVEL: 'error' },
  });
  try {
    const job = (prompt: string) => s.insertJob({ prompt, duration: '6s', backend: 'api' });
    await s.waitForJob(await job(`warm-up ${Date.now()}`), ['COMPLETED'], 120_000);

    const overheads: number[] = [];
    for (let i = 0; i < 3; i++) {
      const done = await s.waitForJob(await job(`single ${i} ${Date.now()}`), ['COMPLETED'], 120_000);
      overheads.push(done.completedAt!.getTime() - done.createdAt.getTime() - GENERATION_MS);
    }

    const prompts = Array.from({ length: JOBS }, (_, i) => `burst ${i} ${Date.now()}`);
    const ids = await Promise.all(prompts.map(job));
    const done = await Promise.all(ids.map((id) => s.waitForJob(id, ['COMPLETED'], 600_000)));
    const at = prompts.map((p) => s.simulator.xai.accepted(p)[0]!.at).sort((a, b) => a - b);
    const perSecond = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length));
    const span = at[at.length - 1]! - at[0]!;
    const rate = (at.length - 1) / (span / 1000);
    const wall = Math.max(...done.map((j) => j.completedAt!.getTime())) - Math.min(...done.map((j) => j.createdAt.getTime()));

    const routes: Record<string, { wallMs: number; requests: number }> = {};
    for (const route of ['direct', 'batch'] as const) {
      const before = s.simulator.xai.callsMade();
      const prompts = Array.from({ length: BATCH_ITEMS }, (_, i) => `${route} ${i} ${Date.now()}`);
      const j = await s.waitForJob(await s.insertJob({ prompts, duration: '6s', backend: 'api', route }), ['COMPLETED'], 600_000);
      routes[route] = { wallMs: j.completedAt!.getTime() - j.createdAt.getTime(), requests: s.simulator.xai.callsMade() - before };
    }
    return [
      { measure: `1 video job: INSERT → COMPLETED minus the ${GENERATION_MS / 1000} s generation (median of 3, polling every ${POLL_MS} ms)`, value: seconds([...overheads].sort((a, b) => a - b)[1]!), target: '', verdict: '' },
      { measure: `${JOBS} jobs at once: submissions per second, first → last`, value: rate.toFixed(2), target: '≤ 1', verdict: rate <= 1 ? 'PASS' : 'FAIL' },
      // Temporal's limiter is a token bucket: an idle queue lets a short burst through.
      { measure: `${JOBS} jobs at once: most submissions in any 1 s (burst)`, value: String(perSecond), target: '', verdict: '' },
      { measure: `${JOBS} jobs at once: first → last submission`, value: seconds(span), target: `≥ ${JOBS - 1} s`, verdict: '' },
      { measure: `${JOBS} jobs at once: wall time`, value: seconds(wall), target: '', verdict: '' },
      ...(['direct', 'batch'] as const).flatMap((route) => [
        { measure: `1 job of ${BATCH_ITEMS} videos, ${route}: INSERT → COMPLETED (${route === 'batch' ? `batch looked at every ${BATCH_POLL_MS} ms` : `polling every ${POLL_MS} ms`})`, value: seconds(routes[route]!.wallMs), target: '', verdict: '' },
        { measure: `1 job of ${BATCH_ITEMS} videos, ${route}: requests made to the API`, value: String(routes[route]!.requests), target: '', verdict: '' },
      ]),
    ];
  } finally {
    await s.stop();
  }
}
