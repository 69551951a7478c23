import { sql } from 'drizzle-orm';
import type { Executor } from '../../shared/db/client';
import { accountLimits, type LimitsConfig } from './limits';
import { usedTodaySql } from './quota';
import { spentTodaySql } from './budget';
import { grokQuotaSpentSql } from './grokQuota';

// "This account can take a job now": the one rule, read by the master's claim (which jobs
// start), the slot (slots.ts: an item's start on its reserved or a free account) and the
// waiting explanation (src/shared/jobs/waiting.ts). The facts come from one SELECT
// (`readFacts`), the decision from one function (`capacityOf`). A new condition (Grok's own
// quota left, a failed canary) is a column in readFacts and a refusal in capacityOf.

export interface AccountFacts {
  name: string;
  pool: string;
  kind: 'browser' | 'api';
  concurrency: number | null;
  minGapMs: number | null;
  /** Live leases of others (not `holder`'s own). */
  inFlight: number;
  /** `holder` has a live lease on this account. */
  holding: boolean;
  /** That lease is a claim's reservation no item used yet: the claim already counted its start. */
  unused: boolean;
  /** When the first of the others' leases runs out (ms from now), if any. */
  firstExpiryMs: number | null;
  coolingMs: number | null;
  cooldownUntil: string | null;
  /** Since the last start on the account (ms), null: never started. */
  sinceStartMs: number | null;
  dailyQuota: number | null;
  used: number;
  dailyBudgetTicks: number | null;
  spentTicks: number;
  authError: boolean;
  /** Grok's quota_info said 0 left and that still holds: ms until its window ends (grokQuota.ts); else null. */
  grokSpentMs: number | null;
  /** The last check (accounts check / CANARY_CRON) failed: held out of its pool until one passes. */
  canaryFailed: boolean;
  /** The database's clock when the facts were read. */
  now: string;
}

/** Why the account takes nothing now; `waitMs`/`until` when that ends by itself. */
export type CapacityRefusal =
  /** why 'grokQuota': Grok's quota_info said 0 left (until its window ends); else a rate limit's cooldown. */
  | { kind: 'cooling'; account: string; waitMs: number; until: string; why?: 'grokQuota' }
  | { kind: 'gap'; account: string; waitMs: number; until: string }
  | { kind: 'busy'; account: string; waitMs: number; until: string; inFlight: number; concurrency: number }
  | { kind: 'quota'; account: string; limit: number; used: number }
  | { kind: 'budget'; account: string; limitTicks: number; spentTicks: number }
  | { kind: 'login'; account: string }
  /** The last check failed (canaryState.ts): out of its pool until a check passes (which NOTIFYs capacity). */
  | { kind: 'canary'; account: string };

export type Capacity = { kind: 'free'; account: string; starts: number } | CapacityRefusal;

/**
 * How many starts the account can take now (`starts` ≥ 1), or why none. `holding`: the
 * caller's own lease counts as its slot (a job keeps its account between items).
 * A minimum gap allows one start now (the next waits for the gap); a daily quota counts the
 * items in flight as used, so parallel slots never overshoot it.
 */
export function capacityOf(f: AccountFacts, config: LimitsConfig, options: { requireLogin?: boolean } = {}): Capacity {
  const account = f.name;
  const limits = accountLimits({ kind: f.kind, concurrency: f.concurrency, minGapMs: f.minGapMs }, config);
  const at = (ms: number) => new Date(new Date(f.now).getTime() + ms).toISOString();
  if (options.requireLogin && f.authError) return { kind: 'login', account };
  if (options.requireLogin && f.canaryFailed) return { kind: 'canary', account };
  if (f.coolingMs !== null && f.coolingMs > 0) return { kind: 'cooling', account, waitMs: f.coolingMs, until: new Date(f.cooldownUntil!).toISOString() };
  // Grok said none left: wait for its window, before Grok has to answer "Rate limit reached".
  if (f.grokSpentMs !== null && f.grokSpentMs > 0) return { kind: 'cooling', account, waitMs: f.grokSpentMs, until: at(f.grokSpentMs), why: 'grokQuota' };
  if (f.dailyBudgetTicks !== null && f.spentTicks >= f.dailyBudgetTicks) {
    return { kind: 'budget', account, limitTicks: f.dailyBudgetTicks, spentTicks: f.spentTicks };
  }
  if (f.dailyQuota !== null && f.used >= f.dailyQuota) return { kind: 'quota', account, limit: f.dailyQuota, used: f.used };
  const quotaLeft = f.dailyQuota === null ? Number.POSITIVE_INFINITY : f.dailyQuota - f.used - f.inFlight;
  const slotsLeft = f.holding ? 1 : limits.concurrency - f.inFlight;
  const starts = Math.min(slotsLeft, quotaLeft);
  if (starts <= 0) {
    // A slot frees when a generation ends (a NOTIFY), or when a dead holder's lease runs out.
    const waitMs = Math.max(1, f.firstExpiryMs ?? 1000);
    return { kind: 'busy', account, waitMs, until: at(waitMs), inFlight: f.inFlight, concurrency: limits.concurrency };
  }
  // The claim's reservation counted its start already; every other start keeps the gap.
  if (!f.unused && f.sinceStartMs !== null && f.sinceStartMs < limits.minGapMs) {
    const waitMs = limits.minGapMs - f.sinceStartMs;
    return { kind: 'gap', account, waitMs, until: at(waitMs) };
  }
  return { kind: 'free', account, starts: limits.minGapMs > 0 ? 1 : starts };
}

interface FactsRow {
  name: string;
  pool: string;
  kind: 'browser' | 'api';
  concurrency: number | null;
  min_gap_ms: number | null;
  in_flight: number;
  holding: boolean | null;
  unused: boolean | null;
  first_expiry_ms: string | null;
  cooling_ms: string | null;
  cooldown_until: string | null;
  since_start_ms: string | null;
  daily_quota: number | null;
  used: number;
  daily_budget_ticks: string | null;
  spent: string;
  auth_error: boolean;
  grok_spent_ms: string | null;
  canary_failed: boolean;
  now: string;
  [key: string]: unknown;
}

/**
 * The facts of these accounts (rows that exist), as the database's clock sees them now.
 * clock_timestamp(), not now(): a transaction that waited for a row lock sees the time it got it.
 * The day's usage is counted only for an account with a quota or a budget.
 */
export async function readFacts(db: Executor, names: string[], holder = ''): Promise<AccountFacts[]> {
  if (names.length === 0) return [];
  const { rows } = await db.execute<FactsRow>(sql`
    SELECT a.name, a.pool, a.kind, a.concurrency, a.min_gap_ms, a.daily_quota, a.daily_budget_ticks,
           a.last_auth_error IS NOT NULL AS auth_error, clock_timestamp() AS now, a.cooldown_until,
           a.canary_ok IS FALSE AS canary_failed,
           CASE WHEN ${grokQuotaSpentSql(sql`a`)}
                THEN (extract(epoch FROM coalesce(a.grok_quota_resets_at, date_trunc('day', a.grok_quota_read_at) + interval '1 day') - clock_timestamp()) * 1000)::bigint
           END AS grok_spent_ms,
           (extract(epoch FROM a.cooldown_until - clock_timestamp()) * 1000)::bigint AS cooling_ms,
           (extract(epoch FROM clock_timestamp() - a.last_started_at) * 1000)::bigint AS since_start_ms,
           coalesce(l.in_flight, 0)::int AS in_flight, l.holding, l.unused, l.first_expiry_ms,
           CASE WHEN a.daily_quota IS NULL THEN 0 ELSE ${usedTodaySql(sql`a.name`)} END AS used,
           CASE WHEN a.daily_budget_ticks IS NULL THEN 0 ELSE ${spentTodaySql(sql`a.name`)} END AS spent
      FROM accounts a
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE holder <> ${holder}) AS in_flight,
               bool_or(holder = ${holder}) AS holding,
               bool_or(holder = ${holder} AND unused) AS unused,
               (extract(epoch FROM min(expires_at) FILTER (WHERE holder <> ${holder}) - clock_timestamp()) * 1000)::bigint AS first_expiry_ms
          FROM account_leases WHERE account = a.name AND expires_at > clock_timestamp()
      ) l ON true
     WHERE a.name = ANY(${textArray(names)}::text[])
     ORDER BY a.name`);
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    name: r.name,
    pool: r.pool,
    kind: r.kind,
    concurrency: r.concurrency,
    minGapMs: r.min_gap_ms,
    inFlight: Number(r.in_flight),
    holding: r.holding === true,
    unused: r.unused === true,
    firstExpiryMs: num(r.first_expiry_ms),
    coolingMs: num(r.cooling_ms),
    cooldownUntil: r.cooldown_until,
    sinceStartMs: num(r.since_start_ms),
    dailyQuota: r.daily_quota,
    used: Number(r.used),
    dailyBudgetTicks: num(r.daily_budget_ticks),
    spentTicks: Number(r.spent),
    authError: r.auth_error,
    grokSpentMs: num(r.grok_spent_ms),
    canaryFailed: r.canary_failed,
    now: r.now,
  }));
}

/** Locks the accounts' rows (in name order: two claimers never deadlock) until the transaction ends. */
export async function lockAccounts(tx: Executor, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await tx.execute(sql`SELECT name FROM accounts WHERE name = ANY(${textArray(names)}::text[]) ORDER BY name FOR UPDATE`);
}

/** A Postgres array literal of names (one parameter; drizzle would spread a JS array into many). */
export function textArray(names: string[]): string {
  return `{${names.map((n) => `"${n.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** What a refusal says to a person (the waiting explanation, an item's wait). */
export function describeRefusal(r: CapacityRefusal): string {
  switch (r.kind) {
    case 'cooling': return r.why === 'grokQuota' ? `account ${r.account} has no generations left (Grok's quota_info) until ${r.until}` : `account ${r.account} is rate limited until ${r.until}`;
    case 'gap': return `account ${r.account} keeps its gap between generations until ${r.until}`;
    case 'busy': return `account ${r.account} runs ${r.inFlight} of ${r.concurrency} generations`;
    case 'quota': return `account ${r.account} has used its daily quota (${r.used}/${r.limit})`;
    case 'budget': return `account ${r.account} has spent its daily budget`;
    case 'login': return `account ${r.account} needs a new login`;
    case 'canary': return `account ${r.account} failed its last check (accounts check): out of its pool until a check passes`;
  }
}

/** When the refusal ends by itself (ms from now); undefined: it needs a person or a new day. */
export function refusalEndsInMs(r: CapacityRefusal): number | undefined {
  return r.kind === 'cooling' || r.kind === 'gap' || r.kind === 'busy' ? r.waitMs : undefined;
}
