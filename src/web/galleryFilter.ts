import { sql, type SQL } from 'drizzle-orm';
import { CliError, ExitCode } from '../cli/context';
import { resolveType } from '../cli/jobInput';
import { JOB_STATUSES, type JobStatus } from '../shared/db/schema';
import { DEFAULT_POOL } from '../shared/jobs/account';

// The gallery's and the dashboard's filter, written as SQL over `jobs` (and `job_items i`
// for the account an item ran on). Kept to this one function so that the jobs list's shared
// filter (helper ops) can replace it without touching the pages.

export interface JobFilter {
  status?: string;
  type?: string;
  account?: string;
  pool?: string;
  /** YYYY-MM-DD: jobs created on or after that day (UTC). */
  since?: string;
  /** YYYY-MM-DD: jobs created on or before that day (UTC). */
  until?: string;
}

export const FILTER_KEYS = ['status', 'type', 'account', 'pool', 'since', 'until'] as const;

function day(value: string, name: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new CliError(`${name} must be a date as YYYY-MM-DD, got "${value}"`, ExitCode.Usage);
  }
  return value;
}

/**
 * The conditions a filter sets, over `jobs`; with `items`, the account also matches the
 * account an item ran on (a pool job's items choose theirs). Bad values name the field.
 */
export function filterConditions(f: JobFilter, o: { items?: boolean } = {}): SQL[] {
  const out: SQL[] = [];
  if (f.status) {
    const status = f.status.toUpperCase() as JobStatus;
    if (!JOB_STATUSES.includes(status)) throw new CliError(`status must be one of ${JOB_STATUSES.join(', ')}`, ExitCode.Usage);
    out.push(sql`jobs.status = ${status}`);
  }
  if (f.type) out.push(sql`jobs.type = ${resolveType(f.type)}`);
  if (f.account) out.push(o.items ? sql`coalesce(i.account, jobs.account) = ${f.account}` : sql`jobs.account = ${f.account}`);
  if (f.pool) out.push(sql`coalesce(jobs.payload->>'pool', ${DEFAULT_POOL}) = ${f.pool}`);
  if (f.since) out.push(sql`jobs.created_at >= (${day(f.since, 'since')}::date)::timestamp AT TIME ZONE 'UTC'`);
  if (f.until) out.push(sql`jobs.created_at < (${day(f.until, 'until')}::date + 1)::timestamp AT TIME ZONE 'UTC'`);
  return out;
}

/** The conditions joined with AND; `true` when there are none. */
export function filterWhere(f: JobFilter, o: { items?: boolean } = {}): SQL {
  const c = filterConditions(f, o);
  return c.length ? sql.join(c, sql` AND `) : sql`true`;
}

/** Only the filter's own keys, non-empty: what a page's links carry on. */
export function filterQuery(f: JobFilter): string {
  const entries = FILTER_KEYS.flatMap((k) => (f[k] ? [[k, f[k]!] as [string, string]] : []));
  return new URLSearchParams(entries).toString();
}
