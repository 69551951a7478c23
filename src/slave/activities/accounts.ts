import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { accounts } from '../../shared/db/schema';
import { budgetUsage } from './budget';

// Account state lives in Postgres so every slave on every machine sees the same cooldown.

export async function cooldownRemainingMs(db: Db, name: string): Promise<number> {
  const { rows } = await db.execute<{ ms: number | null }>(sql`
    SELECT (extract(epoch FROM cooldown_until - now()) * 1000)::bigint AS ms FROM accounts WHERE name = ${name}`);
  return Math.max(0, Number(rows[0]?.ms ?? 0));
}

/** Starts (or extends, never shortens) the account's cooldown. */
export async function startCooldown(db: Db, name: string, ms: number): Promise<void> {
  const until = sql`now() + make_interval(secs => ${ms / 1000})`;
  await db
    .insert(accounts)
    .values({ name, cooldownUntil: until })
    .onConflictDoUpdate({ target: accounts.name, set: { cooldownUntil: sql`greatest(${accounts.cooldownUntil}, ${until})` } });
}

export async function recordAuthError(db: Db, name: string, message: string | null): Promise<void> {
  await db
    .insert(accounts)
    .values({ name, lastAuthError: message })
    .onConflictDoUpdate({ target: accounts.name, set: { lastAuthError: message } });
}

export interface Quota {
  limit: number;
  used: number;
  left: number;
}

/** The account's daily quota (null: none) and its items completed since midnight. */
export async function quotaUsage(db: Db, name: string): Promise<{ limit: number | null; used: number }> {
  const { rows } = await db.execute<{ limit: number | null; used: number }>(sql`
    SELECT (SELECT daily_quota FROM accounts WHERE name = ${name}) AS limit,
           (SELECT count(*)::int FROM job_items i JOIN jobs j ON j.id = i.job_id
             WHERE j.account = ${name} AND i.status = 'COMPLETED'
               AND i.updated_at >= date_trunc('day', now())) AS used`);
  return { limit: rows[0]?.limit ?? null, used: Number(rows[0]?.used ?? 0) };
}

/** Today's quota of the account (items completed since midnight); null when it has none. */
export async function quotaOf(db: Db, name: string): Promise<Quota | null> {
  const { limit, used } = await quotaUsage(db, name);
  if (limit === null) return null;
  return { limit, used, left: Math.max(0, limit - used) };
}

export interface AccountStatus {
  name: string;
  /** A saved storage state exists; its content is never read here. */
  loggedIn: boolean;
  cooldownSeconds: number;
  dailyQuota: number | null;
  usedToday: number;
  quotaLeft: number | null;
  /** Jobs of the account claimed or running now (INQUEUE, PROGRESS). */
  inFlight: number;
  lastAuthError: string | null;
  /** 'browser': a Grok login; 'api': the xAI API key's account, with its daily budget in ticks. */
  kind: 'browser' | 'api';
  dailyBudgetTicks: number | null;
  spentTodayTicks: number;
  budgetLeftTicks: number | null;
}

/**
 * Every account the database or the accounts folder knows, with the same cooldown and quota
 * the slaves apply (cooldownRemainingMs, quotaUsage): what `accounts list` and the web
 * console show.
 */
export async function accountStatuses(db: Db, accountsDir: string): Promise<AccountStatus[]> {
  const rows = await db.select({ name: accounts.name, lastAuthError: accounts.lastAuthError, kind: accounts.kind }).from(accounts);
  // Accounts that logged in but never ran a job exist only as files.
  const files = fs.existsSync(accountsDir)
    ? fs.readdirSync(accountsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length))
    : [];
  const { rows: running } = await db.execute<{ account: string; n: number }>(sql`
    SELECT account, count(*)::int AS n FROM jobs WHERE status IN ('INQUEUE', 'PROGRESS') AND account IS NOT NULL GROUP BY account`);
  const names = [...new Set([...rows.map((r) => r.name), ...files])].sort();
  return Promise.all(names.map(async (name) => {
    const [cooldownMs, quota, budget] = await Promise.all([cooldownRemainingMs(db, name), quotaUsage(db, name), budgetUsage(db, name)]);
    return {
      name,
      loggedIn: files.includes(name),
      cooldownSeconds: Math.ceil(cooldownMs / 1000),
      dailyQuota: quota.limit,
      usedToday: quota.used,
      quotaLeft: quota.limit === null ? null : Math.max(0, quota.limit - quota.used),
      inFlight: Number(running.find((r) => r.account === name)?.n ?? 0),
      lastAuthError: rows.find((r) => r.name === name)?.lastAuthError ?? null,
      kind: rows.find((r) => r.name === name)?.kind ?? 'browser',
      dailyBudgetTicks: budget.limitTicks,
      spentTodayTicks: budget.spentTicks,
      budgetLeftTicks: budget.limitTicks === null ? null : Math.max(0, budget.limitTicks - budget.spentTicks),
    };
  }));
}
