import fs from 'node:fs';
import { descendants } from '../test/helpers/processes';

// CPU seconds (user + system) spent by this process and by every process below it, read
// from /proc and split by what the process is: this process (the bench's own master, slave and
// simulator), the Temporal dev server, Chromium, anything else. Optionally PostgreSQL's
// server processes too (not our children: every `postgres` process on the machine, so only
// meaningful on a quiet machine).
//
// A child that exits between two samples keeps what it had used at the last one (the parent's
// cutime counts exited children only once reaped), so sample() runs on a timer during a run.

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ (getconf CLK_TCK) on Linux

export type CpuKind = 'this process' | 'temporal' | 'chromium' | 'postgres' | 'other';

interface Seen {
  kind: CpuKind;
  ticks: number;
}

/** CPU ticks (user + system) a process has used so far; undefined once it is gone. */
export function readTicks(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined; // gone between the listing and the read
  }
}

function kindOf(pid: number): CpuKind {
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return 'other';
  }
  if (/chrom/i.test(cmd)) return 'chromium';
  if (/temporal/i.test(cmd)) return 'temporal';
  if (/postgres/i.test(cmd)) return 'postgres';
  return 'other';
}

/** Whether each pid seen is a PostgreSQL process: a pid's name is read once, not every sample. */
const isPostgres = new Map<number, boolean>();

function postgresPids(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    let known = isPostgres.get(pid);
    if (known === undefined) {
      try {
        known = fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        continue; // gone meanwhile
      }
      isPostgres.set(pid, known);
    }
    if (known) out.push(pid);
  }
  return out;
}

export class ProcessCpu {
  private readonly seen = new Map<number, Seen>();
  private readonly base = new Map<number, number>();
  private readonly own0 = process.cpuUsage();
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: { postgres?: boolean; everyMs?: number } = {}) {
    // What already ran before the meter started is not the run's.
    for (const pid of this.pids()) {
      const t = readTicks(pid);
      if (t !== undefined) this.base.set(pid, t);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), opts.everyMs ?? 500);
    this.timer.unref();
  }

  private pids(): number[] {
    return [...descendants(process.pid), ...(this.opts.postgres ? postgresPids() : [])];
  }

  sample(): void {
    for (const pid of this.pids()) {
      const ticks = readTicks(pid);
      if (ticks === undefined) continue;
      const prev = this.seen.get(pid);
      this.seen.set(pid, { kind: prev?.kind ?? kindOf(pid), ticks: Math.max(prev?.ticks ?? 0, ticks) });
    }
  }

  /** Stops sampling and returns CPU seconds by kind since the meter started. */
  stop(): Record<CpuKind, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const own = process.cpuUsage(this.own0);
    const out: Record<CpuKind, number> = { 'this process': (own.user + own.system) / 1e6, temporal: 0, chromium: 0, postgres: 0, other: 0 };
    for (const [pid, s] of this.seen) out[s.kind] += (s.ticks - (this.base.get(pid) ?? 0)) / CLOCK_TICKS_PER_SECOND;
    return out;
  }
}
