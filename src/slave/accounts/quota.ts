import { sql, type SQL } from 'drizzle-orm';
import type { Db, Executor } from '../../shared/db/client';

// "Items used today": the one definition, used by the slot's check, the job's start and the
// views. An item counts for the account it ran on (job_items.account; rows from before pools
// have none and count for their job's account), once COMPLETED since midnight (the database's
// clock and time zone, the same for every slave).

/** SQL: items the account named by `name` (an SQL expression) completed today. */
export function usedTodaySql(name: SQL): SQL {
  return sql`(SELECT count(*)::int FROM job_items i JOIN jobs j ON j.id = i.job_id
    WHERE coalesce(i.account, j.account) = ${name} AND i.status = 'COMPLETED'
      AND i.updated_at >= date_trunc('day', now()))`;
}

export interface Quota {
  limit: number;
  used: number;
  left: number;
}

/** The account's daily quota (null: none) and its items completed since midnight. */
export async function quotaUsage(db: Db | Executor, name: string): Promise<{ limit: number | null; used: number }> {
  const { rows } = await db.execute<{ limit: number | null; used: number }>(sql`
    SELECT (SELECT daily_quota FROM accounts WHERE name = ${name}) AS limit, ${usedTodaySql(sql`${name}`)} AS used`);
  return { limit: rows[0]?.limit ?? null, used: Number(rows[0]?.used ?? 0) };
}

/** Today's quota of the account; null when it has none. */
export async function quotaOf(db: Db | Executor, name: string): Promise<Quota | null> {
  const { limit, used } = await quotaUsage(db, name);
  if (limit === null) return null;
  return { limit, used, left: Math.max(0, limit - used) };
}
