import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';

/** The paused job types and pools (table job_pauses, migration 0007): the claim skips them. */
export async function readPauses(db: Db): Promise<{ types: Set<string>; pools: Set<string> }> {
  const { rows } = await db.execute<{ scope: 'type' | 'pool'; name: string }>(sql`SELECT scope, name FROM job_pauses`);
  return {
    types: new Set(rows.filter((r) => r.scope === 'type').map((r) => r.name)),
    pools: new Set(rows.filter((r) => r.scope === 'pool').map((r) => r.name)),
  };
}
