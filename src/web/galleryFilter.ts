import { sql, type SQL } from 'drizzle-orm';
import { jobFilterSql, parseWhen, type JobFilter } from '../cli/jobFilter';
import { filterFromQuery } from './jobsPage';

// The gallery's and the dashboard's filter: the jobs list's (src/cli/jobFilter.ts, the same
// fields, checks and messages), over `jobs`, with one difference for pages that show items:
// an account matches the account an item ran on too (a pool job's items choose theirs).

export type { JobFilter } from '../cli/jobFilter';
export { filterQuery } from '../cli/jobFilter';
export { filterForm } from './filterForm';

/** The query string's filter, checked as a form's (a bad field is named, 400). */
export const viewFilter = filterFromQuery;

/** The filter as SQL over `jobs` (and `job_items i` with `items`); `true` for no filter. */
export function filterWhere(f: JobFilter, o: { items?: boolean } = {}): SQL {
  const shared = jobFilterSql(o.items ? { ...f, account: undefined } : f);
  const account = o.items && f.account ? sql`coalesce(i.account, jobs.account) = ${f.account}` : undefined;
  const parts = [shared, account].filter((p): p is SQL => p !== undefined);
  return parts.length ? sql.join(parts, sql` AND `) : sql`true`;
}

/** When the filter's window starts and ends, if it names them. */
export function filterWindow(f: JobFilter, now = new Date()): { since?: Date; until?: Date } {
  return { since: f.since ? parseWhen(f.since, 'since', now) : undefined, until: f.until ? parseWhen(f.until, 'until', now) : undefined };
}
