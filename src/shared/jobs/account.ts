import { sql, type SQL } from 'drizzle-orm';
import type { Config } from '../config';

/** Accounts with no pool set belong to this one, and so do jobs that name neither. */
export const DEFAULT_POOL = 'default';

/** What a job asks for: one account, or any ready account of a pool. */
export type AccountWant = { account: string } | { pool: string };

export type AccountConfig = Pick<Config, 'GROK_BACKEND' | 'XAI_ACCOUNT'>;

/**
 * The rule, decided here once: a job (its payload, or its item plan) that names an account
 * keeps to it; an api job spends from XAI_ACCOUNT (the API key's account and its budget);
 * otherwise the job's items take accounts of its pool (payload.pool, else `default`).
 */
export function accountWant(p: { account?: string; pool?: string; backend?: string }, config: AccountConfig): AccountWant {
  if (p.account) return { account: p.account };
  if ((p.backend ?? config.GROK_BACKEND) === 'api') return { account: config.XAI_ACCOUNT };
  return { pool: p.pool ?? DEFAULT_POOL };
}

/** What jobs.account records when a job is added: the account it keeps to; null while a pool's items choose. */
export function jobAccount(payload: { account?: string; pool?: string; backend?: string }, config: AccountConfig): string | null {
  const want = accountWant(payload, config);
  return 'account' in want ? want.account : null;
}

/**
 * The pool a job runs in, as SQL (the rule of accountWant): its payload's pool, else the pool
 * of the account it keeps to, else `default`. The jobs list's pool filter and the claim's
 * pause check read it. `jobsTable` names the jobs row in the caller's statement.
 */
export function jobPoolSql(jobsTable = 'jobs'): SQL {
  return sql.raw(`coalesce(${jobsTable}.payload->>'pool', (SELECT a.pool FROM accounts a WHERE a.name = ${jobsTable}.account), '${DEFAULT_POOL}')`);
}
