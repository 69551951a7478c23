import fs from 'node:fs';
import os from 'node:os';
import type { GrokDriver } from '../src/backends/browser/driver';
import { startHarness } from '../test/helpers/browser';
import { descendants } from '../test/helpers/processes';

// Sessions: 10 concurrent generations in one slave worker (one browser, one
// context each) against 1 — wall time, peak memory of the browser's processes, the increment
// per extra session (target < 150 MB), and zero Chrome profile copies on disk.

export interface SessionsRow {
  scenario: string;
  sessions: number;
  wallMs: number;
  peakRssMb: number;
  peakPssMb: number;
  perExtraSessionRssMb: number | null;
  perExtraSessionPssMb: number | null;
  profileCopies: number;
  ok: number;
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
  const timer = setInterval(sample, 100);
  const t0 = Date.now();
  const outcomes = await Promise.all(Array.from({ length: sessions }, (_, i) => driver.generateVideo(mk(i))));
  const wallMs = Date.now() - t0;
  clearInterval(timer);
  sample();
  return { wallMs, peak, profileCopies: peakProfiles, ok: outcomes.filter((o) => o.kind === 'success').length };
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
      { scenario: 'idle browser', sessions: 0, wallMs: 0, peakRssMb: r(idle.rss), peakPssMb: r(idle.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: 0, ok: 0 },
      { scenario: '1 generation', sessions: 1, wallMs: one.wallMs, peakRssMb: r(one.peak.rss), peakPssMb: r(one.peak.pss), perExtraSessionRssMb: null, perExtraSessionPssMb: null, profileCopies: one.profileCopies + accountProfiles, ok: one.ok },
      {
        scenario: `${sessions} concurrent generations`,
        sessions,
        wallMs: many.wallMs,
        peakRssMb: r(many.peak.rss),
        peakPssMb: r(many.peak.pss),
        perExtraSessionRssMb: r(perRss),
        perExtraSessionPssMb: r(perPss),
        profileCopies: many.profileCopies + accountProfiles,
        ok: many.ok,
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
      console.log(`per extra session: ${rss} MB summed RSS (target < 150 MB: ${rss < 150 ? 'PASS' : 'FAIL'}), ${pss} MB PSS (target < 150 MB: ${pss < 150 ? 'PASS' : 'FAIL'})`);
      console.log(`profile copies on disk: ${last.profileCopies} (target 0): ${last.profileCopies === 0 ? 'PASS' : 'FAIL'}`);
      console.log(`successful generations: ${last.ok}/${last.sessions}`);
      if (pss >= 150 || last.profileCopies !== 0 || last.ok !== last.sessions) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
