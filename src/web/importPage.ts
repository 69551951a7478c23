import { truncate } from '../cli/format';
import type { ImportResult } from '../cli/jobImport';
import { JOB_TYPE_NAMES } from '../shared/registry';
import { html, type Html } from './html';

// The console's import: choose a file (read by the browser into the form, /static/import.js),
// see a preview of the first rows and every error, then import. The CLI's rules throughout
// (src/cli/jobImport.ts).

export type ImportForm = Partial<Record<'content' | 'fileName' | 'type' | 'skipInvalid' | 'step', string>>;

const PREVIEW_ROWS = 10;

function fields(f: ImportForm, csrf: string, o: { content: 'textarea' | 'hidden' }): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="fileName" value="${f.fileName ?? ''}" data-import-name>
  ${o.content === 'hidden' ? html`<input type="hidden" name="content" value="${f.content ?? ''}">` : html`<label class="wide">Rows (the file's text; or paste CSV / JSON lines here)<textarea name="content" rows="10" cols="90" data-import-content required>${f.content ?? ''}</textarea></label>`}
  <label>Type of rows without a <code>type</code> column <select name="type">${JOB_TYPE_NAMES.map((t) => html`<option ${f.type === t ? 'selected' : ''}>${t}</option>`)}</select></label>
  <label><input type="checkbox" name="skipInvalid" value="1" ${f.skipInvalid ? 'checked' : ''}> skip invalid rows (default: one invalid row refuses the file)</label>`;
}

export function importPage(csrf: string, f: ImportForm = {}, error?: string): Html {
  return html`
<h1>Import jobs</h1>
<p class="note">One job a row. CSV: a header of payload fields (<code>prompt</code>, <code>count</code>, <code>duration</code>, <code>pool</code>, …; <code>prompts</code> split on <code>|</code>), optional <code>type</code>, <code>priority</code> and <code>key</code> (a key already imported is skipped). JSON lines: one payload object a line.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/jobs/import" class="import">
  <label>File (.csv or .jsonl) <input type="file" accept=".csv,.jsonl,.ndjson,text/csv" data-import-file></label>
  ${fields(f, csrf, { content: 'textarea' })}
  <button type="submit" name="step" value="preview">Preview</button>
</form>
<script src="/static/import.js" defer></script>`;
}

export function importPreviewPage(r: ImportResult, f: ImportForm, csrf: string): Html {
  const refused = r.invalid.length > 0 && !f.skipInvalid;
  return html`
<h1>Import preview: ${f.fileName || 'pasted rows'}</h1>
<p class="import-summary" data-valid="${r.valid.length}" data-invalid="${r.invalid.length}" data-already="${r.already.length}">${r.rows} row(s): <b>${r.valid.length}</b> to add, <b>${r.invalid.length}</b> invalid, ${r.already.length} imported before (by key).</p>
${r.invalid.length ? html`<h2>Errors</h2><ul class="import-errors">${r.invalid.map((i) => html`<li data-line="${i.line}">line ${i.line}: ${i.message}</li>`)}</ul>` : ''}
${r.already.length ? html`<ul class="import-already">${r.already.map((a) => html`<li>line ${a.line}: key "${a.key}" imported already as <a href="/jobs/${a.jobId}">job ${a.jobId}</a></li>`)}</ul>` : ''}
${r.valid.length ? html`<h2>First rows</h2><table class="jobs import-rows"><thead><tr><th>line</th><th>key</th><th>type</th><th>payload</th></tr></thead>
  <tbody>${r.valid.slice(0, PREVIEW_ROWS).map((v) => html`<tr><td>${v.line}</td><td>${v.key ?? ''}</td><td>${v.type}</td><td><code>${truncate(JSON.stringify(v.payload), 140)}</code></td></tr>`)}</tbody></table>
  ${r.valid.length > PREVIEW_ROWS ? html`<p class="note">… and ${r.valid.length - PREVIEW_ROWS} more.</p>` : ''}` : ''}
${refused ? html`<p class="error" role="alert">An invalid row refuses the whole file: fix it, or tick "skip invalid rows" below to add the ${r.valid.length} others.</p>` : ''}
<form method="post" action="/jobs/import" class="import-confirm">
  ${fields(f, csrf, { content: 'hidden' })}
  <button type="submit" name="step" value="import" ${r.valid.length ? '' : 'disabled'}>Import ${r.valid.length} job(s)</button>
</form>
<p><a href="/jobs/import">start over</a></p>`;
}

export function importDonePage(r: ImportResult): Html {
  return html`
<h1>Imported ${r.added.length} job(s)</h1>
<p class="import-done" data-added="${r.added.length}">${r.added.length} job(s) added${r.invalid.length ? html`, ${r.invalid.length} invalid row(s) left out` : ''}${r.already.length ? html`, ${r.already.length} imported before` : ''}.</p>
${r.invalid.length ? html`<ul class="import-errors">${r.invalid.map((i) => html`<li>line ${i.line}: ${i.message}</li>`)}</ul>` : ''}
${r.added.length ? html`<p><a href="/?status=PENDING">see them in the list</a> (jobs ${r.added[0]}–${r.added[r.added.length - 1]})</p>` : ''}`;
}
