import { and, eq, notInArray } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { jobs } from '../../shared/db/schema';
import { transitionJob } from '../../shared/jobs/transition';
import { JOB_TYPE_NAMES } from '../../shared/registry';
import type { Logger } from '../../shared/logger';

/**
 * PENDING rows of a type no scheduler serves (a typo in an INSERT) would wait forever: every
 * scheduler claims its own type only. The reconciler ends them ERROR naming the type.
 */
export async function failUnknownTypes(db: Db, logger: Logger): Promise<number> {
  const rows = await db.select({ id: jobs.id, type: jobs.type }).from(jobs)
    .where(and(eq(jobs.status, 'PENDING'), notInArray(jobs.type, [...JOB_TYPE_NAMES])));
  let failed = 0;
  for (const row of rows) {
    const message = `unknown job type "${row.type}"; known: ${JOB_TYPE_NAMES.join(', ')}`;
    const moved = await transitionJob(db, row.id, 'ERROR', { from: 'PENDING', set: { errorMessage: message }, detail: { by: 'reconciler' } });
    if (moved.moved) {
      failed++;
      logger.error({ jobId: row.id }, message);
    }
  }
  return failed;
}
