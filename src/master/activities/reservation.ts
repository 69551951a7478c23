import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { reservationHolder } from '../../shared/jobs/reservation';
import type { Reservation } from './types';

/**
 * The claim's reservation of a job being dispatched again (its workflow never started: a
 * master killed between the claim and the start), renewed for `ttlMs`; undefined when it
 * ran out meanwhile (the job's first item then takes a free slot as any item would).
 */
export async function renewReservation(db: Db, jobId: number, ttlMs: number): Promise<Reservation | undefined> {
  const holder = reservationHolder(jobId);
  const { rows } = await db.execute<{ account: string }>(sql`
    UPDATE account_leases SET expires_at = clock_timestamp() + make_interval(secs => ${ttlMs / 1000})
     WHERE holder = ${holder} AND job_id = ${jobId} AND expires_at > clock_timestamp()
    RETURNING account`);
  return rows[0] ? { account: rows[0].account, holder } : undefined;
}
