// What xAI's Imagine API accepts, as its documentation states it (late 2026). The payload
// schema, the plan, the client and the simulator's stand-in all read these: one place per limit.

/** The video models grokflow knows, and what each does. */
// docs.x.ai/developers/model-capabilities/video/generation (models, resolutions);
// docs.x.ai/developers/model-capabilities/video/extension ("only grok-imagine-video" extends).
export const VIDEO_MODELS = {
  'grok-imagine-video': { resolutions: ['480p', '720p'], extends: true },
  'grok-imagine-video-1.5': { resolutions: ['480p', '720p', '1080p'], extends: false },
} as const;
export type VideoModel = keyof typeof VIDEO_MODELS;
export const VIDEO_MODEL_NAMES = Object.keys(VIDEO_MODELS) as [VideoModel, ...VideoModel[]];
export const VIDEO_RESOLUTIONS = ['480p', '720p', '1080p'] as const;
export type VideoResolution = (typeof VIDEO_RESOLUTIONS)[number];

export const isVideoModel = (m: string): m is VideoModel => Object.hasOwn(VIDEO_MODELS, m);

/** Seconds of one generation. docs.x.ai/developers/model-capabilities/video/generation (duration 1–15). */
export const GENERATION_SECONDS = { min: 1, max: 15 } as const;

/** The video an extension starts from. docs.x.ai/developers/model-capabilities/video/extension ("between 2 and 15 seconds"). */
export const EXTENSION_SOURCE_SECONDS = { min: 2, max: 15 } as const;

/** Seconds one extension adds. docs.x.ai/developers/model-capabilities/video/extension ("2–10 seconds (default: 6)"). */
export const EXTENSION_SECONDS = { min: 2, max: 10, default: 6 } as const;

/** An extension's output: the source's resolution, capped here. docs.x.ai/developers/model-capabilities/video/extension. */
export const EXTENSION_MAX_RESOLUTION = '720p';

/**
 * The longest video the API makes: a source of at most 15 s plus one extension of at most
 * 10 s. The result (over 15 s) can no longer be a source, so there is no second extension.
 */
export const MAX_CHAIN_SECONDS = EXTENSION_SOURCE_SECONDS.max + EXTENSION_SECONDS.max;

/** Reference images of one reference-to-video request. docs.x.ai/developers/model-capabilities/video/reference-to-video (up to 7). */
export const MAX_REFERENCE_IMAGES = 7;

/** The input of a video edit, in seconds. docs.x.ai/developers/model-capabilities/video/editing (at most 8.7 s). */
export const MAX_EDIT_INPUT_SECONDS = 8.7;

/** Images one POST /images/generations returns. docs.x.ai/developers/model-capabilities/images/generation (`n`: 1–10). */
export const MAX_IMAGES_PER_CALL = 10;

/** Image resolutions offered. docs.x.ai/developers/model-capabilities/images/generation (`resolution`: 1k, 2k). */
export const IMAGE_RESOLUTIONS = ['1k', '2k'] as const;
export type ImageResolution = (typeof IMAGE_RESOLUTIONS)[number];

/** How long a batch result's file URL lives. docs.x.ai/developers/release-notes (March 2026: "expire after 1 hour"). */
export const BATCH_RESULT_URL_TTL_MS = 3_600_000;

/** Why a video of these choices cannot be made by the API, or undefined. Read by the payload schema and the plan. */
export function videoChoiceProblems(v: { model: string; resolution?: string; extend?: number; editOf?: unknown; referenceImages?: unknown[] }): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  if (!isVideoModel(v.model)) {
    out.push({ field: 'model', message: `"${v.model}" is not a video model grokflow knows (${VIDEO_MODEL_NAMES.join(', ')})` });
    return out;
  }
  const spec = VIDEO_MODELS[v.model];
  if (v.resolution && !(spec.resolutions as readonly string[]).includes(v.resolution)) {
    out.push({ field: 'resolution', message: `${v.resolution} is not offered by ${v.model} (${spec.resolutions.join(', ')})` });
  }
  if (v.extend !== undefined) {
    if (!spec.extends) out.push({ field: 'extend', message: `${v.model} does not extend videos; only grok-imagine-video does (the API's extensions)` });
    else if (v.extend > MAX_CHAIN_SECONDS) {
      out.push({ field: 'extend', message: `${v.extend} s is longer than the API makes: at most ${MAX_CHAIN_SECONDS} s (a ${EXTENSION_SOURCE_SECONDS.max} s generation and one ${EXTENSION_SECONDS.max} s extension)` });
    }
    if (v.editOf !== undefined) out.push({ field: 'extend', message: 'an edit is not extended: give extend or editOf, not both' });
  }
  return out;
}
