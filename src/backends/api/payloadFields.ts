import path from 'node:path';
import { z } from 'zod';
import { IMAGE_RESOLUTIONS, MAX_CHAIN_SECONDS, MAX_REFERENCE_IMAGES, VIDEO_MODEL_NAMES, VIDEO_RESOLUTIONS, videoChoiceProblems } from './limits';

// The payload fields only the api backend reads, and the checks the payload schema can make
// without the settings (src/shared/payloads.ts calls them; the plan repeats the model-bound ones
// with XAI_VIDEO_MODEL, src/backends/api/payload.ts).

export const videoModel = z.enum(VIDEO_MODEL_NAMES);
export const videoResolution = z.enum(VIDEO_RESOLUTIONS);
export const imageResolution = z.enum(IMAGE_RESOLUTIONS);
/** `batch`: the job's items go to xAI's Batch API as one batch (docs/backends.md "Browser or API"); unset: XAI_ROUTE. */
export const ROUTES = ['direct', 'batch'] as const;
export const route = z.enum(ROUTES);
export type Route = (typeof ROUTES)[number];

/** How messages name the folder reference files are read from: the IMAGES_DIR setting. */
export const REFERENCE_IMAGES_FOLDER = 'IMAGES_DIR';

/** What is wrong with one reference image (an https URL, or a relative path inside REFERENCE_IMAGES_FOLDER), or undefined. */
export function referenceImageProblem(ref: string): string | undefined {
  if (/^https:\/\//i.test(ref)) return z.url().safeParse(ref).success ? undefined : `"${ref}" is not a valid URL`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return `"${ref}": only https URLs or files under ${REFERENCE_IMAGES_FOLDER}/`;
  const normal = path.posix.normalize(ref.replaceAll('\\', '/'));
  if (path.isAbsolute(ref) || normal.startsWith('../') || normal === '..') return `"${ref}" is outside the images folder (${REFERENCE_IMAGES_FOLDER}/): give a path inside it or an https URL`;
  return undefined;
}

/** The file a reference path names: relative to IMAGES_DIR, never outside it (referenceImageProblem). */
export function referenceImageFile(ref: string, imagesDir: string): string {
  return path.resolve(imagesDir, ref);
}

export const referenceImages = z
  .array(z.string().min(1).superRefine((ref, ctx) => {
    const problem = referenceImageProblem(ref);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }))
  .min(1)
  .max(MAX_REFERENCE_IMAGES, `at most ${MAX_REFERENCE_IMAGES} reference images (xAI's limit)`);

/** The video an edit starts from: a finished item of another job, or a file. */
export const editOf = z.union([
  z.strictObject({ job: z.int().positive(), item: z.int().min(0).default(0) }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type EditOf = z.output<typeof editOf>;

interface VideoFields {
  backend?: string;
  model?: string;
  route?: string;
  resolution?: string;
  extend?: number;
  imagePath?: string;
  imageUrl?: string;
  prompt?: string;
  prompts?: string[];
  referenceImages?: string[];
  editOf?: unknown;
}

/** The fields that only the api backend reads, present in this payload. */
export function apiOnlyFields(p: VideoFields): string[] {
  const fields: string[] = (['model', 'route', 'referenceImages', 'editOf'] as const).filter((f) => p[f] !== undefined);
  return p.resolution === '1080p' ? [...fields, 'resolution'] : fields;
}

/** The payload schema's checks of the api fields (those that need no setting). */
export function apiVideoIssues(p: VideoFields, ctx: z.RefinementCtx): void {
  const only = apiOnlyFields(p);
  if (p.backend === 'browser') {
    for (const f of only) ctx.addIssue({ code: 'custom', path: [f], message: f === 'resolution' ? '1080p is the api backend\'s (grok-imagine-video-1.5); the browser offers 480p and 720p' : 'is a field of the api backend; this job runs on the browser' });
    return;
  }
  const api = p.backend === 'api' || only.length > 0;
  if (api && p.extend !== undefined && p.extend > MAX_CHAIN_SECONDS && !p.model) {
    ctx.addIssue({ code: 'custom', path: ['extend'], message: `${p.extend} s is longer than the API makes: at most ${MAX_CHAIN_SECONDS} s (a 15 s generation and one 10 s extension)` });
  }
  if (p.model) for (const x of videoChoiceProblems({ model: p.model, resolution: p.resolution, extend: p.extend, editOf: p.editOf })) ctx.addIssue({ code: 'custom', path: [x.field], message: x.message });
  if (p.referenceImages && (p.imagePath || p.imageUrl)) ctx.addIssue({ code: 'custom', path: ['referenceImages'], message: 'give referenceImages or an image to animate, not both' });
  if (p.editOf !== undefined) {
    if (p.imagePath || p.imageUrl || p.referenceImages) ctx.addIssue({ code: 'custom', path: ['editOf'], message: 'an edit starts from its video: no image or reference images with it' });
    if (!p.prompt && !p.prompts) ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'required with editOf: it says what to change' });
  }
  if (p.route === 'batch' && (p.extend !== undefined || p.editOf !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['route'], message: 'a batch holds generations only: extensions and edits are direct calls' });
  }
}
