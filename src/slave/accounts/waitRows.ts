import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';

// A running job that needs a slot and none is free waits as a row of job_waits (migration
// 0014), the way a PENDING job waits as its jobs row: nothing in its workflow asks again.
// The master's claim hands it the next free slot of its want in claim order (priority, then
// age, PENDING jobs included: src/master/activities/waiters.ts) and signals the workflow; the
// item that adopts the slot deletes the row (acquireSlot, src/slave/accounts/slots.ts).

export interface RowWait {
  jobId: number;
  /** The job's slot (lease holder `job/<id>`): given back, so nothing is held while it waits. */
  holder: string;
  /** The account it ran on or asked for. */
  account: string;
  /** What it waits for, as said to a person (`jobs show`, the console). */
  reason: string;
}

/**
 * The job waits as its row: its slot given back (a rate-limited account's, or a lease that ran
 * out) and the row written, in one transaction. The row's INSERT (or UPDATE) NOTIFYs
 * grokflow_capacity, so a slot freed between the job's own look and this row still reaches it.
 */
export async function waitAsRow(db: Db, wait: RowWait): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`DELETE FROM account_leases WHERE holder = ${wait.holder}`);
    await tx.execute(sql`
      INSERT INTO job_waits (job_id, account, reason) VALUES (${wait.jobId}, ${wait.account}, ${wait.reason})
      ON CONFLICT (job_id) DO UPDATE SET account = EXCLUDED.account, reason = EXCLUDED.reason`);
  });
}
