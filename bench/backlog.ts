import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from '../test/helpers/stack';
import { ProcessCpu, type CpuKind } from './processCpu';

// Issue 21's backlog targets on the whole service (master, slave, simulator, dev server,
// Chromium): N one-video jobs inserted at once (a backlog) against a run without backlog
// (jobs fed one as another ends, so never more than the slots are PENDING or running), over
// 3 accounts and over 1. The backlog must wait as rows: at most the slots (+2) in INQUEUE +
// PROGRESS, the same history and CPU per job as without a backlog, the same throughput,
// started FIFO.
//
// BACKLOG_N: the backlog over 3 accounts (default 10,000, the issue's figure).
// BACKLOG_N_ONE_ACCOUNT: over 1 account (default N / 3: the same depth of backlog per slot;
//   10,000 on one account's 10 slots is an hour of 3 s generations).
// BACKLOG_BASELINE_N: jobs of each run without backlog (default 10 per slot).
// BACKLOG_CONCURRENCY: slots per account (default ACCOUNT_CONCURRENCY's default, 10).
// BACKLOG_ACCOUNTS: "3", "1" or "3,1" (default) — which pools to run.
// BACKLOG_MEASURE: how many of the backlog's jobs to see end (default all): the whole backlog
//   is inserted and waits, the figures are taken over the first BACKLOG_MEASURE to end (a
//   10,000-deep backlog on a machine that runs 14 jobs a minute: the cost of the depth shows
//   in the first few hundred), and what is left is not waited for.
// The slave gets an activity slot per account slot, so the accounts are the limit.

export interface BenchRow {
  accounts: number;
  measure: string;
  value: string;
  target: string;
  verdict: string;
}

const GENERATION_MS = 3000;
const VIDEO = 'GROK_VIDEO_GENERATION';
const ENDED = `status IN ('COMPLETED', 'ERROR')`;

interface Run {
  n: number;
  jobsPerMin: number;
  peakInFlight: number;
  eventsPerJob: number;
  longestJobHistory: number;
  longestOtherHistory: number;
  cpu: Record<CpuKind, number>;
  fifo: boolean;
  errors: number;
}

/** Service CPU per job: grokflow (this process: master, slave and the simulator), Temporal, PostgreSQL. */
function serviceCpu(r: Run): number {
  return (r.cpu['this process'] + r.cpu.temporal + r.cpu.postgres) / r.n;
}

function progress(label: string, n: number, t0: number, done: number, inFlight: number): void {
  const s = (Date.now() - t0) / 1000;
  process.stderr.write(`backlog ${label}: ${done}/${n} ended, ${inFlight} in INQUEUE + PROGRESS, ${s.toFixed(0)} s, ${((done / s) * 60).toFixed(1)} jobs/min\n`);
}

/**
 * Inserts `n` jobs: all at once in one statement (`feed` undefined), or `feed` at a time, one
 * more as each ends; waits for `measure` of them (default all) to end, sampling INQUEUE +
 * PROGRESS. The figures are over the jobs that ended.
 */
async function run(s: Stack, label: string, n: number, feed: number | undefined, measure = n): Promise<Run> {
  const post = s.simulator.createPost('default');
  const pool = s.t.pool;
  const insert = async (count: number): Promise<number[]> => {
    const { rows } = await pool.query(
      `INSERT INTO jobs (type, payload)
       SELECT $1, jsonb_build_object('imageUrl', $2::text, 'prompt', $3::text || ' ' || g) FROM generate_series(1, $4::int) g
       RETURNING id`,
      [VIDEO, post.url, label, count],
    );
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  };
  const cpu = new ProcessCpu({ postgres: true });
  const t0 = Date.now();
  const ids: number[] = [];
  let peak = 0;
  let lastReport = t0;
  const count = async () => {
    // Through the status index: the PENDING backlog is never scanned (a scan of 10,000 rows
    // every sample showed up as PostgreSQL CPU charged to the service).
    const { rows } = await pool.query(
      `SELECT count(*) FILTER (WHERE status IN ('INQUEUE', 'PROGRESS'))::int AS flying, count(*) FILTER (WHERE ${ENDED})::int AS ended
         FROM jobs WHERE status IN ('INQUEUE', 'PROGRESS', 'COMPLETED', 'ERROR') AND id >= $1`,
      [ids[0] ?? 0],
    );
    return rows[0] as { flying: number; ended: number };
  };
  if (feed === undefined) ids.push(...(await insert(n)));
  for (;;) {
    if (feed !== undefined) {
      const { ended } = ids.length ? await count() : { ended: 0 };
      const want = Math.min(n, ended + feed) - ids.length;
      if (want > 0) ids.push(...(await insert(want)));
    }
    const { flying, ended } = await count();
    peak = Math.max(peak, flying);
    if (ended >= measure) break;
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      progress(label, measure, t0, ended, flying);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const elapsed = Date.now() - t0;
  const used = cpu.stop();
  const { rows: endedRows } = await pool.query(`SELECT id FROM jobs WHERE id = ANY($1::bigint[]) AND ${ENDED} ORDER BY id`, [ids]);
  const done = endedRows.map((r) => Number(r.id));
  const { rows: errs } = await pool.query(`SELECT count(*)::int AS n, min(error_message) AS msg FROM jobs WHERE id = ANY($1::bigint[]) AND status = 'ERROR'`, [done]);
  if (errs[0].n > 0) process.stderr.write(`backlog ${label}: ${errs[0].n} jobs ended ERROR, e.g. ${errs[0].msg}\n`);
  const histories = await historyLengths(s, done, ids);
  // In the order the claims wrote them: an event's id is taken at its INSERT, which a claim
  // makes holding its locks; its `at` is its transaction's start, earlier for a claim that
  // began first and then waited for another's locks.
  const { rows: claims } = await pool.query(`SELECT job_id FROM job_events WHERE to_status = 'INQUEUE' AND job_id = ANY($1::bigint[]) ORDER BY id`, [ids]);
  const outOfOrder = claims.findIndex((r, i) => Number(r.job_id) !== ids[i]);
  if (outOfOrder >= 0) process.stderr.write(`backlog ${label}: claim ${outOfOrder + 1} was job ${claims[outOfOrder].job_id}, job ${ids[outOfOrder]} expected\n`);
  return {
    n: done.length,
    jobsPerMin: (done.length / elapsed) * 60_000,
    peakInFlight: peak,
    eventsPerJob: histories.jobEvents / done.length,
    longestJobHistory: histories.longestJob,
    longestOtherHistory: histories.longestOther,
    cpu: used,
    // The jobs were inserted in id order with one priority: the claims so far must follow it.
    fifo: claims.length >= done.length && outOfOrder < 0,
    errors: errs[0].n,
  };
}

/**
 * History lengths from Temporal's visibility (one paged listing, not a fetch per job): every
 * run of each job's workflow summed (a job that continued as new counts all its runs), and
 * the longest single run of a job and of anything else (the master's scheduler and dispatcher runs).
 */
async function historyLengths(s: Stack, ids: number[], inserted: number[]): Promise<{ jobEvents: number; longestJob: number; longestOther: number }> {
  const jobs = new Set(ids.map((id) => jobWorkflowId(VIDEO, id)));
  // Jobs of the run that had not ended when it was measured: neither counted nor the master's.
  const unmeasured = new Set(inserted.map((id) => jobWorkflowId(VIDEO, id)));
  let jobEvents = 0;
  let longestJob = 0;
  let longestOther = 0;
  let seen = new Set<string>();
  // Visibility is written after the close: wait until every job's run is listed.
  for (let tries = 0; tries < 50; tries++) {
    jobEvents = 0;
    longestJob = 0;
    longestOther = 0;
    seen = new Set();
    for await (const w of s.env.client.workflow.list()) {
      if (jobs.has(w.workflowId)) {
        seen.add(w.workflowId);
        jobEvents += w.historyLength;
        longestJob = Math.max(longestJob, w.historyLength);
      } else if (!unmeasured.has(w.workflowId)) {
        // The master's own runs: a dispatcher still running shows a stale length in the
        // listing, so its history is read (a few runs, not one per job).
        const events = (await s.env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events?.length ?? 0;
        longestOther = Math.max(longestOther, events);
      }
    }
    if (seen.size === jobs.size) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (seen.size !== jobs.size) throw new Error(`Temporal lists ${seen.size} of ${jobs.size} job workflows`);
  return { jobEvents, longestJob, longestOther };
}

async function forAccounts(accounts: 1 | 3, n: number, baselineN: number, concurrency: number, measure: number): Promise<BenchRow[]> {
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
    const free = await run(s, 'no backlog', baselineN, slots);
    const backlog = await run(s, 'backlog', n, undefined, measure);
    const row = (measure: string, value: string, target: string, ok: boolean | undefined): BenchRow => ({
      accounts, measure, value, target, verdict: ok === undefined ? '' : ok ? 'PASS' : 'FAIL',
    });
    const per = (r: Run, k: CpuKind) => (r.cpu[k] / r.n).toFixed(3);
    const ratio = backlog.jobsPerMin / free.jobsPerMin;
    return [
      row(`${n} jobs at once${measure < n ? `, measured over the first ${backlog.n} to end` : ''} (no backlog: ${baselineN} fed ${slots} at a time), ${accounts} × ${concurrency} slots: INQUEUE + PROGRESS, peak`, `${backlog.peakInFlight} (no backlog ${free.peakInFlight})`, `≤ ${slots + 2}`, backlog.peakInFlight <= slots + 2),
      row('history events per COMPLETED job', `${backlog.eventsPerJob.toFixed(1)} (no backlog ${free.eventsPerJob.toFixed(1)})`, 'within 10 %', Math.abs(backlog.eventsPerJob / free.eventsPerJob - 1) <= 0.1),
      row('CPU s of the service per job (grokflow + Temporal + PostgreSQL)', `${serviceCpu(backlog).toFixed(3)} (no backlog ${serviceCpu(free).toFixed(3)})`, 'within 20 %', Math.abs(serviceCpu(backlog) / serviceCpu(free) - 1) <= 0.2),
      row('  of which grokflow (master, slave, simulator) / Temporal / PostgreSQL', `${per(backlog, 'this process')} / ${per(backlog, 'temporal')} / ${per(backlog, 'postgres')} (no backlog ${per(free, 'this process')} / ${per(free, 'temporal')} / ${per(free, 'postgres')})`, '', undefined),
      row('CPU s of Chromium per job', `${per(backlog, 'chromium')} (no backlog ${per(free, 'chromium')})`, '', undefined),
      row('jobs/min, backlog / no backlog', `${backlog.jobsPerMin.toFixed(1)} / ${free.jobsPerMin.toFixed(1)} = ${ratio.toFixed(2)}`, '≥ 0.95', ratio >= 0.95),
      row('longest history: a job / a master run (scheduler or dispatcher; events)', `${backlog.longestJobHistory} / ${backlog.longestOtherHistory}`, '< 10,240', Math.max(backlog.longestJobHistory, backlog.longestOtherHistory) < 10_240),
      row('start order FIFO (one priority)', backlog.fifo ? 'yes' : 'no', 'yes', backlog.fifo),
      row('jobs ended ERROR', `${backlog.errors} (no backlog ${free.errors})`, '0', backlog.errors + free.errors === 0),
    ];
  } finally {
    await s.stop();
  }
}

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  return v;
}

export async function runBacklogBench(): Promise<BenchRow[]> {
  const n = setting('BACKLOG_N', 10_000);
  const concurrency = setting('BACKLOG_CONCURRENCY', 10);
  const which = (process.env.BACKLOG_ACCOUNTS ?? '3,1').split(',').map((a) => a.trim());
  const bad = which.filter((a) => a !== '3' && a !== '1');
  if (bad.length) throw new Error(`BACKLOG_ACCOUNTS: "3", "1" or "3,1", got ${JSON.stringify(process.env.BACKLOG_ACCOUNTS)}`);
  const rows: BenchRow[] = [];
  for (const a of which) {
    const accounts = a === '3' ? 3 : 1;
    const jobs = accounts === 3 ? n : setting('BACKLOG_N_ONE_ACCOUNT', Math.max(1, Math.round(n / 3)));
    const baseline = setting('BACKLOG_BASELINE_N', accounts * concurrency * 10);
    const measure = Math.min(jobs, setting('BACKLOG_MEASURE', jobs));
    rows.push(...(await forAccounts(accounts, jobs, Math.min(baseline, jobs), concurrency, measure)));
  }
  return rows;
}
