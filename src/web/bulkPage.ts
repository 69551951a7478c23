import { formatUsd } from '../backends/api/cost';
import type { BulkPreview, BulkResult } from '../cli/bulkActions';
import { ago, truncate } from '../cli/format';
import { FILTER_FIELDS, filterFlags, filterQuery, type JobFilter } from '../cli/jobFilter';
import { html, type Html } from './html';

// The console's bulk retry/cancel: the preview (count, jobs, api jobs' estimated cost) with a
// confirm button that posts the same filter, then what was done.

const PREVIEW_ROWS = 100;

function filterFields(f: JobFilter): Html {
  return html`${FILTER_FIELDS.filter((k) => f[k]).map((k) => html`<input type="hidden" name="${k}" value="${f[k]}">`)}`;
}

export function bulkPreviewPage(p: BulkPreview, csrf: string): Html {
  const n = p.jobs.length;
  const verb = p.verb === 'retry' ? 'Retry' : 'Cancel';
  return html`
<h1>${verb} ${n} job(s)</h1>
<p class="filter-said">Filter: <code>${filterFlags(p.filter) || 'none'}</code> · <a href="/?${filterQuery(p.filter)}">back to the list</a></p>
<p class="preview-count" data-count="${n}"><b>${n}</b> job(s) to ${p.verb}${p.verb === 'retry' ? ' (ERROR jobs without a retry yet)' : ' (unfinished jobs whose cancellation was not asked for)'}${p.apiJobs ? html`; ${p.apiJobs} api job(s), estimated <b class="estimate">${formatUsd(p.estimateTicks)}</b>` : ''}.</p>
${n ? html`<form method="post" action="/jobs/bulk" class="confirm">
  <input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="verb" value="${p.verb}">${filterFields(p.filter)}
  <input type="hidden" name="expected" value="${n}">
  <button type="submit" class="${p.verb === 'cancel' ? 'danger' : ''}">${verb} these ${n} job(s)</button>
</form>
<table class="jobs preview">
  <thead><tr><th>id</th><th>type</th><th>status</th><th>prompt</th><th>n</th><th>backend</th><th>estimate</th><th>account</th><th>created</th></tr></thead>
  <tbody>${p.jobs.slice(0, PREVIEW_ROWS).map((c) => html`<tr data-job="${c.job.id}"><td><a href="/jobs/${c.job.id}">${c.job.id}</a></td><td>${c.job.type}</td><td><span class="badge s-${c.job.status}">${c.job.status}</span></td>
    <td class="prompt">${truncate(c.summary.prompt, 60)}</td><td>${c.summary.count}</td><td>${c.summary.backend}</td><td>${c.estimateTicks === undefined ? '' : formatUsd(c.estimateTicks)}</td><td>${c.job.account ?? ''}</td><td>${ago(c.job.createdAt)}</td></tr>`)}</tbody>
</table>
${n > PREVIEW_ROWS ? html`<p class="note">… and ${n - PREVIEW_ROWS} more.</p>` : ''}` : html`<p class="empty">Nothing to ${p.verb}: running it again changes nothing.</p>`}`;
}

export function bulkResultPage(r: BulkResult, filter: JobFilter): Html {
  const acted = r.outcomes.filter((o) => o.result !== 'skipped');
  const skipped = r.outcomes.filter((o) => o.result === 'skipped');
  return html`
<h1>${r.verb === 'retry' ? 'Retried' : 'Cancelled'}: ${acted.length} job(s)</h1>
<p class="bulk-result" data-acted="${acted.length}" data-skipped="${skipped.length}">${acted.length} acted on, ${skipped.length} skipped. Each job's events name this action: <code>${r.bulkId}</code>.</p>
<ul class="outcomes">${r.outcomes.map((o) => html`<li class="${o.result === 'skipped' ? 'warn' : ''}">${o.retryId ? html`<a href="/jobs/${o.jobId}">job ${o.jobId}</a> → <a href="/jobs/${o.retryId}">job ${o.retryId}</a>` : html`<a href="/jobs/${o.jobId}">job ${o.jobId}</a>: ${o.message}`}</li>`)}</ul>
<p><a href="/?${filterQuery(filter)}">back to the list</a></p>`;
}
