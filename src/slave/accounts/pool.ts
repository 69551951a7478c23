import { sql } from 'drizzle-orm';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import { hasSavedSession, savedSessions, type LoginConfig } from './logins';
import { describeRefusal } from './capacity';
import { acquireSlot, type SlotHolder, type SlotRefusal } from './slots';
import { DEFAULT_POOL, type AccountWant } from '../../shared/jobs/account';

// Which account an item runs on, decided when the item starts (not once per job): the job's
// named account, or the first ready account of its pool that grants a slot. Nothing here
// opens a browser: an item that gets no account waits in its workflow (a durable timer).

export type PoolConfig = LoginConfig & Pick<Config, 'ACCOUNT_CONCURRENCY' | 'ACCOUNT_MIN_GAP_MS' | 'ACCOUNT_BUSY_RETRY_MS'>;

export type AccountChoice =
  | { kind: 'acquired'; account: string }
  /** No slot anywhere now: ask again after waitMs. `account` is the one that frees first. */
  | { kind: 'wait'; reason: 'cooling' | 'gap' | 'busy'; account: string; waitMs: number; until: string; message: string }
  /**
   * No slot, and an account it may use is busy (a slot frees when someone else's generation
   * ends, a time nobody knows): the job waits as a row for the claim to hand it one
   * (`asRow` callers only). `account`: the job's own, or the first busy one.
   */
  | { kind: 'queue'; account: string; message: string }
  /** Nothing to wait for: no account with a session, or every quota used up today. */
  | { kind: 'unavailable'; reason: 'noAccount' | 'quota'; message: string };

/**
 * The pool's members that could run a generation: a saved session and no login error. Rows
 * of the pool, plus, for the default pool, accounts that only exist as a saved session (they
 * logged in but never ran anything, so they have no row yet).
 */
export async function poolMembers(db: Db, config: LoginConfig, pool: string): Promise<Array<{ name: string; inFlight: number }>> {
  const { rows } = await db.execute<{ name: string; pool: string; auth_error: boolean; canary_failed: boolean; in_flight: number; last_started_at: string | null }>(sql`
    SELECT a.name, a.pool, a.last_auth_error IS NOT NULL AS auth_error, a.canary_ok IS FALSE AS canary_failed, a.last_started_at,
           (SELECT count(*)::int FROM account_leases l WHERE l.account = a.name AND l.expires_at > clock_timestamp()) AS in_flight
      FROM accounts a`);
  const saved = new Set(savedSessions(config));
  const known = new Set(rows.map((r) => r.name));
  const members = rows
    // A failed check (accounts check) holds the account out until one passes (capacity.ts says the same to the claim).
    .filter((r) => r.pool === pool && !r.auth_error && !r.canary_failed && saved.has(r.name))
    .map((r) => ({ name: r.name, inFlight: Number(r.in_flight), last: r.last_started_at ? Date.parse(r.last_started_at) : 0 }));
  if (pool === DEFAULT_POOL) {
    for (const name of saved) if (!known.has(name)) members.push({ name, inFlight: 0, last: 0 });
  }
  // Least busy first, then the one idle longest: work spreads over the pool.
  members.sort((a, b) => a.inFlight - b.inFlight || a.last - b.last || a.name.localeCompare(b.name));
  return members.map(({ name, inFlight }) => ({ name, inFlight }));
}

type WaitRefusal = Extract<SlotRefusal, { kind: 'cooling' | 'gap' | 'busy' }>;

/**
 * Takes a slot for the item on its account, or on the first member of its pool that has one.
 * `prefer`: the account the job holds (its reservation) is tried first, so a job keeps its
 * account between items while it may.
 */
export async function takeAccount(
  db: Db, config: PoolConfig, want: AccountWant, who: SlotHolder, ttlMs: number, prefer?: string, options: { asRow?: boolean } = {},
): Promise<AccountChoice> {
  // A named account is tried even without a saved session: the driver then says "needs a
  // new login", as it always has.
  let candidates = 'account' in want ? [want.account] : (await poolMembers(db, config, want.pool)).map((m) => m.name);
  if (prefer && candidates.includes(prefer)) candidates = [prefer, ...candidates.filter((c) => c !== prefer)];
  const where = 'account' in want ? `account ${want.account}` : `pool ${want.pool}`;
  if (candidates.length === 0) {
    const pool = 'pool' in want ? want.pool : DEFAULT_POOL;
    return { kind: 'unavailable', reason: 'noAccount', message: `${where} has no logged-in account (a saved session without a login error): npx grokflow accounts login <name>, and accounts set <name> --pool ${pool}` };
  }
  const refusals: SlotRefusal[] = [];
  for (const account of candidates) {
    // The file may have gone between the listing and now (a logout): skip, do not fail the item.
    if ('pool' in want && !hasSavedSession(config, account)) continue;
    const answer = await acquireSlot(db, config, account, who, ttlMs);
    if (answer.kind === 'acquired') return answer;
    refusals.push(answer);
  }
  const waits = refusals.filter((r): r is WaitRefusal => r.kind === 'cooling' || r.kind === 'gap' || r.kind === 'busy');
  if (waits.length === 0) {
    const quotas = refusals.filter((r) => r.kind === 'quota').map((r) => `${r.account} ${r.used}/${r.limit}`);
    return { kind: 'unavailable', reason: 'quota', message: `${where}: every account has used its daily quota (${quotas.join(', ') || 'none left'})` };
  }
  // A busy account frees when another job's generation ends: no time to sleep until. Unless
  // the job only waits for its own account's gap (its slot, kept between items), it waits
  // as a row the claim hands the next free slot to (src/slave/accounts/waitRows.ts).
  const busy = waits.filter((w) => w.kind === 'busy');
  const own = prefer === undefined ? undefined : refusals.find((r) => r.account === prefer);
  if (options.asRow && busy.length > 0 && own?.kind !== 'gap') {
    const why = [...(own && own.kind !== 'busy' ? [own] : []), busy[0]!].map(describeRefusal).join(', ');
    return { kind: 'queue', account: own?.account ?? busy[0]!.account, message: `${where}: ${why}; the master hands the job the next free slot` };
  }
  // The job's own account first when it frees at the same time as another.
  const first = waits.reduce((a, b) => (b.waitMs < a.waitMs ? b : a));
  const all = waits.every((w) => w.kind === 'cooling') ? `every account of ${where} is rate limited; ` : '';
  return { kind: 'wait', reason: first.kind, account: first.account, waitMs: first.waitMs, until: first.until, message: `${all}${describeRefusal(first)}` };
}

/** When the job stops waiting for accounts: its INSERT plus its deadlineMinutes, else JOB_DEADLINE_MS. */
export function jobDeadlineAt(createdAt: Date, payload: { deadlineMinutes?: number }, config: Pick<Config, 'JOB_DEADLINE_MS'>): number {
  return createdAt.getTime() + (payload.deadlineMinutes !== undefined ? payload.deadlineMinutes * 60_000 : config.JOB_DEADLINE_MS);
}
