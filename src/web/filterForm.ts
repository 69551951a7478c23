import type { JobFilter } from '../cli/jobFilter';
import { JOB_STATUSES } from '../shared/db/schema';
import { JOB_TYPE_NAMES } from '../shared/registry';
import { html, type Html } from './html';

/** The filter form of the jobs list, the gallery and the dashboard: the fields of src/cli/jobFilter.ts. */
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
