import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TIMEOUTS, GrokDriver, type VideoRequest } from '../src/backends/browser/driver';
import { LINGER_MS } from '../src/backends/browser/warmContexts';
import { FAST_TIMEOUTS } from '../test/helpers/browser';
import { descendants } from '../test/helpers/processes';
import { CLOCK_TICKS_PER_SECOND, readTicks } from './processCpu';
import { startThreadedSimulator, type ThreadedSimulator } from './simulatorThread';

// Sessions: 10 concurrent generations in one slave worker (one browser) against 1 — wall
// time, peak memory of the browser's processes, the increment per extra session (summed
// RSS < 150 MB; PSS < 80 MB, issue 24's), zero Chrome profile copies on disk, and (issue 24)
// the CPU seconds spent per generation, read from /proc and split by who spent them: the
// browser's processes by type (browser, renderer, gpu, network and other utility processes)
// and this process (Playwright's client and server, the driver). The simulator runs in a
// thread of its own (simulatorThread.ts), so its CPU is counted apart, as Grok's would be.
// On 2 cores, 10 generations at once can only take as long as 1 when their CPU fits beside
// each other. The `phase:` rows split one generation's CPU by step, from the driver's
// progress messages (what a sequence of single generations spent in each).

/** CPU seconds per generation by who spent them. */
/** The long generations' length (simulator marker #sim:slow), against the default 3 s. */
const LONG_GENERATION_S = 15;

export interface CpuSplit {
  browser: number;
  renderer: number;
  gpu: number;
  network: number;
  utility: number;
  /** This process without its sampling and without the simulator's thread. */
  node: number;
  simulator: number;
}

export interface SessionsRow {
  scenario: string;
  sessions: number;
  wallMs: number;
  peakRssMb: number | null;
  peakPssMb: number | null;
  perExtraSessionRssMb: number | null;
  perExtraSessionPssMb: number | null;
  profileCopies: number | null;
  /** CPU seconds (user + system) of the browser's processes during the run, per generation. */
  cpuSecondsPerGeneration: number | null;
  /** The same by process type, and the driver's own process (cpu.node). */
  cpu: CpuSplit | null;
  /** Wall time against the single generation's (target ≤ 1.5). */
  ratio: number | null;
  ok: number | null;
  /** Why the others failed (distinct reasons, counted): a bench that fails says why. */
  failures: string;
}

function failureSummary(outcomes: Array<{ kind: string; reason?: string; message?: string }>): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    if (o.kind === 'success') continue;
    const why = `${o.kind}: ${(o.reason ?? o.message ?? '').slice(0, 60)}`;
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  return [...counts].map(([why, n]) => `${n}× ${why}`).join('; ');
}

type ProcessType = 'browser' | 'renderer' | 'gpu' | 'network' | 'utility';

/**
 * What a Chromium process is, from its command line's --type (none: the browser process);
 * undefined while it cannot tell yet: a process forked by the zygote shows the zygote's
 * command line until it becomes what it was forked for.
 */
function processType(pid: number): ProcessType | undefined {
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  const type = /--type=([\w-]+)/.exec(cmd)?.[1];
  if (!type) return 'browser';
  if (type === 'zygote') return undefined;
  if (type === 'renderer') return 'renderer';
  if (type === 'gpu-process') return 'gpu';
  if (type === 'utility' && /NetworkService/.test(cmd)) return 'network';
  return 'utility'; // storage, audio… services
}

/**
 * CPU ticks of the browser's processes, per pid, kept at their highest seen: a renderer that
 * exits between two samples keeps what it had used at the last one. (The browser process's
 * own cutime would count exited children only once it reaps them.) Also this process's CPU,
 * less what the sampling itself cost.
 */
class CpuMeter {
  private readonly ticks = new Map<number, { type?: ProcessType; used: number }>();
  private samplingUs = 0;
  private excluding = false;
  private readonly processStart = process.cpuUsage();

  /** Runs the bench's own work (sampling) with its CPU kept out of this process's figure. */
  excluded<T>(work: () => T): T {
    if (this.excluding) return work(); // counted by the outer call
    const before = process.cpuUsage();
    this.excluding = true;
    try {
      return work();
    } finally {
      this.excluding = false;
      const spent = process.cpuUsage(before);
      this.samplingUs += spent.user + spent.system;
    }
  }

  sample(): void {
    this.excluded(() => this.read());
  }

  private read(): void {
    for (const pid of descendants(process.pid)) {
      const used = readTicks(pid);
      if (used === undefined) continue; // gone between the listing and the read
      const known = this.ticks.get(pid) ?? { used: 0 };
      known.used = Math.max(known.used, used);
      known.type ??= processType(pid);
      this.ticks.set(pid, known);
    }
  }

  /** Seconds by type so far (the browser's processes), and this process's (less sampling). */
  totals(): Record<ProcessType, number> & { node: number } {
    const out = { browser: 0, renderer: 0, gpu: 0, network: 0, utility: 0, node: 0 };
    // A zygote (or a fork that never became anything else) counts as a utility process.
    for (const { type, used } of this.ticks.values()) out[type ?? 'utility'] += used / CLOCK_TICKS_PER_SECOND;
    const own = process.cpuUsage(this.processStart);
    out.node = (own.user + own.system - this.samplingUs) / 1e6;
    return out;
  }
}

type Totals = ReturnType<CpuMeter['totals']> & { simulator: number };

async function readTotals(cpu: CpuMeter, sim: ThreadedSimulator): Promise<Totals> {
  cpu.sample();
  return { ...cpu.totals(), simulator: await sim.cpuSeconds() };
}

/** (b - a) / n by field, rounded; the node figure is the process's less the simulator's thread. */
function split(a: Totals, b: Totals, n: number): CpuSplit {
  const d = (k: keyof Totals) => (b[k] - a[k]) / n;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    browser: r(d('browser')),
    renderer: r(d('renderer')),
    gpu: r(d('gpu')),
    network: r(d('network')),
    utility: r(d('utility')),
    node: r(d('node') - d('simulator')),
    simulator: r(d('simulator')),
  };
}

const browserSeconds = (s: CpuSplit) => Math.round((s.browser + s.renderer + s.gpu + s.network + s.utility) * 100) / 100;

function readKb(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of RSS and of PSS (shared pages split between processes) in MB. */
export function browserMemoryMb(): { rss: number; pss: number; processes: number } {
  // Every process below this one: the browser and its renderers, GPU and utility processes.
  const pids = descendants(process.pid);
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    rss += readKb(`/proc/${pid}/status`, 'VmRSS');
    pss += readKb(`/proc/${pid}/smaps_rollup`, 'Pss');
  }
  return { rss: rss / 1024, pss: pss / 1024, processes: pids.length };
}

/**
 * The user-data dirs the browser's processes were started with (a shared browser has one;
 * a profile copy per session would add more). Read from their command lines, not from the
 * temp folder, which other programs on the machine also use. (A fork of the zygote shows its
 * arguments joined by spaces.)
 */
function profileDirs(): Set<string> {
  const dirs = new Set<string>();
  for (const pid of descendants(process.pid)) {
    try {
      const dir = /--user-data-dir=([^\0 ]+)/.exec(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1];
      if (dir) dirs.add(dir);
    } catch {
      // gone meanwhile
    }
  }
  return dirs;
}

type MakeRequest = (i: number) => Promise<VideoRequest>;

async function measure(driver: GrokDriver, sim: ThreadedSimulator, sessions: number, mk: MakeRequest) {
  let peak = { rss: 0, pss: 0 };
  let peakProfiles = 0;
  const before = profileDirs();
  const cpu = new CpuMeter();
  const sample = () =>
    cpu.excluded(() => {
      const m = browserMemoryMb();
      peak = { rss: Math.max(peak.rss, m.rss), pss: Math.max(peak.pss, m.pss) };
      const now = profileDirs();
      peakProfiles = Math.max(peakProfiles, [...now].filter((d) => !before.has(d)).length);
      cpu.sample();
    });
  const requests = await Promise.all(Array.from({ length: sessions }, (_, i) => mk(i)));
  const start = await readTotals(cpu, sim);
  const timer = setInterval(sample, 100);
  const t0 = Date.now();
  const outcomes = await Promise.all(requests.map((r) => driver.generateVideo(r)));
  const wallMs = Date.now() - t0;
  clearInterval(timer);
  sample();
  const cpuSplit = split(start, await readTotals(cpu, sim), sessions);
  return { wallMs, peak, profileCopies: peakProfiles, ok: outcomes.filter((o) => o.kind === 'success').length, failures: failureSummary(outcomes), cpu: cpuSplit };
}

/** Which step a progress message of generateVideo starts (driver.ts), in order. */
const PHASES = ['session', 'page load', 'options + prompt', 'submit → first %', 'generation', '100 % → downloaded', 'end + close'] as const;
type Phase = (typeof PHASES)[number];

function phaseOf(message: string, current: Phase): Phase {
  if (message === 'opening post') return 'page load';
  if (message.startsWith('choosing video options')) return 'options + prompt';
  if (message === 'generating') return 'submit → first %';
  if (/^generating 100%/.test(message)) return '100 % → downloaded';
  if (/^generating \d+%/.test(message)) return current === '100 % → downloaded' ? current : 'generation';
  if (/downloaded/.test(message)) return 'end + close';
  return current;
}

/** One generation at a time, its CPU split at the driver's progress messages. */
async function measurePhases(driver: GrokDriver, sim: ThreadedSimulator, runs: number, mk: MakeRequest): Promise<SessionsRow[]> {
  const zero = (): Totals => ({ browser: 0, renderer: 0, gpu: 0, network: 0, utility: 0, node: 0, simulator: 0 });
  const sums = new Map<Phase, { wallMs: number; used: Totals }>();
  for (let i = 0; i < runs; i++) {
    const cpu = new CpuMeter();
    const req = await mk(i);
    let phase: Phase = 'session';
    let at = performance.now();
    let last = await readTotals(cpu, sim);
    // The simulator's CPU is asked for at each phase end (a message to its thread) and read
    // after the generation: the driver's progress callback stays synchronous.
    const marks: Array<{ phase: Phase; ms: number; totals: ReturnType<CpuMeter['totals']>; sim: Promise<number> }> = [];
    const mark = (next: Phase) => {
      cpu.sample();
      const now = performance.now();
      marks.push({ phase, ms: now - at, totals: cpu.totals(), sim: sim.cpuSeconds() });
      phase = next;
      at = now;
    };
    const outcome = await driver.generateVideo(req, {
      onProgress: (_c, _t, message) => {
        const next = phaseOf(message, phase);
        if (next !== phase) mark(next);
      },
    });
    mark(phase);
    if (outcome.kind !== 'success') throw new Error(`phase run failed: ${failureSummary([outcome])}`);
    for (const m of marks) {
      const totals: Totals = { ...m.totals, simulator: await m.sim };
      const sum = sums.get(m.phase) ?? { wallMs: 0, used: zero() };
      sum.wallMs += m.ms;
      for (const k of Object.keys(totals) as Array<keyof Totals>) sum.used[k] += totals[k] - last[k];
      sums.set(m.phase, sum);
      last = totals;
    }
  }
  return PHASES.filter((p) => sums.has(p)).map((p) => {
    const s = sums.get(p)!;
    const cpu = split(zero(), s.used, runs);
    return {
      scenario: `phase: ${p}`,
      sessions: 1,
      wallMs: Math.round(s.wallMs / runs),
      peakRssMb: null,
      peakPssMb: null,
      perExtraSessionRssMb: null,
      perExtraSessionPssMb: null,
      profileCopies: null,
      cpuSecondsPerGeneration: browserSeconds(cpu),
      cpu,
      ratio: null,
      ok: null,
      failures: '',
    };
  });
}

export async function runSessionsBench(opts: { sessions?: number; generationMs?: number; phaseRuns?: number; prewarm?: boolean } = {}): Promise<SessionsRow[]> {
  const sessions = opts.sessions ?? 10;
  const sim = await startThreadedSimulator({ generationMs: opts.generationMs ?? 3000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-sessions-'));
  const accountsDir = path.join(dir, 'accounts');
  fs.mkdirSync(accountsDir, { recursive: true });
  fs.writeFileSync(path.join(accountsDir, 'default.json'), JSON.stringify(await sim.storageState('default')), { mode: 0o600 });
  // As the slave runs it (BROWSER_PREWARM's default), unless the caller says otherwise.
  const driver = new GrokDriver({
    baseUrl: sim.url,
    chromiumPath: process.env.CHROMIUM_PATH,
    headless: true,
    authMode: 'storageState',
    accountsDir,
    artifactsDir: path.join(dir, 'artifacts'),
    imagesDir: dir,
    trace: false,
    prewarm: opts.prewarm ?? process.env.SESSIONS_PREWARM !== '0',
    rateLimitCooldownMs: 15 * 60_000,
    // The driver's own default for when a wait goes on minimized (the tests' is at once).
    timeouts: { ...FAST_TIMEOUTS, hideAfterMs: DEFAULT_TIMEOUTS.hideAfterMs },
  });
  let n = 0;
  const mk: MakeRequest = async (i) => {
    const id = `bench-${++n}`;
    return { jobId: id, itemIndex: i, account: 'default', postUrl: (await sim.createPost('default')).url, prompt: `bench clip ${n}`, downloadPath: path.join(dir, 'downloads', id, `${i}.mp4`) };
  };
  const mkLong: MakeRequest = async (i) => {
    const req = await mk(i);
    return { ...req, prompt: `${req.prompt} #sim:slow=${LONG_GENERATION_S}` };
  };
  try {
    await driver.browser.browser();
    const idle = browserMemoryMb();
    // Warm-up (first context pays one-off costs), then 1, then N at once twice, then the phases.
    // The first N make their contexts (all but the one kept from the single run); the second
    // N run on the contexts the first kept, as a slave's generations do once its accounts are
    // busy (warmContexts.ts): like for like with the single generation, which runs on a kept
    // one. Both are printed; the ratio row is the second's.
    await measure(driver, sim, 1, mk);
    const one = await measure(driver, sim, 1, mk);
    const cold = await measure(driver, sim, sessions, mk);
    const many = await measure(driver, sim, sessions, mk);
    // Grok's own generations take tens of seconds: the same pair with longer ones, where the
    // pages' work before and after the wait weighs less and the wait itself more (offscreen.ts).
    // The burst's kept contexts leave Grok's page LINGER_MS after it (warmContexts.ts): that
    // work belongs to the burst, not to the single generation measured next.
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS + 1000));
    const oneLong = await measure(driver, sim, 1, mkLong);
    const manyLong = await measure(driver, sim, sessions, mkLong);
    // The burst's kept contexts leave Grok's page LINGER_MS after it (warmContexts.ts): that
    // work belongs to the burst, not to the phases measured next.
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS + 1000));
    const phases = await measurePhases(driver, sim, opts.phaseRuns ?? 3, mk);
    const perRss = (many.peak.rss - one.peak.rss) / (sessions - 1);
    const perPss = (many.peak.pss - one.peak.pss) / (sessions - 1);
    const accountProfiles = fs.readdirSync(accountsDir).filter((f) => f.endsWith('.profile')).length;
    const r = (x: number) => Math.round(x * 10) / 10;
    /** A burst of `sessions` at once, against the single generation. */
    const burstRow = (scenario: string, run: Awaited<ReturnType<typeof measure>>, perExtraSessionRssMb: number | null, perExtraSessionPssMb: number | null, single = one): SessionsRow => ({
      scenario,
      sessions,
      wallMs: run.wallMs,
      peakRssMb: r(run.peak.rss),
      peakPssMb: r(run.peak.pss),
      perExtraSessionRssMb,
      perExtraSessionPssMb,
      profileCopies: run.profileCopies + accountProfiles,
      cpuSecondsPerGeneration: browserSeconds(run.cpu),
      cpu: run.cpu,
      ratio: Math.round((run.wallMs / single.wallMs) * 100) / 100,
      ok: run.ok,
      failures: run.failures,
    });
    return [
      { scenario: 'idle browser', sessions: 0, wallMs: 0, peakRssMb: r(idle.rss), peakPssMb: r(idle.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: 0, cpuSecondsPerGeneration: null, cpu: null, ratio: null, ok: 0, failures: '' },
      { scenario: '1 generation', sessions: 1, wallMs: one.wallMs, peakRssMb: r(one.peak.rss), peakPssMb: r(one.peak.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: one.profileCopies + accountProfiles, cpuSecondsPerGeneration: browserSeconds(one.cpu), cpu: one.cpu, ratio: 1, ok: one.ok, failures: one.failures },
      burstRow(`${sessions} concurrent, contexts made during the run`, cold, null, null),
      burstRow(`${sessions} concurrent generations (kept contexts)`, many, r(perRss), r(perPss)),
      { ...burstRow(`1 generation of ${LONG_GENERATION_S} s`, oneLong, null, null, oneLong), sessions: 1 },
      burstRow(`${sessions} concurrent ${LONG_GENERATION_S} s generations (kept contexts)`, manyLong, null, null, oneLong),
      ...phases,
    ];
  } finally {
    await driver.close();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows as the bench table prints them: the CPU split as columns of its own. */
export function sessionsTable(rows: SessionsRow[]): Array<Record<string, unknown>> {
  return rows.map(({ cpu, ...row }) => ({ ...row, ...Object.fromEntries(Object.entries(cpu ?? {}).map(([k, v]) => [`cpu ${k}`, v])) }));
}

if (require.main === module) {
  runSessionsBench()
    .then((rows) => {
      console.table(sessionsTable(rows));
      const last = rows.find((r) => r.sessions > 1 && /^\d+ concurrent generations \(kept/.test(r.scenario))!;
      const rss = last.perExtraSessionRssMb ?? Infinity;
      const pss = last.perExtraSessionPssMb ?? Infinity;
      // RSS sums count the shared Chromium binary and libraries once per process; PSS splits
      // shared pages between processes and is the memory a session really adds.
      console.log(`per extra session: ${rss} MB summed RSS (target < 150 MB: ${rss < 150 ? 'PASS' : 'FAIL'}), ${pss} MB PSS (issue 24's target < 80 MB: ${pss < 80 ? 'PASS' : 'FAIL'})`);
      console.log(`profile copies on disk: ${last.profileCopies} (target 0): ${last.profileCopies === 0 ? 'PASS' : 'FAIL'}`);
      console.log(`successful generations: ${last.ok}/${last.sessions}`);
      // The floor on this machine: N generations' CPU (browser and driver) spread over its cores, against one generation's wall time.
      const perGen = (last.cpuSecondsPerGeneration ?? 0) + (last.cpu?.node ?? 0);
      const floor = (perGen * last.sessions) / os.cpus().length;
      console.log(`${last.sessions} at once vs 1: ${last.ratio}× (target ≤ 1.5: ${(last.ratio ?? Infinity) <= 1.5 ? 'PASS' : 'FAIL'}); browser CPU ${last.cpuSecondsPerGeneration} s + driver ${last.cpu?.node} s per generation, ${floor.toFixed(1)} s of CPU per core for the ${last.sessions} (load average ${os.loadavg()[0]!.toFixed(1)})`);
      if (pss >= 80 || last.profileCopies !== 0 || last.ok !== last.sessions) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
