import { startStack, type Stack } from '../test/helpers/stack';

// Issue 13's target on the whole service: 30 one-video jobs naming no account over 3
// accounts (default, alice, bob), with bob rate limited for an hour, against the same 30
// with no rate limit. Jobs per minute of each and their ratio (goal ≥ 0.6: the pool keeps
// two thirds of its capacity busy instead of stalling on the limited account).

export interface BenchRow {
  measure: string;
  value: string;
  target: string;
  verdict: string;
}

const JOBS = 30;
const GENERATION_MS = 3000;

async function jobsPerMinute(s: Stack, label: string): Promise<number> {
  const post = s.simulator.createPost('default');
  const t0 = Date.now();
  const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => s.insertJob({ imageUrl: post.url, prompt: `${label} ${i}` })));
  const jobs = await Promise.all(ids.map((id) => s.waitForJob(id, ['COMPLETED', 'ERROR'], 900_000)));
  const failed = jobs.filter((j) => j.status !== 'COMPLETED');
  if (failed.length) throw new Error(`${failed.length} jobs ended ERROR: ${failed[0]!.errorMessage}`);
  return (JOBS / (Date.now() - t0)) * 60_000;
}

export async function runPoolBench(): Promise<BenchRow[]> {
  const s = await startStack({
    simulator: { generationMs: GENERATION_MS },
    // 2 generations per account, 6 activity slots: the three accounts are the limit, not the slave.
    env: { ACCOUNT_CONCURRENCY: '2', ACCOUNT_MIN_GAP_MS: '0', ACCOUNT_BUSY_RETRY_MS: '1000', SLAVE_CONCURRENT_ACTIVITIES: '6', PROGRESS_THROTTLE_MS: '1000', LOG_LEVEL: 'error' },
  });
  try {
    await jobsPerMinute(s, 'warm-up'); // browser launch, workflow bundle, prewarmed contexts
    const free = await jobsPerMinute(s, 'no rate limit');
    s.simulator.rateLimit('bob', 3600_000);
    const limited = await jobsPerMinute(s, 'bob rate limited');
    const ratio = limited / free;
    return [
      { measure: `${JOBS} jobs over 3 accounts, none rate limited: jobs/min`, value: free.toFixed(1), target: '', verdict: '' },
      { measure: `${JOBS} jobs over 3 accounts, bob rate limited (1 h): jobs/min`, value: limited.toFixed(1), target: '', verdict: '' },
      { measure: 'ratio (rate limited / not)', value: ratio.toFixed(2), target: '≥ 0.6', verdict: ratio >= 0.6 ? 'PASS' : 'FAIL' },
    ];
  } finally {
    await s.stop();
  }
}
