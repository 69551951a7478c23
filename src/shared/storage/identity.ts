import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';

/**
 * The name under which this database's objects are stored (`<prefix>/<identity>/<jobId>/…`),
 * so two grokflow databases sharing a bucket never overwrite each other's files.
 */
// lead: switch to the instance identity of issue 9
export async function databaseIdentity(db: Db): Promise<string> {
  const { rows } = await db.execute<{ name: string }>(sql`select current_database() as name`);
  return rows[0]!.name;
}
