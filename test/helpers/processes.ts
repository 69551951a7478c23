import fs from 'node:fs';
import { isRunning } from '../../src/service/devServerOwner';
import { pollUntil } from './wait';

/** Every process below `pid` (children, their children…), read from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Running (a zombie waiting for its parent counts as gone). */
export const alive = isRunning;

/** Waits up to `ms` for every pid to be gone; returns those still running. */
export async function survivors(pids: number[], ms = 15_000): Promise<number[]> {
  await pollUntil(async () => !pids.some(alive), ms, 200);
  return pids.filter(alive);
}
