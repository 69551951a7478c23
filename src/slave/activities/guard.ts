import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../shared/db/client';
import { databaseIdentity } from '../../shared/db/instance';
import { FailureType } from '../failures';

/** What every slave activity is told about its job: which one, and in which database. */
export interface JobRef {
  jobId: number;
  /** The database identity from the workflow's input; absent in workflows started before it existed. */
  instance?: string;
}

/**
 * The one check every slave activity makes before it reads or writes a row: the workflow
 * belongs to this worker's database. Job ids restart at 1 in every database, so a workflow
 * of database A reaching a worker of database B would otherwise act on B's job of the same
 * id. A mismatch fails non-retryably (another attempt would meet the same database) and
 * touches nothing.
 */
export async function assertOwnDatabase(db: Db, { jobId, instance }: JobRef): Promise<void> {
  if (instance === undefined) return;
  const own = await databaseIdentity(db);
  if (own === instance) return;
  throw ApplicationFailure.nonRetryable(
    `job ${jobId}'s workflow belongs to the grokflow database ${instance}, but this worker serves database ${own}: `
      + 'nothing was changed (deployments running at the same time need a Temporal namespace each: TEMPORAL_NAMESPACE)',
    FailureType.WrongDatabase,
  );
}
