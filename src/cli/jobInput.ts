import { imageFileProblem } from '../shared/imageFile';
import path from 'node:path';
import { PayloadError, parsePayload } from '../shared/payloads';
import type { PayloadRules } from '../shared/payloadRules';
import { isJobType, jobType, type JobTypeName } from '../shared/registry';
import { CliError, ExitCode } from './context';

export interface AddOptions {
  type: string;
  prompt?: string[];
  imageUrl?: string;
  imagePath?: string;
  count?: string;
  duration?: string;
  resolution?: string;
  mode?: string;
  aspectRatio?: string;
  extend?: string;
  account?: string;
  pool?: string;
  deadlineMinutes?: string;
  backend?: string;
  upscale?: boolean;
  deleteAfterDownload?: boolean;
  minSuccessful?: string;
  payload?: string;
}

const ALIASES: Record<string, JobTypeName> = { video: 'GROK_VIDEO_GENERATION', image: 'GROK_IMAGE_GENERATION' };

export function resolveType(type: string): JobTypeName {
  const name = ALIASES[type.toLowerCase()] ?? type.toUpperCase();
  if (!isJobType(name)) throw new CliError(`unknown job type "${type}": use video, image or a full type name`, ExitCode.Usage);
  return name;
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new CliError(`${flag} must be a whole number, got "${value}"`, ExitCode.Usage);
  return Number(value);
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Builds the payload from flags (or --payload JSON) and validates it with the job type's
 * schema and the deployment's rules (imageUrl on the Grok driven, imagePath in IMAGES_DIR).
 */
export function buildPayload(type: JobTypeName, o: AddOptions, rules: PayloadRules): Record<string, unknown> {
  let payload: Record<string, unknown>;
  if (o.payload !== undefined) {
    const flags = (['prompt', 'imageUrl', 'imagePath', 'count', 'duration', 'resolution', 'mode', 'aspectRatio', 'extend', 'account', 'pool', 'deadlineMinutes', 'backend', 'upscale', 'deleteAfterDownload', 'minSuccessful'] as const)
      .filter((k) => o[k] !== undefined);
    if (flags.length) throw new CliError(`--payload replaces the payload flags; drop ${flags.map(flagName).join(', ')} or put them in the JSON`, ExitCode.Usage);
    try {
      payload = JSON.parse(o.payload);
    } catch (err) {
      throw new CliError(`--payload is not valid JSON: ${(err as Error).message}`, ExitCode.Usage);
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new CliError('--payload must be a JSON object, e.g. \'{"prompt":"a cat"}\'', ExitCode.Usage);
    }
  } else {
    const prompts = o.prompt ?? [];
    payload = {
      ...(prompts.length === 1 ? { prompt: prompts[0] } : prompts.length > 1 ? { prompts } : {}),
      imageUrl: o.imageUrl,
      imagePath: o.imagePath,
      count: int(o.count, '--count'),
      duration: o.duration,
      resolution: o.resolution,
      mode: o.mode,
      aspectRatio: o.aspectRatio,
      extend: int(o.extend, '--extend'),
      account: o.account,
      pool: o.pool,
      deadlineMinutes: int(o.deadlineMinutes, '--deadline-minutes'),
      backend: o.backend,
      upscale: o.upscale,
      deleteAfterDownload: o.deleteAfterDownload,
      minSuccessful: int(o.minSuccessful, '--min-successful'),
    };
    payload = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  }
  // Stored absolute: the slave that reads it may run in another directory.
  if (typeof payload.imagePath === 'string' && payload.imagePath) payload.imagePath = path.resolve(payload.imagePath);
  try {
    parsePayload(jobType(type).payloadSchema, payload, rules);
  } catch (err) {
    if (err instanceof PayloadError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  const problem = typeof payload.imagePath === 'string' ? imageFileProblem(payload.imagePath, rules.imagesDir) : undefined;
  if (problem) {
    throw new CliError(`invalid payload: payload.imagePath: ${problem}`, ExitCode.Usage);
  }
  return payload;
}
