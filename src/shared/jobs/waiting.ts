import { sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { capacityOf, describeRefusal, readFacts, type CapacityRefusal } from '../../slave/accounts/capacity';
import { accountLimits } from '../../slave/accounts/limits';
import { poolMembers } from '../../slave/accounts/pool';
import { accountWant, type AccountWant } from './account';

// What a PENDING job waits for, worked out when someone reads it (`jobs list`, `jobs show`,
// the console's job page), never written to 10,000 rows: the account or pool it asks for
// (accountWant), that want's accounts as the capacity rule sees them now, the pauses. A
// running job waiting as a row (job_waits: no slot, every account it may use busy) says the
// same, and that the master hands it the next free slot.

export interface WaitingJob {
  id: number;
  type: string;
  status: string;
  payload: unknown;
}

function keyOf(want: AccountWant): string {
  return 'account' in want ? `account ${want.account}` : `pool ${want.pool}`;
}

function hhmm(iso: string): string {
  return new Date(iso).toISOString().slice(11, 16);
}

/** For each PENDING job, and each running job waiting as a row, among `jobs`: `waiting: …` saying for what. Other jobs get nothing. */
export async function waitingReasons(db: Db, config: Config, jobs: WaitingJob[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const running = jobs.filter((j) => j.status === 'INQUEUE' || j.status === 'PROGRESS');
  const rowWaits = running.length === 0 ? new Set<number>() : new Set((await db.execute<{ job_id: string }>(
    sql`SELECT job_id FROM job_waits WHERE job_id = ANY(${`{${running.map((j) => j.id).join(',')}}`}::bigint[])`,
  )).rows.map((r) => Number(r.job_id)));
  const asking = jobs.filter((j) => j.status === 'PENDING' || rowWaits.has(j.id));
  if (asking.length === 0) return out;
  const { rows: pauses } = await db.execute<{ scope: string; name: string }>(sql`SELECT scope, name FROM job_pauses`);
  const paused = (scope: string, name: string) => pauses.some((p) => p.scope === scope && p.name === name);
  const byWant = new Map<string, string>();
  for (const job of asking) {
    const p = (typeof job.payload === 'object' && job.payload !== null ? job.payload : {}) as { account?: string; pool?: string; backend?: string };
    const want = accountWant({ account: p.account, pool: p.pool, backend: p.backend }, config);
    if (paused('type', job.type)) {
      out.set(job.id, `waiting: job type ${job.type} is paused`);
      continue;
    }
    const key = keyOf(want);
    let text = byWant.get(key);
    if (text === undefined) {
      text = await describeWant(db, config, want, (pool) => paused('pool', pool));
      byWant.set(key, text);
    }
    out.set(job.id, rowWaits.has(job.id) ? `${text}; running, its next item waits for the slot the master hands it` : text);
  }
  return out;
}

async function describeWant(db: Db, config: Config, want: AccountWant, paused: (pool: string) => boolean): Promise<string> {
  const where = keyOf(want);
  if ('pool' in want && paused(want.pool)) return `waiting: ${where} is paused`;
  const names = 'account' in want ? [want.account] : (await poolMembers(db, config, want.pool)).map((m) => m.name);
  if (names.length === 0) return `waiting: ${where} has no logged-in account (npx grokflow accounts login <name>)`;
  const facts = (await readFacts(db, names)).filter((f) => !paused(f.pool));
  // A named account the database does not know yet has room: the master claims it next.
  if (facts.length === 0) return `waiting: ${where}, the master claims it next`;
  let slots = 0;
  let busy = 0;
  let free = 0;
  const refusals: CapacityRefusal[] = [];
  for (const f of facts) {
    const c = capacityOf(f, config, { requireLogin: 'pool' in want });
    const { concurrency } = accountLimits({ kind: f.kind, concurrency: f.concurrency, minGapMs: f.minGapMs }, config);
    if (Number.isFinite(concurrency)) slots += concurrency;
    busy += f.inFlight;
    if (c.kind === 'free') free += c.starts;
    else refusals.push(c);
  }
  if (free > 0) return `waiting: ${where}, a slot is free: the master claims it next`;
  const parts = [`waiting: ${where}, ${busy} of ${slots} slots busy`];
  const cooling = refusals.filter((r): r is Extract<CapacityRefusal, { kind: 'cooling' }> => r.kind === 'cooling');
  if (cooling.length > 0) parts.push(`next cooldown ends ${hhmm(cooling.map((r) => r.until).sort()[0]!)}`);
  const gaps = refusals.filter((r): r is Extract<CapacityRefusal, { kind: 'gap' }> => r.kind === 'gap');
  if (gaps.length > 0) parts.push(`next gap ends ${hhmm(gaps.map((r) => r.until).sort()[0]!)}`);
  for (const r of refusals) if (r.kind === 'quota' || r.kind === 'budget' || r.kind === 'login' || r.kind === 'canary') parts.push(describeRefusal(r));
  return parts.join('; ');
}
