import { sql } from 'drizzle-orm';
import type { CanaryReport } from '../../backends/browser/canary';
import type { Executor } from '../../shared/db/client';
import { recordGrokQuota } from './grokQuota';

// The last canary's result on the account row (`accounts check`, by hand or on CANARY_CRON):
// a failed check holds the account out of its pool (pool.ts poolMembers) until a check
// passes; a passing one lets it back in. A capacity change either way: a pass NOTIFYs
// grokflow_capacity so waiting jobs are claimed at once.

export async function recordCanary(db: Executor, account: string, result: { ok: boolean; error?: string }): Promise<void> {
  await db.execute(sql`
    INSERT INTO accounts (name, canary_ok, canary_at, canary_error) VALUES (${account}, ${result.ok}, now(), ${result.ok ? null : result.error ?? 'check failed'})
    ON CONFLICT (name) DO UPDATE SET canary_ok = excluded.canary_ok, canary_at = now(), canary_error = excluded.canary_error, updated_at = now()`);
  if (result.ok) await db.execute(sql`SELECT pg_notify('grokflow_capacity', ${JSON.stringify({ table: 'accounts', op: 'canary', account })})`);
}

/** A check's result and Grok's quota reading on the account row (by hand or scheduled). */
export async function recordCheck(db: Executor, account: string, report: CanaryReport): Promise<void> {
  await recordCanary(db, account, report.missing.length === 0 ? { ok: true } : { ok: false, error: `missing ${report.missing.join('; ')}` });
  if (report.quota) await recordGrokQuota(db, account, report.quota);
}
