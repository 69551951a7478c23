import { ago } from '../cli/format';
import type { JobPause } from '../shared/db/schema';
import { pausedLine } from '../shared/jobs/pauses';
import { JOB_TYPE_NAMES } from '../shared/registry';
import { html, type Html } from './html';

/** The banner every console page shows while something is paused (none otherwise). */
export function pauseBanner(pauses: JobPause[]): Html | undefined {
  const line = pausedLine(pauses);
  return line ? html`<div class="paused-banner" role="status"><b>${line}</b>: no new job of it starts; running ones finish. <a href="/pauses">resume…</a></div>` : undefined;
}

export function pausesPage(pauses: JobPause[], csrf: string, message?: string): Html {
  return html`
<h1>Pause a type or pool</h1>
<p class="note">A paused type or pool starts no new job (the master does not claim it); running jobs finish. Resuming claims its waiting jobs at once.</p>
${message ? html`<p class="done" role="status">${message}</p>` : ''}
<table class="pauses">
  <thead><tr><th>scope</th><th>name</th><th>since</th><th>by</th><th>reason</th><th></th></tr></thead>
  <tbody>${pauses.map((p) => html`<tr data-pause="${p.scope}:${p.name}"><td>${p.scope}</td><td>${p.name}</td><td title="${p.pausedAt.toISOString()}">${ago(p.pausedAt)}</td><td>${p.pausedBy ?? ''}</td><td>${p.reason ?? ''}</td>
    <td><form method="post" action="/pauses/resume" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="${p.scope}" value="${p.name}"><button type="submit">Resume</button></form></td></tr>`)}</tbody>
</table>
${pauses.length ? '' : html`<p class="empty">Nothing is paused.</p>`}
<h2>Pause</h2>
<form method="post" action="/pauses" class="pause-form">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Type <select name="type"><option value="">—</option>${JOB_TYPE_NAMES.map((t) => html`<option>${t}</option>`)}</select></label>
  <label>or pool <input name="pool" size="12"></label>
  <label>Reason <input name="reason" size="30" placeholder="shown beside the pause"></label>
  <button type="submit">Pause</button>
</form>`;
}
