import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from '../test/helpers/stack';

// Issue 21's backlog targets on the whole service (master, slave, simulator, dev server):
// N one-video jobs inserted at once (a backlog) against the same N inserted a slot's worth
// at a time (no backlog), over 3 accounts and over 1. The backlog must wait as rows: at most
// the slots (+2) in INQUEUE + PROGRESS, the same history and CPU per job as without a
// backlog, the same throughput, started FIFO.
//
// BACKLOG_N (default 10,000: the figure; run a small N on a shared machine, e.g.
// BACKLOG_N=24) and BACKLOG_CONCURRENCY (default: ACCOUNT_CONCURRENCY's default, 10) set
// the size. The slave gets an activity slot per account slot, so the accounts are the limit.

export interface BenchRow {
  accounts: number;
  measure: string;
  value: string;
  target: string;
  verdict: string;
}

const GENERATION_MS = 3000;
const VIDEO = 'GROK_VIDEO_GENERATION';

interface Run {
  jobsPerMin: number;
  peakInFlight: number;
  eventsPerJob: number;
  longestHistory: number;
  cpuSecPerJob: number;
  fifo: boolean;
}

async function historyLength(s: Stack, id: number): Promise<number> {
  const h = await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).fetchHistory();
  return h.events?.length ?? 0;
}

/** Inserts `n` jobs (all at once, or `wave` at a time waiting for each wave) and measures. */
async function run(s: Stack, label: string, n: number, wave: number | undefined): Promise<Run> {
  const post = s.simulator.createPost('default');
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const ids: number[] = [];
  let peak = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const { rows } = await s.t.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE status IN ('INQUEUE', 'PROGRESS')`);
      peak = Math.max(peak, rows[0].n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const step = wave ?? n;
  for (let i = 0; i < n; i += step) {
    const batch: number[] = [];
    for (let k = i; k < Math.min(n, i + step); k++) batch.push(await s.insertJob({ imageUrl: post.url, prompt: `${label} ${k}` }));
    ids.push(...batch);
    if (wave) for (const id of batch) await s.waitForJob(id, ['COMPLETED', 'ERROR'], 3600_000);
  }
  const jobs = [];
  for (const id of ids) jobs.push(await s.waitForJob(id, ['COMPLETED', 'ERROR'], 24 * 3600_000));
  const elapsed = Date.now() - t0;
  done = true;
  await sampler;
  const cpu = process.cpuUsage(cpu0);
  const failed = jobs.filter((j) => j.status !== 'COMPLETED');
  if (failed.length) throw new Error(`${failed.length} jobs ended ERROR: ${failed[0]!.errorMessage}`);
  const lengths: number[] = [];
  for (const id of ids) lengths.push(await historyLength(s, id));
  const { rows: claims } = await s.t.pool.query(`SELECT job_id FROM job_events WHERE to_status = 'INQUEUE' AND job_id = ANY($1::bigint[]) ORDER BY at, id`, [ids]);
  return {
    jobsPerMin: (n / elapsed) * 60_000,
    peakInFlight: peak,
    eventsPerJob: lengths.reduce((a, b) => a + b, 0) / n,
    longestHistory: Math.max(...lengths),
    cpuSecPerJob: (cpu.user + cpu.system) / 1e6 / n,
    fifo: claims.every((r, i) => Number(r.job_id) === ids[i]),
  };
}

async function forAccounts(accounts: 1 | 3, n: number, concurrency: number): Promise<BenchRow[]> {
  const slots = accounts * concurrency;
  const s = await startStack({
    simulator: { generationMs: GENERATION_MS },
    env: {
      ACCOUNT_CONCURRENCY: String(concurrency), ACCOUNT_MIN_GAP_MS: '0', SLAVE_CONCURRENT_ACTIVITIES: String(slots),
      PROGRESS_THROTTLE_MS: '1000', LOG_LEVEL: 'error',
    },
  });
  try {
    if (accounts === 1) {
      // alice and bob leave the default pool: one account takes every job.
      await s.t.pool.query(`INSERT INTO accounts (name, pool) VALUES ('alice', 'spare'), ('bob', 'spare') ON CONFLICT (name) DO UPDATE SET pool = 'spare'`);
    }
    await run(s, 'warm-up', Math.min(slots, 4), undefined); // browser launch, workflow bundle
    const free = await run(s, 'no backlog', n, slots);
    const backlog = await run(s, 'backlog', n, undefined);
    const row = (measure: string, value: string, target: string, ok: boolean | undefined): BenchRow => ({
      accounts, measure, value, target, verdict: ok === undefined ? '' : ok ? 'PASS' : 'FAIL',
    });
    return [
      row(`${n} jobs, ${accounts} × ${concurrency} slots: jobs in INQUEUE + PROGRESS (peak)`, `${backlog.peakInFlight} (no backlog ${free.peakInFlight})`, `≤ ${slots + 2}`, backlog.peakInFlight <= slots + 2),
      row('history events per COMPLETED job', `${backlog.eventsPerJob.toFixed(1)} (no backlog ${free.eventsPerJob.toFixed(1)})`, 'within 10 %', Math.abs(backlog.eventsPerJob / free.eventsPerJob - 1) <= 0.1),
      row('CPU seconds of the service (this process) per COMPLETED job', `${backlog.cpuSecPerJob.toFixed(2)} (no backlog ${free.cpuSecPerJob.toFixed(2)})`, 'within 20 %', Math.abs(backlog.cpuSecPerJob / free.cpuSecPerJob - 1) <= 0.2),
      row('jobs/min, backlog / no backlog', `${backlog.jobsPerMin.toFixed(1)} / ${free.jobsPerMin.toFixed(1)} = ${(backlog.jobsPerMin / free.jobsPerMin).toFixed(2)}`, '≥ 0.95', backlog.jobsPerMin / free.jobsPerMin >= 0.95),
      row('longest history (events)', String(backlog.longestHistory), '< 10,240', backlog.longestHistory < 10_240),
      row('start order FIFO (one priority)', backlog.fifo ? 'yes' : 'no', 'yes', backlog.fifo),
    ];
  } finally {
    await s.stop();
  }
}

export async function runBacklogBench(): Promise<BenchRow[]> {
  const n = Number(process.env.BACKLOG_N ?? 10_000);
  const concurrency = Number(process.env.BACKLOG_CONCURRENCY ?? 10);
  return [...await forAccounts(3, n, concurrency), ...await forAccounts(1, n, concurrency)];
}
