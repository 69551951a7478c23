import { readSteps } from '../src/shared/itemSteps';
import { jobWorkflowId } from '../src/shared/registry';
import { startStack, type Stack } from '../test/helpers/stack';
import { startThreadedSimulator, type ThreadedSimulator } from './simulatorThread';

// Issue 5's targets, on the whole service (Postgres, Temporal dev server, master, slave,
// Chromium, simulator): a 1-video job's time over the simulator's generation time
// (≤ 0.5 s since issue 24), terminate → ERROR latency (≤ 20 s), 20 one-video jobs at 5 concurrent.
// Grok is the simulator in a thread of its own (simulatorThread.ts): in the stack's event loop
// its page loads would wait behind the master's and slave's work and count as theirs, and
// Grok's servers are not on the slave's machine either.

export interface BenchRow {
  measure: string;
  value: string;
  target: string;
  verdict: string;
}

const GENERATION_MS = 3000;
/** Issue 24: a 1-video job's time over the generation time (issue 5 asked 1.5 s). */
const OVERHEAD_TARGET_MS = 500;
const VIDEO = 'GROK_VIDEO_GENERATION';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface Phases {
  overheadMs: number;
  claimMs: number;
  startMs: number;
  toGenerationMs: number;
  /** PROGRESS → generateItem started (the workflow's task and the activity's dispatch), from the history. */
  toActivityMs: number;
  /** The driver's steps on the item's row (src/shared/itemSteps.ts). */
  pageMs: number;
  optionsMs: number;
  promptMs: number;
  submitMs: number;
  afterGenerationMs: number;
}

/** When the history says generateItem's (first) attempt started, in ms since the epoch. */
async function activityStartedAt(s: Stack, jobId: number): Promise<number | undefined> {
  const history = await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, jobId)).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateItem');
  const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
  const t = started?.eventTime;
  return t ? Number(t.seconds) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : undefined;
}

/**
 * INSERT → COMPLETED minus the simulator's own generation time, one job at a time, split
 * into phases by the job's timestamps and the simulator's record of the generation.
 */
async function overhead(s: Stack, grok: ThreadedSimulator, runs: number): Promise<Phases[]> {
  const out: Phases[] = [];
  for (let i = 0; i < runs; i++) {
    const post = await grok.createPost('default');
    const prompt = `overhead run ${i} ${Date.now()}`;
    const id = await s.insertJob({ imageUrl: post.url, prompt });
    const job = await s.waitForJob(id, ['COMPLETED'], 120_000);
    // The database's own timestamps (one clock, no polling delay); the simulator shares the host's.
    const started = job.createdAt.getTime();
    const done = job.completedAt!.getTime();
    const gen = (await grok.generation(prompt))!;
    const [item] = await s.items(id);
    const steps = readSteps(item?.steps);
    const activityAt = await activityStartedAt(s, id);
    out.push({
      overheadMs: done - started - gen.durationMs,
      claimMs: job.queuedAt!.getTime() - started,
      startMs: job.startedAt!.getTime() - job.queuedAt!.getTime(),
      toGenerationMs: gen.startedAt - job.startedAt!.getTime(),
      toActivityMs: activityAt !== undefined ? activityAt - job.startedAt!.getTime() : NaN,
      pageMs: steps.page ?? NaN,
      optionsMs: steps.options ?? NaN,
      promptMs: steps.prompt ?? NaN,
      submitMs: steps.submit ?? NaN,
      afterGenerationMs: done - (gen.startedAt + gen.durationMs),
    });
  }
  return out;
}

/** `terminate` during a generation → the job row reads ERROR "terminated". */
async function terminateLatency(s: Stack, grok: ThreadedSimulator, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = await s.insertJob({ imageUrl: (await grok.createPost('default')).url, prompt: `terminate run ${i} #sim:slow=300` });
    await s.untilGenerating(id);
    const t0 = Date.now();
    await s.env.client.workflow.getHandle(jobWorkflowId(VIDEO, id)).terminate('bench');
    const job = await s.waitForJob(id, ['ERROR'], 60_000);
    if (job.errorMessage !== 'terminated') throw new Error(`job ${id}: ${job.errorMessage}`);
    out.push(Date.now() - t0);
  }
  return out;
}

async function throughput(s: Stack, grok: ThreadedSimulator, jobs: number): Promise<number> {
  const posts = await Promise.all(Array.from({ length: jobs }, () => grok.createPost('default')));
  const t0 = Date.now();
  const ids: number[] = [];
  for (let i = 0; i < jobs; i++) ids.push(await s.insertJob({ imageUrl: posts[i]!.url, prompt: `throughput ${i}` }));
  await Promise.all(ids.map((id) => s.waitForJob(id, ['COMPLETED'], 600_000)));
  return Date.now() - t0;
}

export async function runSlaveBench(): Promise<BenchRow[]> {
  // Production heartbeat timeout (20 s): terminate latency depends on the heartbeat cadence.
  const grok = await startThreadedSimulator({ generationMs: GENERATION_MS });
  const s = await startStack({
    grok: {
      url: grok.url,
      storageState: async (user) => {
        await grok.addUser(user);
        return grok.storageState(user);
      },
    },
    env: { SLAVE_CONCURRENT_ACTIVITIES: '5', PROGRESS_THROTTLE_MS: '1000', LOG_LEVEL: 'error' },
    activityTimeouts: { heartbeat: '20 seconds' },
  });
  try {
    await overhead(s, grok, 1); // warm-up: browser launch, workflow bundle caches
    const phases = await overhead(s, grok, 5);
    const over = phases.map((p) => p.overheadMs);
    const med = (k: keyof Phases) => seconds(median(phases.map((p) => p[k])));
    const term = await terminateLatency(s, grok, 3);
    const jobs = 20;
    const wall = await throughput(s, grok, jobs);
    const perMinute = (jobs / wall) * 60_000;
    return [
      { measure: '1-video job over generation time (median of 5)', value: seconds(median(over)), target: '≤ 0.5 s', verdict: median(over) <= OVERHEAD_TARGET_MS ? 'PASS' : 'FAIL' },
      { measure: '1-video job over generation time (max of 5)', value: seconds(Math.max(...over)), target: '', verdict: '' },
      { measure: '  of which INSERT → INQUEUE (median)', value: med('claimMs'), target: '', verdict: '' },
      { measure: '  of which INQUEUE → PROGRESS (median)', value: med('startMs'), target: '', verdict: '' },
      { measure: '  of which PROGRESS → generation starts (median)', value: med('toGenerationMs'), target: '', verdict: '' },
      { measure: '    PROGRESS → generateItem started (median)', value: med('toActivityMs'), target: 'history', verdict: '' },
      { measure: '    step page: post open and ready (median)', value: med('pageMs'), target: 'item steps', verdict: '' },
      { measure: '    step options (median)', value: med('optionsMs'), target: 'item steps', verdict: '' },
      { measure: '    step prompt (median)', value: med('promptMs'), target: 'item steps', verdict: '' },
      { measure: '    step submit → first progress (median)', value: med('submitMs'), target: 'item steps', verdict: '' },
      { measure: '  of which generation ends → COMPLETED (median)', value: med('afterGenerationMs'), target: '', verdict: '' },
      { measure: 'terminate → ERROR "terminated" (median of 3)', value: seconds(median(term)), target: '≤ 20 s', verdict: median(term) <= 20_000 ? 'PASS' : 'FAIL' },
      { measure: 'terminate → ERROR "terminated" (max of 3)', value: seconds(Math.max(...term)), target: '≤ 20 s', verdict: Math.max(...term) <= 20_000 ? 'PASS' : 'FAIL' },
      { measure: `${jobs} one-video jobs, 5 concurrent: wall time`, value: seconds(wall), target: '', verdict: '' },
      { measure: `${jobs} one-video jobs, 5 concurrent: jobs per minute`, value: perMinute.toFixed(1), target: `${GENERATION_MS / 1000} s generations`, verdict: '' },
    ];
  } finally {
    await s.stop();
    await grok.close();
  }
}

if (require.main === module) {
  runSlaveBench().then(
    (rows) => {
      console.table(rows);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
