import type { AddOptions } from '../cli/jobInput';
import { CliError, ExitCode } from '../cli/context';
import { html, type Html } from './html';

/** The form's fields, as posted (urlencoded strings; a checkbox is present or not). */
export type AddForm = Partial<Record<'type' | 'prompts' | 'imageUrl' | 'count' | 'duration' | 'resolution' | 'mode' | 'account' | 'upscale' | 'deleteAfterDownload' | 'minSuccessful' | 'priority' | 'payload', string>>;

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * The form as the CLI's add options, so the same buildPayload validates it with the same
 * messages. One prompt per line, as `-p` given several times.
 */
export function formToOptions(f: AddForm): AddOptions & { priority?: string } {
  const prompts = (f.prompts ?? '').split(/\r?\n/).map((p) => p.trim()).filter(Boolean);
  const options = {
    type: blank(f.type) ?? 'video',
    prompt: prompts.length ? prompts : undefined,
    imageUrl: blank(f.imageUrl),
    count: blank(f.count),
    duration: blank(f.duration),
    resolution: blank(f.resolution),
    mode: blank(f.mode),
    account: blank(f.account),
    upscale: f.upscale ? true : undefined,
    deleteAfterDownload: f.deleteAfterDownload ? true : undefined,
    minSuccessful: blank(f.minSuccessful),
    priority: blank(f.priority),
    payload: blank(f.payload),
  };
  // A path on the server is the operator's to name (CLI), not a browser's: it would let a
  // page upload any file the service can read.
  if (options.payload && /"imagePath"\s*:/.test(options.payload)) {
    throw new CliError('payload.imagePath: not accepted from the web console (it names a file on the server); use the CLI', ExitCode.Usage);
  }
  return options;
}

const select = (name: string, values: string[], current: string | undefined) =>
  html`<select name="${name}"><option value="">default</option>${values.map((v) => html`<option ${current === v ? 'selected' : ''}>${v}</option>`)}</select>`;

export function addJobPage(csrf: string, f: AddForm = {}, error?: string): Html {
  return html`
<h1>Add a job</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/jobs" class="add">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Type <select name="type">${[['video', 'video'], ['image', 'image']].map(([v, l]) => html`<option value="${v}" ${f.type === v ? 'selected' : ''}>${l}</option>`)}</select></label>
  <label class="wide">Prompts (one per line: one video each) <textarea name="prompts" rows="3">${f.prompts ?? ''}</textarea></label>
  <label class="wide">Image URL (a Grok Imagine post to animate) <input name="imageUrl" value="${f.imageUrl ?? ''}"></label>
  <label>Count <input name="count" value="${f.count ?? ''}" size="4" inputmode="numeric"></label>
  <label>Duration ${select('duration', ['max', '6s', '10s'], f.duration)}</label>
  <label>Resolution ${select('resolution', ['480p', '720p'], f.resolution)}</label>
  <label>Mode ${select('mode', ['normal', 'fun', 'spicy', 'custom'], f.mode)}</label>
  <label>Account <input name="account" value="${f.account ?? ''}" size="12"></label>
  <label>Min successful <input name="minSuccessful" value="${f.minSuccessful ?? ''}" size="4" inputmode="numeric"></label>
  <label>Priority <input name="priority" value="${f.priority ?? ''}" size="4" inputmode="numeric"></label>
  <label class="check"><input type="checkbox" name="upscale" value="1" ${f.upscale ? 'checked' : ''}> upscale to HD</label>
  <label class="check"><input type="checkbox" name="deleteAfterDownload" value="1" ${f.deleteAfterDownload ? 'checked' : ''}> delete on Grok once downloaded</label>
  <details ${f.payload ? 'open' : ''}><summary>or the whole payload as JSON</summary>
    <textarea name="payload" rows="4" placeholder='{"prompt": "a cat surfing", "count": 2}'>${f.payload ?? ''}</textarea>
  </details>
  <p><button type="submit">Add the job</button></p>
</form>`;
}
