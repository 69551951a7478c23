import fs from 'node:fs';
import os from 'node:os';
import type { GrokDriver } from '../src/backends/browser/driver';
import { startHarness } from '../test/helpers/browser';
import { descendants } from '../test/helpers/processes';

// Sessions: 10 concurrent generations in one slave worker (one browser, one
// context each) against 1 — wall time, peak memory of the browser's processes, the increment
// per extra session (summed RSS < 150 MB; PSS < 80 MB, issue 24's), zero Chrome profile copies on disk, and (issue 24)
// the CPU seconds the browser's processes spent per generation, read from /proc: on 2 cores,
// 10 generations at once can only take as long as 1 when their CPU fits beside each other.

export interface SessionsRow {
  scenario: string;
  sessions: number;
  wallMs: number;
  peakRssMb: number;
  peakPssMb: number;
  perExtraSessionRssMb: number | null;
  perExtraSessionPssMb: number | null;
  profileCopies: number;
  /** CPU seconds (user + system) of the browser's processes during the run, per generation. */
  cpuSecondsPerGeneration: number | null;
  /** Wall time against the single generation's (target ≤ 1.5). */
  ratio: number | null;
  ok: number;
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

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ (getconf CLK_TCK) on Linux

/**
 * CPU ticks of the browser's processes, per pid, kept at their highest seen: a renderer that
 * exits between two samples keeps what it had used at the last one. (The browser process's
 * own cutime would count exited children only once it reaps them.)
 */
class CpuMeter {
  private readonly ticks = new Map<number, number>();
  sample(): void {
    for (const pid of descendants(process.pid)) {
      try {
        // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const used = Number(fields[11]) + Number(fields[12]);
        this.ticks.set(pid, Math.max(this.ticks.get(pid) ?? 0, used));
      } catch {
        // gone between the listing and the read
      }
    }
  }
  seconds(): number {
    let sum = 0;
    for (const t of this.ticks.values()) sum += t;
    return sum / CLOCK_TICKS_PER_SECOND;
  }
}

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

/** Chromium user-data dirs in the temp folder (Playwright's, one per launched browser). */
function profileDirs(): Set<string> {
  try {
    return new Set(fs.readdirSync(os.tmpdir()).filter((d) => /chromium.*profile|playwright_chromiumdev_profile/i.test(d)));
  } catch {
    return new Set();
  }
}

async function measure(driver: GrokDriver, sessions: number, mk: (i: number) => Parameters<GrokDriver['generateVideo']>[0]) {
  let peak = { rss: 0, pss: 0 };
  let peakProfiles = 0;
  const before = profileDirs();
  const sample = () => {
    const m = browserMemoryMb();
    peak = { rss: Math.max(peak.rss, m.rss), pss: Math.max(peak.pss, m.pss) };
    const now = profileDirs();
    peakProfiles = Math.max(peakProfiles, [...now].filter((d) => !before.has(d)).length);
  };
  const cpu = new CpuMeter();
  cpu.sample();
  const cpuBefore = cpu.seconds();
  const timer = setInterval(() => {
    sample();
    cpu.sample();
  }, 100);
  const t0 = Date.now();
  const outcomes = await Promise.all(Array.from({ length: sessions }, (_, i) => driver.generateVideo(mk(i))));
  const wallMs = Date.now() - t0;
  clearInterval(timer);
  sample();
  cpu.sample();
  return { wallMs, peak, profileCopies: peakProfiles, ok: outcomes.filter((o) => o.kind === 'success').length, failures: failureSummary(outcomes), cpuSeconds: cpu.seconds() - cpuBefore };
}

export async function runSessionsBench(opts: { sessions?: number; generationMs?: number } = {}): Promise<SessionsRow[]> {
  const sessions = opts.sessions ?? 10;
  const h = await startHarness({ generationMs: opts.generationMs ?? 3000 });
  const driver = h.driver;
  const sim = h.sim;
  h.loginAccount('default');
  let n = 0;
  const mk = (i: number) => ({
    jobId: `bench-${++n}`,
    itemIndex: i,
    account: 'default',
    postUrl: sim.createPost('default').url,
    prompt: `bench clip ${n}`,
    downloadPath: h.downloadPath(`bench-${n}`, `${i}.mp4`),
  });
  try {
    await driver.browser.browser();
    const idle = browserMemoryMb();
    // Warm-up (first context pays one-off costs), then 1, then N at once.
    await measure(driver, 1, mk);
    const one = await measure(driver, 1, mk);
    const many = await measure(driver, sessions, mk);
    const perRss = (many.peak.rss - one.peak.rss) / (sessions - 1);
    const perPss = (many.peak.pss - one.peak.pss) / (sessions - 1);
    const accountProfiles = fs.readdirSync(h.accountsDir).filter((f) => f.endsWith('.profile')).length;
    const r = (x: number) => Math.round(x * 10) / 10;
    return [
      { scenario: 'idle browser', sessions: 0, wallMs: 0, peakRssMb: r(idle.rss), peakPssMb: r(idle.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: 0, cpuSecondsPerGeneration: null, ratio: null, ok: 0, failures: '' },
      { scenario: '1 generation', sessions: 1, wallMs: one.wallMs, peakRssMb: r(one.peak.rss), peakPssMb: r(one.peak.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: one.profileCopies + accountProfiles, cpuSecondsPerGeneration: Math.round(one.cpuSeconds * 100) / 100, ratio: 1, ok: one.ok, failures: one.failures },
      {
        scenario: `${sessions} concurrent generations`,
        sessions,
        wallMs: many.wallMs,
        peakRssMb: r(many.peak.rss),
        peakPssMb: r(many.peak.pss),
        perExtraSessionRssMb: r(perRss),
        perExtraSessionPssMb: r(perPss),
        profileCopies: many.profileCopies + accountProfiles,
        cpuSecondsPerGeneration: Math.round((many.cpuSeconds / sessions) * 100) / 100,
        ratio: Math.round((many.wallMs / one.wallMs) * 100) / 100,
        ok: many.ok,
        failures: many.failures,
      },
    ];
  } finally {
    await h.close();
  }
}

if (require.main === module) {
  runSessionsBench()
    .then((rows) => {
      console.table(rows);
      const last = rows.at(-1)!;
      const rss = last.perExtraSessionRssMb ?? Infinity;
      const pss = last.perExtraSessionPssMb ?? Infinity;
      // RSS sums count the shared Chromium binary and libraries once per process; PSS splits
      // shared pages between processes and is the memory a session really adds.
      console.log(`per extra session: ${rss} MB summed RSS (target < 150 MB: ${rss < 150 ? 'PASS' : 'FAIL'}), ${pss} MB PSS (issue 24's target < 80 MB: ${pss < 80 ? 'PASS' : 'FAIL'})`);
      console.log(`profile copies on disk: ${last.profileCopies} (target 0): ${last.profileCopies === 0 ? 'PASS' : 'FAIL'}`);
      console.log(`successful generations: ${last.ok}/${last.sessions}`);
      // The floor on this machine: N generations' browser CPU spread over its cores, against one generation's wall time.
      const floor = ((last.cpuSecondsPerGeneration ?? 0) * last.sessions) / os.cpus().length;
      console.log(`${last.sessions} at once vs 1: ${last.ratio}× (target ≤ 1.5: ${(last.ratio ?? Infinity) <= 1.5 ? 'PASS' : 'FAIL'}); browser CPU ${last.cpuSecondsPerGeneration} s per generation, ${floor.toFixed(1)} s of CPU per core for the ${last.sessions} (load average ${os.loadavg()[0]!.toFixed(1)})`);
      if (pss >= 80 || last.profileCopies !== 0 || last.ok !== last.sessions) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
