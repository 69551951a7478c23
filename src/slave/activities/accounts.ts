import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { accounts } from '../../shared/db/schema';

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

/** Today's quota of the account (items completed since midnight); null when it has none. */
export async function quotaOf(db: Db, name: string): Promise<Quota | null> {
  const { rows } = await db.execute<{ limit: number | null; used: number }>(sql`
    SELECT a.daily_quota AS limit,
           (SELECT count(*)::int FROM job_items i JOIN jobs j ON j.id = i.job_id
             WHERE j.account = a.name AND i.status = 'COMPLETED'
               AND i.updated_at >= date_trunc('day', now())) AS used
      FROM accounts a WHERE a.name = ${name}`);
  const row = rows[0];
  if (!row || row.limit === null) return null;
  return { limit: row.limit, used: row.used, left: Math.max(0, row.limit - row.used) };
}
