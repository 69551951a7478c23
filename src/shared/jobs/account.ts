import type { Config } from '../config';

/**
 * The account a job runs on: the payload's `account`, else DEFAULT_ACCOUNT. Decided here
 * once: adding a job (CLI, console) records it in jobs.account, and the slave's start and
 * item activities run the job on it.
 */
export function jobAccount(payload: { account?: string }, config: Pick<Config, 'DEFAULT_ACCOUNT'>): string {
  return payload.account ?? config.DEFAULT_ACCOUNT;
}
