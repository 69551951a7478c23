import { z } from 'zod';
import { ACCOUNT_NAME_RULE, isAccountName } from './accountName';
import { BACKEND_NAMES } from '../backends/names';
import { apiVideoIssues, imageResolution, referenceImages, editOf, route, videoModel, videoResolution } from '../backends/api/payloadFields';
import { payloadRuleProblems, type PayloadRules } from './payloadRules';

const POST_URL = /\/imagine\/post\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/?$/i;

const prompt = z.string().trim().min(1, 'must not be empty').max(4000);
const account = z.string().refine(isAccountName, ACCOUNT_NAME_RULE);
// Pools follow the account-name rule: they appear in the same places (CLI, metrics labels).
const pool = z.string().refine(isAccountName, ACCOUNT_NAME_RULE);
/** How long the job may wait for cooldowns, from its INSERT; default JOB_DEADLINE_MS. */
const deadlineMinutes = z.int().min(1).max(30 * 24 * 60);

/** A job keeps to its named account, or runs on its pool's ready accounts: not both. */
function accountOrPool(p: { account?: string; pool?: string }, ctx: z.RefinementCtx): void {
  if (p.account && p.pool) ctx.addIssue({ code: 'custom', path: ['pool'], message: 'give account or pool, not both' });
}
/** Which backend generates the job (docs/backends.md "Browser or API"); unset: GROK_BACKEND. */
const backend = z.enum(BACKEND_NAMES);
/** Where the job's result is POSTed when it ends (docs/delivery.md "Delivery"). */
export const callbackUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

/** A payload's callbackUrl, read on its own so a job whose payload is otherwise bad still gets its callback. */
export function callbackUrlOf(payload: unknown): string | undefined {
  const parsed = callbackUrlSchema.safeParse((payload as { callbackUrl?: unknown } | null)?.callbackUrl);
  return parsed.success ? parsed.data : undefined;
}

export const videoPayloadSchema = z
  .strictObject({
    imageUrl: z.url().regex(POST_URL, 'must be a Grok Imagine post permalink (…/imagine/post/<uuid>)').optional(),
    imagePath: z.string().min(1).optional(),
    prompt: prompt.optional(),
    prompts: z.array(prompt).min(1).max(100).optional(),
    count: z.int().min(1).max(100).optional(),
    duration: z.enum(['max', '6s', '10s']).default('max'),
    // 1080p: grok-imagine-video-1.5 on the api backend only (src/backends/api/limits.ts).
    resolution: videoResolution.optional(),
    // Applied through the Video Options menu; a value the page does not offer fails the item.
    mode: z.enum(['normal', 'fun', 'spicy', 'custom']).optional(),
    aspectRatio: z.enum(['16:9', '9:16', '1:1', '2:3', '3:2']).optional(),
    // Target length in seconds: the finished video is extended ("Extend video") until it is
    // at least this long, each extension a step with its own file.
    extend: z.int().min(1).max(30).optional(),
    account: account.optional(),
    pool: pool.optional(),
    deadlineMinutes: deadlineMinutes.optional(),
    backend: backend.optional(),
    upscale: z.boolean().default(false),
    deleteAfterDownload: z.boolean().default(false),
    minSuccessful: z.int().min(0).max(100).optional(),
    callbackUrl: callbackUrlSchema.optional(),
    // The api backend's own fields (src/backends/api/payloadFields.ts).
    model: videoModel.optional(),
    route: route.optional(),
    referenceImages: referenceImages.optional(),
    editOf: editOf.optional(),
  })
  .superRefine((p, ctx) => {
    accountOrPool(p, ctx);
    apiVideoIssues(p, ctx);
    if (p.imageUrl && p.imagePath) {
      ctx.addIssue({ code: 'custom', path: ['imagePath'], message: 'give imageUrl or imagePath, not both' });
    }
    if (!p.imageUrl && !p.imagePath && !p.prompt && !p.prompts) {
      ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'required when there is no imageUrl or imagePath' });
    }
    if (p.prompts && p.count !== undefined && p.count !== p.prompts.length) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: `is ${p.count} but prompts has ${p.prompts.length}` });
    }
    const count = p.prompts?.length ?? p.count ?? 1;
    if (p.minSuccessful !== undefined && p.minSuccessful > count) {
      ctx.addIssue({ code: 'custom', path: ['minSuccessful'], message: `is ${p.minSuccessful}, more than the ${count} videos asked for` });
    }
  });

export const imagePayloadSchema = z.strictObject({
  prompt,
  count: z.int().min(1).max(100).default(1),
  account: account.optional(),
  pool: pool.optional(),
  deadlineMinutes: deadlineMinutes.optional(),
  backend: backend.optional(),
  minSuccessful: z.int().min(0).max(100).optional(),
  callbackUrl: callbackUrlSchema.optional(),
  // The api backend's own fields (src/backends/api/payloadFields.ts).
  resolution: imageResolution.optional(),
  route: route.optional(),
}).superRefine(accountOrPool);

export type VideoPayload = z.output<typeof videoPayloadSchema>;
export type ImagePayload = z.output<typeof imagePayloadSchema>;

/** One generation of a job: what becomes a job_items row. */
export interface ItemSpec {
  index: number;
  prompt: string;
}

export function videoItems(p: VideoPayload): ItemSpec[] {
  if (p.prompts) return p.prompts.map((prompt, index) => ({ index, prompt }));
  return Array.from({ length: p.count ?? 1 }, (_, index) => ({ index, prompt: p.prompt ?? '' }));
}

export function imageItems(p: ImagePayload): ItemSpec[] {
  return Array.from({ length: p.count }, (_, index) => ({ index, prompt: p.prompt }));
}

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

// Keys that name an object's prototype: refused by name wherever they appear, so no code
// that copies or merges a payload can be led to change Object.prototype.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function prototypeKeys(value: unknown, at: string, found: string[]): string[] {
  if (value === null || typeof value !== 'object') return found;
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) found.push(`${at}.${key}: not accepted (it names an object's prototype)`);
    else prototypeKeys((value as Record<string, unknown>)[key], `${at}.${key}`, found);
  }
  return found;
}

/**
 * Parses a payload or throws a PayloadError whose message names every bad field: its shape
 * by the job type's schema, then, given the deployment's rules, where it may point
 * (payloadRules.ts: imageUrl on the Grok driven, imagePath inside IMAGES_DIR).
 */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown, rules?: PayloadRules): z.output<S> {
  const prototype = prototypeKeys(payload, 'payload', []);
  if (prototype.length) throw new PayloadError(`invalid payload: ${prototype.join('; ')}`);
  const parsed = schema.safeParse(payload);
  if (parsed.success) {
    const problems = rules ? payloadRuleProblems(parsed.data, rules) : [];
    if (problems.length) throw new PayloadError(`invalid payload: ${problems.join('; ')}`);
    return parsed.data;
  }
  const problems = parsed.error.issues.map((i) => {
    const field = ['payload', ...i.path.map(String)].join('.');
    const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.map((k) => `payload.${k}`).join(', ')})` : '';
    return `${field}: ${i.message}${keys}`;
  });
  throw new PayloadError(`invalid payload: ${problems.join('; ')}`);
}
