import { and, asc, eq, notInArray } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { jobs } from '../../shared/db/schema';
import { endJob } from '../../shared/jobs/endJob';
import { JOB_TYPE_NAMES } from '../../shared/registry';
import type { Logger } from '../../shared/logger';

const UNKNOWN_TYPES_PAGE = 200;

/**
 * PENDING rows of a type no scheduler serves (a typo in an INSERT) would wait forever: every
 * scheduler claims its own type only. The reconciler ends them ERROR naming the type.
 */
export async function failUnknownTypes(db: Db, logger: Logger): Promise<number> {
  // One bounded page a tick (the reconciler's activity has a minute); the next tick takes the rest.
  const rows = await db.select({ id: jobs.id, type: jobs.type }).from(jobs)
    .where(and(eq(jobs.status, 'PENDING'), notInArray(jobs.type, [...JOB_TYPE_NAMES])))
    .orderBy(asc(jobs.id))
    .limit(UNKNOWN_TYPES_PAGE);
  let failed = 0;
  for (const row of rows) {
    const message = `unknown job type "${row.type}"; known: ${JOB_TYPE_NAMES.join(', ')}`;
    const moved = await endJob(db, row.id, { status: 'ERROR', from: 'PENDING', message, detail: { by: 'reconciler', reason: 'unknown job type' } });
    if (moved.moved) {
      failed++;
      logger.error({ jobId: row.id }, message);
    }
  }
  return failed;
}
