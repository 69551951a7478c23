import { and, desc, eq, sql } from 'drizzle-orm';
import { ago, truncate } from '../cli/format';
import { FILTER_FIELDS, filterQuery, jobFilterSql, jobSummary, normalizeFilter, type JobFilter } from '../cli/jobFilter';
import type { Db } from '../shared/db/client';
import { JOB_STATUSES, jobs, type Job, type JobStatus } from '../shared/db/schema';
import { filterForm } from './filterForm';
import { html, type Html } from './html';

export type { JobFilter } from '../cli/jobFilter';

/** The query string's filter fields only (a page's other fields are not a filter), checked as a form's. */
export function filterFromQuery(q: unknown): JobFilter {
  const query = (q ?? {}) as Record<string, unknown>;
  const f: JobFilter = {};
  for (const k of FILTER_FIELDS) if (typeof query[k] === 'string') f[k] = query[k] as string;
  return normalizeFilter(f, '');
}

export function jobRow(j: Job): Html {
  const s = jobSummary(j);
  return html`<tr data-job="${j.id}">
  <td><a href="/jobs/${j.id}">${j.id}</a></td>
  <td>${j.type}</td>
  <td class="status"><span class="badge s-${j.status}">${j.status}</span></td>
  <td class="progress"><progress max="100" value="${j.progress}"></progress> <span class="pct">${j.progress}%</span></td>
  <td class="prompt" title="${s.prompt}">${truncate(s.prompt, 60)}</td>
  <td class="count">${s.count}</td>
  <td>${s.backend}</td>
  <td>${j.account ?? ''}</td>
  <td title="${j.createdAt.toISOString()}">${ago(j.createdAt)}</td>
  <td class="message">${truncate(j.errorMessage ?? j.progressMessage, 80)}</td>
</tr>`;
}

/** One job's row if it passes the filter: what a page fetches for a job it learns of by NOTIFY. */
export async function filteredJobRow(db: Db, id: number, query: unknown): Promise<Html | undefined> {
  const [job] = await db.select().from(jobs).where(and(eq(jobs.id, id), jobFilterSql(filterFromQuery(query))));
  return job && jobRow(job);
}

const LIST_ROWS = 200;

export async function jobsPage(db: Db, query: unknown): Promise<Html> {
  const f = filterFromQuery(query);
  const rows = await db.select().from(jobs).where(jobFilterSql(f)).orderBy(desc(jobs.id)).limit(LIST_ROWS);
  const counted = await db.select({ status: jobs.status, n: sql<number>`count(*)::int` }).from(jobs).groupBy(jobs.status);
  const count = (s: JobStatus) => counted.find((c) => c.status === s)?.n ?? 0;
  const filtered = Object.keys(f).length > 0;
  const matching = filtered ? (await db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(jobFilterSql(f)))[0]!.n : undefined;
  const q = filterQuery(f);
  return html`
<h1>Jobs</h1>
<ul class="counts" aria-label="jobs per status">
  ${JOB_STATUSES.map((s) => html`<li><a href="/?status=${s}" class="badge s-${s}">${s} <b data-count="${s}">${count(s)}</b></a></li>`)}
</ul>
${filterForm('/', f)}
${filtered ? html`<p class="bulk" data-matching="${matching}">${matching} job(s) match.
  <a class="button" href="/jobs/bulk?verb=retry&amp;${q}">Retry the failed ones…</a>
  <a class="button" href="/jobs/bulk?verb=cancel&amp;${q}">Cancel the unfinished ones…</a>
  (a preview first)</p>` : html`<p class="note">Filter the list to retry or cancel many jobs at once. <a href="/jobs/import">Import jobs from a CSV or JSON lines file</a> · <a href="/pauses">Pause a type or pool</a></p>`}
<table class="jobs" data-live-jobs data-filter="${q}">
  <thead><tr><th>id</th><th>type</th><th>status</th><th>progress</th><th>prompt</th><th>n</th><th>backend</th><th>account</th><th>created</th><th>message</th></tr></thead>
  <tbody>${rows.map(jobRow)}</tbody>
</table>
${rows.length ? '' : filtered ? html`<p class="empty">No job matches.</p>` : html`<p class="empty">No jobs yet: add one, or INSERT a row into <code>jobs</code>.</p>`}`;
}
