import { apiPayloadProblems, browserPayloadProblems } from '../backends/api/payload';
import { apiOnlyFields, referenceImageFile, type Route } from '../backends/api/payloadFields';
import type { BackendName } from '../backends/names';
import type { ImageOptions, VideoOptions } from '../backends/types';
import type { Config } from '../shared/config';
import type { Job } from '../shared/db/schema';
import { imageFileProblem } from '../shared/imageFile';
import { PayloadError, parsePayload, type ImagePayload, type ItemSpec, type VideoPayload } from '../shared/payloads';
import { jobType, type ItemKind } from '../shared/registry';
import { payloadRules, type PayloadRulesConfig } from '../shared/payloadRules';
import { accountWant } from '../shared/jobs/account';
import { jobDeadlineAt } from './accounts/pool';

/**
 * How a job's items are generated, worked out once from its row by startJob and carried by
 * the workflow to every generateItem call, so the payload is read and checked in one place.
 * Ids, options and paths only: nothing secret (the workflow history keeps it).
 */
export interface ItemPlan {
  kind: ItemKind;
  backend: BackendName;
  /**
   * The account the job keeps to (payload.account; an api job's XAI_ACCOUNT; also
   * jobs.account). Absent: each item takes a ready account of `pool` when it starts
   * (src/slave/accounts/pool.ts). Plans recorded before pools always name one.
   */
  account?: string;
  /** The job's pool when it names no account (payload.pool, else `default`). */
  pool?: string;
  video?: VideoOptions;
  /** api image jobs: the resolution and how many images the job asks for (calls of up to 10). */
  image?: ImageOptions;
  /** api: `batch` sends the job's items to xAI's Batch API as one batch; absent: direct calls. */
  route?: Route;
  /** api editOf a finished item of another job: which one (the plan checks it at the start). */
  editOf?: { job: number; item: number };
}

/** What the workflow gets from startJob (prompts stay in job_items, out of the history). */
export interface JobPlan {
  itemIndexes: number[];
  concurrency: number;
  /** The job's account, or `pool:<name>` when its items choose: the Web UI's Account search attribute. */
  account: string;
  /**
   * Epoch ms after which items stop waiting for an account: the job's INSERT plus
   * payload.deadlineMinutes, else JOB_DEADLINE_MS. Absent in histories from before pools.
   */
  deadlineAt?: number;
  /**
   * What each generateItem needs. Optional because histories recorded before plans were
   * passed on hold a startJob result without it; their generateItem reads the plan itself.
   */
  item?: ItemPlan;
  /** One line for the Web UI's memo, e.g. `3 × video: "a cat surfing"`. */
  summary: string;
  /** SLAVE_HISTORY_EVENTS: past this many history events the workflow continues as new. Absent in older histories. */
  historyEvents?: number;
}

export interface ReadJob {
  plan: JobPlan;
  items: ItemSpec[];
  /** payload.minSuccessful, else every item. */
  minSuccessful: number;
}

export type PlanConfig = Pick<Config, 'ITEM_CONCURRENCY' | 'JOB_DEADLINE_MS' | 'GROK_BACKEND' | 'XAI_ACCOUNT'>
  & Partial<Pick<Config, 'SLAVE_HISTORY_EVENTS' | 'XAI_VIDEO_MODEL' | 'XAI_ROUTE'>> & PayloadRulesConfig;

/** Reads a job's row into its plan; a bad payload throws a PayloadError naming the field. */
export function readJob(job: Pick<Job, 'type' | 'payload' | 'createdAt'>, config: PlanConfig): ReadJob {
  const type = jobType(job.type);
  // The claim checked the same rules; a job claimed before them (or by an older master) is
  // checked again here, before any browser opens its imageUrl.
  const payload = parsePayload(type.payloadSchema, job.payload, payloadRules(config)) as Partial<VideoPayload> & Partial<ImagePayload>;
  const items = type.items(payload as never);
  const prompt = items[0]?.prompt ?? '';
  const backend = payload.backend ?? config.GROK_BACKEND;
  if (backend === 'api') {
    const problems = apiPayloadProblems(payload, { XAI_VIDEO_MODEL: videoModelOf(config) }, type.itemKind);
    if (problems.length > 0) throw new PayloadError(`invalid payload for the api backend: ${problems.join('; ')}`);
  } else {
    const problems = browserPayloadProblems(apiOnlyFields(payload));
    if (problems.length > 0) throw new PayloadError(`invalid payload: ${problems.join('; ')}`);
  }
  const api = backend === 'api';
  const want = accountWant(payload, config);
  const item: ItemPlan = {
    kind: type.itemKind,
    backend,
    ...want,
    video: type.itemKind === 'video' ? videoOptions(payload, api ? videoModelOf(config) : undefined, payloadRules(config).imagesDir) : undefined,
    ...(api && type.itemKind === 'image' ? { image: { count: items.length, ...(payload.resolution ? { resolution: payload.resolution } : {}) } } : {}),
    ...(api && (payload.route ?? config.XAI_ROUTE) === 'batch' && { route: 'batch' as const }),
    ...(api && payload.editOf && 'job' in payload.editOf && { editOf: { job: payload.editOf.job, item: payload.editOf.item } }),
  };
  const plan: JobPlan = {
    itemIndexes: items.map((i) => i.index),
    concurrency: config.ITEM_CONCURRENCY,
    account: 'account' in want ? want.account : `pool:${want.pool}`,
    deadlineAt: jobDeadlineAt(job.createdAt, payload, config),
    item,
    summary: `${items.length} × ${type.itemKind}: "${prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt}"`,
    ...(config.SLAVE_HISTORY_EVENTS ? { historyEvents: config.SLAVE_HISTORY_EVENTS } : {}),
  };
  return { plan, items, minSuccessful: payload.minSuccessful ?? items.length };
}

/** The plan's local files that are missing (checked when the job starts, before any browser opens). */
export function missingFiles(plan: JobPlan, config: PayloadRulesConfig): PayloadError | undefined {
  const v = plan.item?.video;
  const imagesDir = payloadRules(config).imagesDir;
  // Every local file a payload names is read by the slave: each must lie inside IMAGES_DIR.
  const files: Array<[string, string | undefined]> = [
    ['imagePath', v?.imagePath],
    // An edit of another job's item reads grokflow's own download (resolved by startJob), not a payload's path.
    ['editOf.file', plan.item?.editOf ? undefined : v?.editFile],
    ...(v?.referenceImages ?? []).filter((r) => !/^https:/i.test(r)).map((r, i): [string, string] => [`referenceImages.${i}`, r]),
  ];
  const problems = files.flatMap(([field, file]) => {
    const problem = file ? imageFileProblem(file, imagesDir) : undefined;
    return problem ? [`payload.${field}: ${problem}`] : [];
  });
  return problems.length > 0 ? new PayloadError(`invalid payload: ${problems.join('; ')}`) : undefined;
}

const videoModelOf = (config: PlanConfig) => config.XAI_VIDEO_MODEL ?? 'grok-imagine-video';

function videoOptions(p: Partial<VideoPayload>, apiModel: string | undefined, imagesDir: string): VideoOptions {
  return {
    ...(apiModel && { model: p.model ?? apiModel }),
    ...(p.referenceImages && { referenceImages: p.referenceImages.map((r) => (/^https:/i.test(r) ? r : referenceImageFile(r, imagesDir))) }),
    ...(p.editOf && 'file' in p.editOf && { editFile: p.editOf.file }),
    postUrl: p.imageUrl,
    imagePath: p.imagePath,
    duration: p.duration ?? 'max',
    resolution: p.resolution,
    aspectRatio: p.aspectRatio,
    mode: p.mode,
    extendTo: p.extend,
    upscale: p.upscale ?? false,
    deleteAfterDownload: p.deleteAfterDownload ?? false,
  };
}

/** Each kind's file extension; the file is `<DOWNLOADS_DIR>/<jobId>/<index>.<ext>`. */
export const FILE_EXTENSION: Record<ItemKind, string> = { video: 'mp4', image: 'jpg' };
