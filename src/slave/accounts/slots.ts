import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import type { LimitsConfig } from './limits';
import { capacityOf, lockAccounts, readFacts, type CapacityRefusal } from './capacity';

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
  /** The job's own slot of a workflow that waits as a row (job_waits): taking it ends that wait. */
  endsRowWait?: boolean;
}

/** Why no slot now (the capacity rule's refusals, src/slave/accounts/capacity.ts). */
export type SlotRefusal = CapacityRefusal;

export type SlotAnswer = { kind: 'acquired'; account: string } | SlotRefusal;

export { reservationHolder } from '../../shared/jobs/reservation';

/**
 * Takes a slot on the account for `ttlMs` (renew it with renewSlot before it runs out), or
 * says why not. A holder that already has a live lease there (the claim's reservation, its
 * own earlier item or attempt) keeps it: that is its slot. Safe to call from any number of
 * processes at once: they queue on the account's row, so two can never both see the last
 * free slot.
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
    await lockAccounts(tx, [account]);
    // Leases run out when their holder stops renewing (killed, cut off).
    await tx.execute(sql`DELETE FROM account_leases WHERE account = ${account} AND expires_at <= clock_timestamp()`);
    const [facts] = await readFacts(tx, [account], who.holder);
    if (!facts) throw new Error(`account ${account} vanished while taking a slot`);
    const answer = capacityOf(facts, config);
    if (answer.kind !== 'free') {
      // Only a lost reservation gets here busy (rare): ask again soon, not at a lease's end.
      return answer.kind === 'busy' ? { ...answer, waitMs: Math.min(answer.waitMs, config.ACCOUNT_BUSY_RETRY_MS) } : answer;
    }
    // A job that waited as a row has its slot now (src/slave/accounts/waitRows.ts): one statement.
    const endWait = who.endsRowWait && who.jobId !== undefined ? sql`WITH ended_wait AS (DELETE FROM job_waits WHERE job_id = ${who.jobId}) ` : sql``;
    await tx.execute(sql`${endWait}
      INSERT INTO account_leases (account, holder, job_id, item_index, expires_at, unused)
      VALUES (${account}, ${who.holder}, ${who.jobId ?? null}, ${who.itemIndex ?? null}, clock_timestamp() + make_interval(secs => ${ttlMs / 1000}), false)
      ON CONFLICT (account, holder) DO UPDATE SET expires_at = EXCLUDED.expires_at, item_index = EXCLUDED.item_index, unused = false`);
    // The claim counted a reservation's start already (and set last_started_at).
    if (!facts.unused) await tx.execute(sql`UPDATE accounts SET last_started_at = clock_timestamp(), updated_at = now() WHERE name = ${account}`);
    return { kind: 'acquired', account };
  });
}

/** Moves the lease's end to `ms` from now without renewing it further (a job keeps its slot between items, or through a wait). */
export async function holdSlot(db: Db, account: string, holder: string, ms: number): Promise<void> {
  await db.execute(sql`
    UPDATE account_leases SET expires_at = clock_timestamp() + make_interval(secs => ${ms / 1000})
     WHERE account = ${account} AND holder = ${holder}`);
}

/** Drops every lease of the holder (an extra item that found no slot). */
export async function releaseHolder(db: Db, holder: string): Promise<void> {
  await db.execute(sql`DELETE FROM account_leases WHERE holder = ${holder}`);
}

/** Drops the holder's leases on other accounts (a pool job's reservation moved to another account). */
export async function dropOtherSlots(db: Db, account: string, holder: string): Promise<void> {
  await db.execute(sql`DELETE FROM account_leases WHERE holder = ${holder} AND account <> ${account}`);
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
  /** Stops renewing and keeps the slot `ms` longer (the job's next item, or its retry, adopts it). */
  keep(ms: number): Promise<void>;
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
    keep(ms) {
      clearInterval(timer);
      released ??= holdSlot(db, account, holder, ms);
      return released;
    },
  };
}
