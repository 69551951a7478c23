import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import { accountLimits, type LimitsConfig } from './limits';
import { grokQuotaSpentSql } from './grokQuota';
import { usedTodaySql } from './quota';

// A generation slot on an account: a lease row in account_leases (why a lease: the comment on
// that table in src/shared/db/schema.ts). Taking one checks, under a short row lock on the
// account, everything that must hold across slaves: the cooldown, the daily quota, the
// concurrency and the minimum gap between starts. Times are the database's clock, so the
// machines' clocks never disagree about a cooldown or a gap.

export interface SlotHolder {
  /** The same on every attempt of one activity (workflow id + activity id): a retry takes its own slot back. */
  holder: string;
  jobId?: number;
  itemIndex?: number;
}

/** Why no slot now, and when to ask again (`waitMs` from the database's now; `until` for people). */
export type SlotRefusal =
  /** why 'grokQuota': Grok's quota_info said 0 left (grokQuota.ts); else a rate limit's cooldown. */
  | { kind: 'cooling'; account: string; waitMs: number; until: string; why?: 'grokQuota' }
  | { kind: 'gap'; account: string; waitMs: number; until: string }
  | { kind: 'busy'; account: string; waitMs: number; until: string; inFlight: number; concurrency: number }
  | { kind: 'quota'; account: string; limit: number; used: number };

export type SlotAnswer = { kind: 'acquired'; account: string } | SlotRefusal;

interface Row {
  kind: 'browser' | 'api';
  concurrency: number | null;
  min_gap_ms: number | null;
  daily_quota: number | null;
  now: string;
  cooling_ms: number | null;
  cooldown_until: string | null;
  gap_ms: number | null;
  used: number;
  grok_spent_ms: number | null;
  [key: string]: unknown;
}

/**
 * Takes a slot on the account for `ttlMs` (renew it with renewSlot before it runs out), or
 * says why not. Safe to call from any number of processes at once: they queue on the
 * account's row, so two can never both see the last free slot.
 */
export async function acquireSlot(
  db: Db,
  config: LimitsConfig & { ACCOUNT_BUSY_RETRY_MS: number },
  account: string,
  who: SlotHolder,
  ttlMs: number,
): Promise<SlotAnswer> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO accounts (name) VALUES (${account}) ON CONFLICT (name) DO NOTHING`);
    // clock_timestamp(), not now(): a transaction that waited for the lock must see the time it got it.
    const { rows: [a] } = await tx.execute<Row>(sql`
      SELECT kind, concurrency, min_gap_ms, daily_quota, clock_timestamp() AS now,
             (extract(epoch FROM cooldown_until - clock_timestamp()) * 1000)::bigint AS cooling_ms, cooldown_until,
             (extract(epoch FROM clock_timestamp() - last_started_at) * 1000)::bigint AS gap_ms,
             ${usedTodaySql(sql`${account}`)} AS used,
             CASE WHEN ${grokQuotaSpentSql(sql`accounts`)}
                  THEN (extract(epoch FROM coalesce(grok_quota_resets_at, date_trunc('day', grok_quota_read_at) + interval '1 day') - clock_timestamp()) * 1000)::bigint
             END AS grok_spent_ms
        FROM accounts WHERE name = ${account} FOR UPDATE`);
    if (!a) throw new Error(`account ${account} vanished while taking a slot`);
    const limits = accountLimits({ kind: a.kind, concurrency: a.concurrency, minGapMs: a.min_gap_ms }, config);
    const at = (ms: number) => new Date(new Date(a.now).getTime() + ms).toISOString();

    if (a.cooling_ms !== null && Number(a.cooling_ms) > 0) {
      return { kind: 'cooling', account, waitMs: Number(a.cooling_ms), until: new Date(a.cooldown_until!).toISOString() };
    }
    // Grok said none left: wait until its window ends, before Grok has to say "Rate limit reached".
    if (a.grok_spent_ms !== null && Number(a.grok_spent_ms) > 0) {
      const waitMs = Number(a.grok_spent_ms);
      return { kind: 'cooling', account, waitMs, until: at(waitMs), why: 'grokQuota' };
    }
    // Leases run out when their holder stops renewing (killed, cut off); the holder's own
    // lease from an earlier attempt is replaced.
    await tx.execute(sql`DELETE FROM account_leases WHERE account = ${account} AND (expires_at <= clock_timestamp() OR holder = ${who.holder})`);
    const { rows: [held] } = await tx.execute<{ n: number; first_ms: number | null }>(sql`
      SELECT count(*)::int AS n, (extract(epoch FROM min(expires_at) - clock_timestamp()) * 1000)::bigint AS first_ms
        FROM account_leases WHERE account = ${account}`);
    const inFlight = Number(held?.n ?? 0);
    const used = Number(a.used);
    if (a.daily_quota !== null && used >= a.daily_quota) return { kind: 'quota', account, limit: a.daily_quota, used };
    // Items in flight will count once completed: a quota is never overshot by parallel slots.
    const quotaFull = a.daily_quota !== null && used + inFlight >= a.daily_quota;
    if (inFlight >= limits.concurrency || quotaFull) {
      // A slot usually frees when its generation ends, long before its lease would run out: ask again soon.
      const waitMs = Math.max(1, Math.min(config.ACCOUNT_BUSY_RETRY_MS, Number(held?.first_ms ?? config.ACCOUNT_BUSY_RETRY_MS)));
      return { kind: 'busy', account, waitMs, until: at(waitMs), inFlight, concurrency: limits.concurrency };
    }
    if (a.gap_ms !== null && Number(a.gap_ms) < limits.minGapMs) {
      const waitMs = limits.minGapMs - Number(a.gap_ms);
      return { kind: 'gap', account, waitMs, until: at(waitMs) };
    }
    await tx.execute(sql`
      INSERT INTO account_leases (account, holder, job_id, item_index, expires_at)
      VALUES (${account}, ${who.holder}, ${who.jobId ?? null}, ${who.itemIndex ?? null}, clock_timestamp() + make_interval(secs => ${ttlMs / 1000}))`);
    await tx.execute(sql`UPDATE accounts SET last_started_at = clock_timestamp(), updated_at = now() WHERE name = ${account}`);
    return { kind: 'acquired', account };
  });
}

/** Pushes the lease's end `ttlMs` ahead; false when the lease is gone (it ran out and was taken). */
export async function renewSlot(db: Db, account: string, holder: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await db.execute(sql`
    UPDATE account_leases SET expires_at = clock_timestamp() + make_interval(secs => ${ttlMs / 1000})
     WHERE account = ${account} AND holder = ${holder}`);
  return (rowCount ?? 0) > 0;
}

export async function releaseSlot(db: Db, account: string, holder: string): Promise<void> {
  await db.execute(sql`DELETE FROM account_leases WHERE account = ${account} AND holder = ${holder}`);
}

export interface HeldSlot {
  account: string;
  /** Stops renewing and gives the slot back (idempotent). */
  release(): Promise<void>;
}

/**
 * Keeps a taken slot alive while the generation runs: renewed three times per lease, so one
 * missed renewal (a slow query) never loses it. The renewals live in this process only: when
 * it dies, the lease runs out `ttlMs` later and the slot is free again.
 */
export function keepSlot(db: Db, account: string, holder: string, ttlMs: number, logger: Logger): HeldSlot {
  let lost = false;
  const timer = setInterval(() => {
    renewSlot(db, account, holder, ttlMs).then((held) => {
      if (!held && !lost) {
        lost = true;
        logger.warn({ account, holder }, 'account slot lease ran out while the generation was running');
      }
    }).catch((err: unknown) => logger.warn({ account, err: (err as Error).message }, 'could not renew the account slot'));
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  let released: Promise<void> | undefined;
  return {
    account,
    release() {
      clearInterval(timer);
      released ??= releaseSlot(db, account, holder);
      return released;
    },
  };
}
