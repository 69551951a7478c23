import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { accountLimits, type LimitsConfig } from './limits';
import { savedSessions, type LoginConfig } from './logins';
import { DEFAULT_POOL } from '../../shared/jobs/account';
import { spentTodaySql } from './budget';
import { grokQuotaCurrentSql } from './grokQuota';
import { usedTodaySql } from './quota';

export interface AccountStatus {
  name: string;
  pool: string;
  /** A saved session exists; its content is never read here. */
  loggedIn: boolean;
  cooldownSeconds: number;
  /** When the cooldown ends (ISO), null when not cooling. */
  cooldownUntil: string | null;
  dailyQuota: number | null;
  usedToday: number;
  quotaLeft: number | null;
  /** What Grok's quota_info said was left, of how many, and when read; null: not read, or its window has passed. */
  grokQuotaLeft: number | null;
  grokQuotaTotal: number | null;
  grokQuotaReadAt: string | null;
  /** The last check (accounts check / CANARY_CRON): false holds the account out of its pool. */
  canaryOk: boolean | null;
  canaryAt: string | null;
  canaryError: string | null;
  /** Generations running on it now: slots held (unexpired leases), across every slave. */
  inFlight: number;
  /** Generations at once it allows; Infinity (null in JSON): no limit (an api account by default). */
  concurrency: number;
  minGapMs: number;
  lastAuthError: string | null;
  /** The last failure seen on it: a rate limit, a login, a generation error. */
  lastError: string | null;
  /** 'browser': a Grok login; 'api': the xAI API key's account, with its daily budget in ticks. */
  kind: 'browser' | 'api';
  dailyBudgetTicks: number | null;
  spentTodayTicks: number;
  budgetLeftTicks: number | null;
}

/**
 * Every account the database or the accounts folder knows, with the limits the slaves apply
 * (slots.ts reads the same columns and the same "used today"): what `accounts list`, the web
 * console and the metrics show.
 */
export async function accountStatuses(db: Db, config: LoginConfig & LimitsConfig): Promise<AccountStatus[]> {
  const { rows } = await db.execute<{
    name: string; pool: string; concurrency: number | null; min_gap_ms: number | null; daily_quota: number | null;
    cooling_ms: number | null; cooldown_until: string | null; used: number; in_flight: number;
    last_auth_error: string | null; last_error: string | null; kind: 'browser' | 'api'; daily_budget_ticks: string | null; spent: string;
    grok_left: number | null; grok_quota_total: number | null; grok_quota_read_at: string | null;
    canary_ok: boolean | null; canary_at: string | null; canary_error: string | null;
  }>(sql`
    SELECT a.name, a.pool, a.concurrency, a.min_gap_ms, a.daily_quota, a.last_auth_error, a.last_error,
           a.kind, a.daily_budget_ticks, ${spentTodaySql(sql`a.name`)} AS spent,
           CASE WHEN ${grokQuotaCurrentSql(sql`a`)} THEN a.grok_quota_left END AS grok_left, a.grok_quota_total, a.grok_quota_read_at,
           a.canary_ok, a.canary_at, a.canary_error,
           (extract(epoch FROM a.cooldown_until - now()) * 1000)::bigint AS cooling_ms, a.cooldown_until,
           ${usedTodaySql(sql`a.name`)} AS used,
           (SELECT count(*)::int FROM account_leases l WHERE l.account = a.name AND l.expires_at > clock_timestamp()) AS in_flight
      FROM accounts a`);
  // Accounts that logged in but never ran a job exist only as files.
  const saved = savedSessions(config);
  const byName = new Map(rows.map((r) => [r.name, r]));
  const names = [...new Set([...byName.keys(), ...saved])].sort();
  return names.map((name) => {
    const r = byName.get(name);
    const coolingMs = Math.max(0, Number(r?.cooling_ms ?? 0));
    const limit = r?.daily_quota ?? null;
    const used = Number(r?.used ?? 0);
    const budget = r?.daily_budget_ticks == null ? null : Number(r.daily_budget_ticks);
    const spent = Number(r?.spent ?? 0);
    const limits = accountLimits({ kind: r?.kind, concurrency: r?.concurrency ?? null, minGapMs: r?.min_gap_ms ?? null }, config);
    return {
      name,
      pool: r?.pool ?? DEFAULT_POOL,
      loggedIn: saved.includes(name),
      cooldownSeconds: Math.ceil(coolingMs / 1000),
      cooldownUntil: coolingMs > 0 && r?.cooldown_until ? new Date(r.cooldown_until).toISOString() : null,
      dailyQuota: limit,
      usedToday: used,
      quotaLeft: limit === null ? null : Math.max(0, limit - used),
      grokQuotaLeft: r?.grok_left ?? null,
      grokQuotaTotal: r?.grok_left == null ? null : r.grok_quota_total,
      grokQuotaReadAt: r?.grok_quota_read_at ? new Date(r.grok_quota_read_at).toISOString() : null,
      canaryOk: r?.canary_ok ?? null,
      canaryAt: r?.canary_at ? new Date(r.canary_at).toISOString() : null,
      canaryError: r?.canary_error ?? null,
      inFlight: Number(r?.in_flight ?? 0),
      concurrency: limits.concurrency,
      minGapMs: limits.minGapMs,
      lastAuthError: r?.last_auth_error ?? null,
      lastError: r?.last_error ?? null,
      kind: r?.kind ?? 'browser',
      dailyBudgetTicks: budget,
      spentTodayTicks: spent,
      budgetLeftTicks: budget === null ? null : Math.max(0, budget - spent),
    };
  });
}
