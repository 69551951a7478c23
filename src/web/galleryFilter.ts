import { sql, type SQL } from 'drizzle-orm';
import { jobFilterSql, parseWhen, type JobFilter } from '../cli/jobFilter';
import { JOB_STATUSES } from '../shared/db/schema';
import { JOB_TYPE_NAMES } from '../shared/registry';
import { html, type Html } from './html';
import { filterFromQuery } from './jobsPage';

// The gallery's and the dashboard's filter: the jobs list's (src/cli/jobFilter.ts, the same
// fields, checks and messages), over `jobs`, with one difference for pages that show items:
// an account matches the account an item ran on too (a pool job's items choose theirs).

export type { JobFilter } from '../cli/jobFilter';
export { filterQuery } from '../cli/jobFilter';

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

/** The filter form the gallery and the dashboard share (the jobs list's fields). */
export function filterForm(action: string, f: JobFilter): Html {
  return html`<form method="get" action="${action}" class="filters" role="search">
  <label>Search prompts <input type="search" name="search" value="${f.search ?? ''}" size="22" placeholder="a word of the prompt"></label>
  <label>Status <select name="status"><option value="">any</option>${JOB_STATUSES.map((s) => html`<option ${f.status === s ? 'selected' : ''}>${s}</option>`)}</select></label>
  <label>Type <select name="type"><option value="">any</option>${JOB_TYPE_NAMES.map((t) => html`<option ${f.type === t ? 'selected' : ''}>${t}</option>`)}</select></label>
  <label>Account <input name="account" value="${f.account ?? ''}" size="10"></label>
  <label>Pool <input name="pool" value="${f.pool ?? ''}" size="8"></label>
  <label>Since <input name="since" value="${f.since ?? ''}" size="11" placeholder="2026-12-01 or 12h"></label>
  <label>Until <input name="until" value="${f.until ?? ''}" size="11"></label>
  <button type="submit">Filter</button> <a href="${action}">clear</a>
</form>`;
}
