import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { CliError, ExitCode } from '../cli/context';
import { ago, truncate } from '../cli/format';
import { resolveType } from '../cli/jobInput';
import type { Db } from '../shared/db/client';
import { JOB_STATUSES, jobs, type Job, type JobStatus } from '../shared/db/schema';
import { JOB_TYPE_NAMES } from '../shared/registry';
import { html, type Html } from './html';

export interface JobFilter {
  status?: string;
  type?: string;
  account?: string;
}

/** The filter's WHERE, with the CLI's messages for a bad status or type. */
function where(f: JobFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (f.status) {
    const status = f.status.toUpperCase() as JobStatus;
    if (!JOB_STATUSES.includes(status)) throw new CliError(`status must be one of ${JOB_STATUSES.join(', ')}`, ExitCode.Usage);
    conditions.push(eq(jobs.status, status));
  }
  if (f.type) conditions.push(eq(jobs.type, resolveType(f.type)));
  if (f.account) conditions.push(eq(jobs.account, f.account));
  return and(...conditions);
}

export function jobRow(j: Job): Html {
  return html`<tr data-job="${j.id}">
  <td><a href="/jobs/${j.id}">${j.id}</a></td>
  <td>${j.type}</td>
  <td class="status"><span class="badge s-${j.status}">${j.status}</span></td>
  <td class="progress"><progress max="100" value="${j.progress}"></progress> <span class="pct">${j.progress}%</span></td>
  <td>${j.account ?? ''}</td>
  <td title="${j.createdAt.toISOString()}">${ago(j.createdAt)}</td>
  <td class="message">${truncate(j.errorMessage ?? j.progressMessage, 80)}</td>
</tr>`;
}

/** One job's row if it passes the filter: what a page fetches for a job it learns of by NOTIFY. */
export async function filteredJobRow(db: Db, id: number, f: JobFilter): Promise<Html | undefined> {
  const [job] = await db.select().from(jobs).where(and(eq(jobs.id, id), where(f)));
  return job && jobRow(job);
}

export async function jobsPage(db: Db, f: JobFilter): Promise<Html> {
  const rows = await db.select().from(jobs).where(where(f)).orderBy(desc(jobs.id)).limit(200);
  const counted = await db.select({ status: jobs.status, n: sql<number>`count(*)::int` }).from(jobs).groupBy(jobs.status);
  const count = (s: JobStatus) => counted.find((c) => c.status === s)?.n ?? 0;
  const filterQuery = new URLSearchParams(Object.entries(f).filter(([, v]) => v) as Array<[string, string]>).toString();
  return html`
<h1>Jobs</h1>
<ul class="counts" aria-label="jobs per status">
  ${JOB_STATUSES.map((s) => html`<li><a href="/?status=${s}" class="badge s-${s}">${s} <b data-count="${s}">${count(s)}</b></a></li>`)}
</ul>
<form method="get" action="/" class="filters">
  <label>Status <select name="status"><option value="">any</option>${JOB_STATUSES.map((s) => html`<option ${f.status?.toUpperCase() === s ? 'selected' : ''}>${s}</option>`)}</select></label>
  <label>Type <select name="type"><option value="">any</option>${JOB_TYPE_NAMES.map((t) => html`<option ${f.type && resolveType(f.type) === t ? 'selected' : ''}>${t}</option>`)}</select></label>
  <label>Account <input name="account" value="${f.account ?? ''}" size="12"></label>
  <button type="submit">Filter</button> <a href="/">clear</a>
</form>
<table class="jobs" data-live-jobs data-filter="${filterQuery}">
  <thead><tr><th>id</th><th>type</th><th>status</th><th>progress</th><th>account</th><th>created</th><th>message</th></tr></thead>
  <tbody>${rows.map(jobRow)}</tbody>
</table>
${rows.length ? '' : html`<p class="empty">No jobs yet: add one, or INSERT a row into <code>jobs</code>.</p>`}`;
}
