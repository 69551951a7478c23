import { videoChoiceProblems } from './limits';
import { type Route } from './payloadFields';

// What a job's payload may ask of the API backend. The browser's page-only options have no
// counterpart in xAI's API: a job asking for them is refused before anything is submitted,
// naming each field, rather than run without them. The model-bound limits are checked again
// here with XAI_VIDEO_MODEL for payloads that name no model.

export interface ApiPayloadView {
  imageUrl?: string;
  mode?: string;
  upscale?: boolean;
  deleteAfterDownload?: boolean;
  model?: string;
  resolution?: string;
  extend?: number;
  editOf?: unknown;
  route?: Route;
}

export function apiPayloadProblems(p: ApiPayloadView, settings: { XAI_VIDEO_MODEL: string }, kind: 'video' | 'image' = 'video'): string[] {
  const problems: string[] = [];
  if (p.imageUrl) problems.push('payload.imageUrl: a Grok Imagine post is a page of grok.com the API cannot read; give imagePath (sent as a data: URI)');
  if (p.mode) problems.push(`payload.mode: "${p.mode}" is a Grok web app mode; xAI's API has none`);
  if (p.upscale) problems.push('payload.upscale: the API has no upscale; ask resolution "720p"');
  if (p.deleteAfterDownload) problems.push('payload.deleteAfterDownload: API generations are not posts on an account; nothing to delete');
  if (kind === 'video') {
    const model = p.model ?? settings.XAI_VIDEO_MODEL;
    for (const x of videoChoiceProblems({ model, resolution: p.resolution, extend: p.extend, editOf: p.editOf })) {
      problems.push(`payload.${x.field}: ${x.message}${p.model ? '' : ` (XAI_VIDEO_MODEL)`}`);
    }
  }
  return problems;
}

/** Browser jobs must not carry the api's fields: they would be silently ignored. */
export function browserPayloadProblems(apiOnly: string[]): string[] {
  return apiOnly.map((f) => `payload.${f}: ${f === 'resolution' ? '1080p is the api backend\'s' : 'is a field of the api backend'}; this job runs on the browser (GROK_BACKEND)`);
}
