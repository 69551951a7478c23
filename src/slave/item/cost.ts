import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { jobItems, jobs } from '../../shared/db/schema';

/**
 * What a backend reported an item cost so far (its total, in ticks, an exact decimal string):
 * set on the item, and the job's total recomputed from its items, in one transaction. Set,
 * never added: a retried attempt reporting the same requests again changes nothing.
 */
export async function recordCost(db: Db, jobId: number, index: number, costUsdTicks: string): Promise<void> {
  if (!/^\d{1,18}$/.test(costUsdTicks)) throw new Error(`item ${jobId}/${index}: cost "${costUsdTicks}" is not a whole number of ticks`);
  const ticks = Number(costUsdTicks);
  if (!Number.isSafeInteger(ticks)) throw new Error(`item ${jobId}/${index}: cost ${costUsdTicks} ticks is beyond what grokflow counts exactly`);
  await db.transaction(async (tx) => {
    await tx.update(jobItems).set({ costTicks: ticks }).where(and(eq(jobItems.jobId, jobId), eq(jobItems.index, index)));
    await tx
      .update(jobs)
      .set({ costTicks: sql`(SELECT sum(${jobItems.costTicks}) FROM ${jobItems} WHERE ${jobItems.jobId} = ${jobId})` })
      .where(eq(jobs.id, jobId));
  });
}
