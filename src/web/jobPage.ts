import { formatUsd } from '../backends/api/cost';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { duration } from '../cli/format';
import { findJob } from '../cli/jobActions';
import type { Config } from '../shared/config';
import type { Db } from '../shared/db/client';
import { waitingReasons } from '../shared/jobs/waiting';
import { jobEvents, jobItems, type JobItem } from '../shared/db/schema';
import { isFinalStatus } from '../shared/jobs/statuses';
import { jobWorkflowId } from '../shared/registry';
import { DOWNLOADS_PREFIX, fileUrl, jobArtifacts, type FailureArtifacts, type FileRoots } from './files';
import { html, postButton, type Html } from './html';
import { ITEM_STEPS, overheadMs, readSteps, STEP_MEANING } from '../shared/itemSteps';
import { displayPayload } from '../shared/secrets';

export interface JobPageContext {
  db: Db;
  roots: FileRoots;
  /** The Temporal Web UI and namespace, for the workflow link; no UI, no link. */
  temporalUi?: { url: string; namespace: string };
  /** WORKFLOW_ID_PREFIX: the link of a job not yet claimed names the id its workflow will have. */
  workflowIdPrefix?: string;
  csrf: string;
  /** What a PENDING job's waiting line reads (account limits, saved sessions); absent: no line. */
  config?: Config;
  /** Hides secrets in what the page shows (src/shared/secrets.ts): the configuration's values, URL passwords, callbackUrl queries. */
  scrub?: (text: string) => string;
}

function size(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

const IMAGE = /\.(jpe?g|png|webp|gif)$/i;

function media(item: JobItem, url: string): Html {
  if (IMAGE.test(item.filePath ?? '')) return html`<img class="media" src="${url}" alt="image ${item.index}">`;
  // Muted: a browser lets a muted video start without a click.
  return html`<video class="media" src="${url}" controls muted playsinline preload="metadata"></video>`;
}

/**
 * Where the item's last try spent its time: one small bar per step, all on the scale of the
 * longest, so Grok's generation and the driver's own steps compare at a glance. <progress>,
 * not styled divs: the console's CSP allows no inline style.
 */
function stepBars(item: JobItem): Html | '' {
  const steps = readSteps(item.steps);
  const shown = ITEM_STEPS.filter((s) => steps[s] !== undefined);
  if (shown.length === 0) return '';
  const max = Math.max(1, ...shown.map((s) => steps[s]!));
  return html`<table class="steps" aria-label="steps of item ${item.index}">
    ${shown.map((s) => html`<tr data-step="${s}" title="${STEP_MEANING[s]}"><th>${s}</th><td><progress max="${max}" value="${steps[s]!}"></progress></td><td class="ms">${duration(steps[s]!)}</td></tr>`)}
    <tr data-step="overhead"><th>overhead</th><td></td><td class="ms">${duration(overheadMs(steps))}</td></tr>
  </table>`;
}

function itemCard(item: JobItem, roots: FileRoots, failures: FailureArtifacts[], scrub: (text: string) => string): Html {
  const url = fileUrl(roots.downloads, DOWNLOADS_PREFIX, item.filePath);
  return html`<article class="item" data-item="${item.index}">
  <h3>#${item.index} <span class="badge i-${item.status}">${item.status}</span>${item.hd ? html` <span class="badge hd">HD</span>` : ''}</h3>
  ${item.prompt ? html`<p class="prompt">${item.prompt}</p>` : ''}
  ${url ? media(item, url) : ''}
  <dl>
    <dt>attempts</dt><dd>${item.attempts}${item.moderationRetries ? ` (${item.moderationRetries} moderated)` : ''}</dd>
    ${item.filePath ? html`<dt>file</dt><dd>${url ? html`<a href="${url}">${path.basename(item.filePath)}</a>` : path.basename(item.filePath)} · ${size(item.bytes)}</dd>` : ''}
    ${item.sha256 ? html`<dt>sha256</dt><dd><code class="sha">${item.sha256}</code></dd>` : ''}
    ${item.costTicks === null ? '' : html`<dt>cost</dt><dd class="cost">${formatUsd(item.costTicks)}</dd>`}
  </dl>
  ${stepBars(item)}
  ${item.error ? html`<p class="error" role="alert">${scrub(item.error)}</p>` : ''}
  ${failures.map((f) => html`<figure class="failure">
    ${f.screenshot ? html`<a href="${f.screenshot}"><img src="${f.screenshot}" alt="failure screenshot of item ${item.index}"></a>` : ''}
    <figcaption>${f.folder}${f.html ? html` · <a href="${f.html}">page HTML</a>` : ''}${f.trace ? html` · <a href="${f.trace}">trace</a>` : ''}</figcaption>
  </figure>`)}
</article>`;
}

export async function jobPage(ctx: JobPageContext, idText: string): Promise<{ title: string; body: Html }> {
  const job = await findJob(ctx.db, idText);
  // A PENDING job says what it waits for, worked out now (src/shared/jobs/waiting.ts).
  const waiting = ctx.config ? (await waitingReasons(ctx.db, ctx.config, [job])).get(job.id) : undefined;
  const scrub = ctx.scrub ?? ((text: string) => text);
  const items = await ctx.db.select().from(jobItems).where(eq(jobItems.jobId, job.id)).orderBy(asc(jobItems.index));
  const events = await ctx.db.select().from(jobEvents).where(eq(jobEvents.jobId, job.id)).orderBy(asc(jobEvents.id));
  const failures = jobArtifacts(ctx.roots.artifacts, job.id);
  // Screenshots of a job whose items are gone (or never made) still belong on its page.
  const orphans = failures.filter((f) => !items.some((i) => i.index === f.item));
  const workflowId = job.workflowId ?? jobWorkflowId(job.type, job.id, ctx.workflowIdPrefix);
  const workflowUrl = ctx.temporalUi && `${ctx.temporalUi.url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ctx.temporalUi.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  const final = isFinalStatus(job.status);
  // What the backend charged (the API backend; the browser's runs on a subscription): exact ticks, shown in dollars.
  const jobCost = job.costTicks === null ? undefined : formatUsd(job.costTicks);
  return {
    title: `Job ${job.id}`,
    body: html`
<h1>Job ${job.id} <span class="badge s-${job.status}" data-status>${job.status}</span></h1>
<section class="summary" data-live-job="${job.id}" data-job-status="${job.status}" data-job-final="${final ? 'true' : 'false'}">
  <p class="progress"><progress max="100" value="${job.progress}"></progress> <span class="pct">${job.progress}%</span> <span class="message">${waiting ?? job.progressMessage ?? ''}</span></p>
  ${job.errorMessage ? html`<p class="error" role="alert">${scrub(job.errorMessage)}</p>` : ''}
  <dl>
    <dt>type</dt><dd>${job.type}</dd>
    <dt>account</dt><dd>${job.account ?? ''}</dd>
    <dt>priority</dt><dd>${job.priority}</dd>
    <dt>workflow</dt><dd>${workflowUrl ? html`<a href="${workflowUrl}" target="_blank" rel="noopener noreferrer">${workflowId}</a>` : workflowId}${job.runId ? html` <small>run ${job.runId}</small>` : ''}</dd>
    <dt>created</dt><dd>${job.createdAt.toISOString()}</dd>
    ${job.startedAt ? html`<dt>started</dt><dd>${job.startedAt.toISOString()}</dd>` : ''}
    ${job.completedAt ? html`<dt>ended</dt><dd>${job.completedAt.toISOString()}${job.durationMs !== null ? ` (${duration(job.durationMs)})` : ''}</dd>` : ''}
    ${job.retryOf ? html`<dt>retry of</dt><dd><a href="/jobs/${job.retryOf}">job ${job.retryOf}</a></dd>` : ''}
    ${jobCost ? html`<dt>cost</dt><dd class="cost">${jobCost}</dd>` : ''}
  </dl>
  <p class="actions">
    ${job.status === 'ERROR' ? postButton(`/jobs/${job.id}/retry`, 'Retry', ctx.csrf) : ''}
    ${final ? '' : postButton(`/jobs/${job.id}/cancel`, 'Cancel', ctx.csrf, 'danger')}
  </p>
</section>
<h2>Payload</h2>
<pre class="payload">${scrub(JSON.stringify(displayPayload(job.payload), null, 2))}</pre>
<h2>Items</h2>
<div class="items">${items.map((i) => itemCard(i, ctx.roots, failures.filter((f) => f.item === i.index), scrub))}</div>
${items.length ? '' : html`<p class="empty">No items yet: they are made when a slave starts the job.</p>`}
${orphans.length ? html`<h2>Failure artifacts</h2>${orphans.map((f) => html`<figure class="failure">${f.screenshot ? html`<img src="${f.screenshot}" alt="failure screenshot">` : ''}<figcaption>${f.folder}</figcaption></figure>`)}` : ''}
<h2>Events</h2>
<ol class="timeline">
  ${events.map((e) => html`<li><time>${e.at.toISOString()}</time> ${e.fromStatus ? html`<span class="badge s-${e.fromStatus}">${e.fromStatus}</span> → ` : ''}<span class="badge s-${e.toStatus}">${e.toStatus}</span>${e.detail ? html` <code>${scrub(JSON.stringify(e.detail))}</code>` : ''}</li>`)}
</ol>`,
  };
}
