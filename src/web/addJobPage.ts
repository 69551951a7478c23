import type { AddOptions } from '../cli/jobInput';
import { CliError, ExitCode } from '../cli/context';
import { BACKEND_NAMES } from '../backends/names';
import { html, type Html } from './html';

/** The form's fields, as posted (strings; a checkbox is present or not); the image comes apart (upload.ts). */
export type AddForm = Partial<Record<
  'type' | 'prompts' | 'imageUrl' | 'count' | 'duration' | 'resolution' | 'mode' | 'aspectRatio' | 'extend' | 'backend' | 'pool'
  | 'account' | 'upscale' | 'deleteAfterDownload' | 'minSuccessful' | 'priority' | 'payload', string>>;

const FIELDS: ReadonlyArray<keyof AddForm> = [
  'type', 'prompts', 'imageUrl', 'count', 'duration', 'resolution', 'mode', 'aspectRatio', 'extend', 'backend', 'pool',
  'account', 'upscale', 'deleteAfterDownload', 'minSuccessful', 'priority', 'payload',
];

/** The posted body as the form's fields: text values only, anything else dropped. */
export function addForm(body: unknown): AddForm {
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(FIELDS.filter((k) => typeof b[k] === 'string').map((k) => [k, b[k]])) as AddForm;
}

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * The form as the CLI's add options, so the same buildPayload validates it with the same
 * schema, rules and messages. One prompt per line, as `-p` given several times. `image` is
 * where an uploaded image was stored (IMAGES_DIR/uploads): the only imagePath the console
 * ever sets.
 */
export function formToOptions(f: AddForm, image?: string): AddOptions & { priority?: string } {
  const prompts = (f.prompts ?? '').split(/\r?\n/).map((p) => p.trim()).filter(Boolean);
  const options: AddOptions & { priority?: string } = {
    type: blank(f.type) ?? 'video',
    prompt: prompts.length ? prompts : undefined,
    imageUrl: blank(f.imageUrl),
    count: blank(f.count),
    duration: blank(f.duration),
    resolution: blank(f.resolution),
    mode: blank(f.mode),
    aspectRatio: blank(f.aspectRatio),
    extend: blank(f.extend),
    backend: blank(f.backend),
    pool: blank(f.pool),
    account: blank(f.account),
    upscale: f.upscale ? true : undefined,
    deleteAfterDownload: f.deleteAfterDownload ? true : undefined,
    minSuccessful: blank(f.minSuccessful),
    priority: blank(f.priority),
    payload: blank(f.payload),
  };
  if (options.payload !== undefined) {
    // Decided on the parsed JSON, as the schema will read it: `"\u0069magePath"` is imagePath.
    const parsed = parseObject(options.payload);
    if (parsed && Object.hasOwn(parsed, 'imagePath')) {
      throw new CliError('payload.imagePath: not accepted from the web console (it names a file on the server); upload the image instead', ExitCode.Usage);
    }
    // The upload joins the JSON (flags and --payload do not mix); a bad JSON is left to buildPayload's message.
    if (parsed && image !== undefined) options.payload = JSON.stringify({ ...parsed, imagePath: image });
  } else if (image !== undefined) {
    options.imagePath = image;
  }
  return options;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const select = (name: string, values: readonly string[], current: string | undefined) =>
  html`<select name="${name}"><option value="">default</option>${values.map((v) => html`<option ${current === v ? 'selected' : ''}>${v}</option>`)}</select>`;

export interface AddPageOptions {
  /** WEB_UPLOAD_MAX_MB, shown by the image field. */
  uploadMaxMb: number;
}

export function addJobPage(csrf: string, o: AddPageOptions, f: AddForm = {}, error?: string): Html {
  return html`
<h1>Add a job</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/jobs" class="add" enctype="multipart/form-data">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Type <select name="type">${[['video', 'video'], ['image', 'image']].map(([v, l]) => html`<option value="${v}" ${f.type === v ? 'selected' : ''}>${l}</option>`)}</select></label>
  <label>Backend ${select('backend', BACKEND_NAMES, f.backend)}</label>
  <label class="wide">Prompts (one per line: one video each) <textarea name="prompts" rows="3">${f.prompts ?? ''}</textarea></label>
  <label class="wide">Image URL (a Grok Imagine post to animate) <input name="imageUrl" value="${f.imageUrl ?? ''}"></label>
  <label class="wide">or an image to animate (PNG, JPEG, WebP or GIF, up to ${o.uploadMaxMb} MB) <input type="file" name="image" accept="image/png,image/jpeg,image/webp,image/gif"></label>
  <label>Count <input name="count" value="${f.count ?? ''}" size="4" inputmode="numeric"></label>
  <label>Duration ${select('duration', ['max', '6s', '10s'], f.duration)}</label>
  <label>Resolution ${select('resolution', ['480p', '720p'], f.resolution)}</label>
  <label>Aspect ratio ${select('aspectRatio', ['16:9', '9:16', '1:1', '2:3', '3:2'], f.aspectRatio)}</label>
  <label>Extend to (s) <input name="extend" value="${f.extend ?? ''}" size="4" inputmode="numeric"></label>
  <label>Mode ${select('mode', ['normal', 'fun', 'spicy', 'custom'], f.mode)}</label>
  <label>Account <input name="account" value="${f.account ?? ''}" size="12"></label>
  <label>Pool <input name="pool" value="${f.pool ?? ''}" size="12"></label>
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
