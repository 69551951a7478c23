import { sql, type SQL } from 'drizzle-orm';
import type { ServiceQuota } from '../../backends/types';
import type { Executor } from '../../shared/db/client';

// Grok's own word on what an account has left (quota_info, read by the driver when the
// account starts work and by `accounts check`), kept on the account row. The capacity rule
// reads `grokQuotaSpentSql`: an account Grok said has 0 left is skipped until Grok's window
// ends (or, when Grok gave no window, until the day it was read is over), so the pool moves
// on before Grok answers "Rate limit reached". A newer reading always replaces an older one.

export async function recordGrokQuota(db: Executor, account: string, quota: ServiceQuota): Promise<void> {
  await db.execute(sql`
    INSERT INTO accounts (name, grok_quota_left, grok_quota_total, grok_quota_read_at, grok_quota_resets_at)
    VALUES (${account}, ${quota.left}, ${quota.total ?? null}, now(), ${quota.resetsAt ?? null})
    ON CONFLICT (name) DO UPDATE SET grok_quota_left = excluded.grok_quota_left, grok_quota_total = excluded.grok_quota_total,
      grok_quota_read_at = now(), grok_quota_resets_at = excluded.grok_quota_resets_at, updated_at = now()`);
}

/** The reading still holds: inside Grok's window, or the same day when Grok gave none. */
export function grokQuotaCurrentSql(a: SQL): SQL {
  return sql`(${a}.grok_quota_read_at IS NOT NULL AND coalesce(${a}.grok_quota_resets_at > clock_timestamp(), ${a}.grok_quota_read_at >= date_trunc('day', clock_timestamp())))`;
}

/** SQL true when Grok said the account has none left and that still holds (the pool skips it). */
export function grokQuotaSpentSql(a: SQL): SQL {
  return sql`(${a}.grok_quota_left = 0 AND ${grokQuotaCurrentSql(a)})`;
}
