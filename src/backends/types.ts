// What every backend (src/backends/<name>/) takes and gives back: one item of a job in, a
// typed outcome out. The slave's activities only know this file, so the workflow, retries,
// partial success, progress and job_items are one code path whichever backend generates.
// An outcome is data, never a thrown string; only an abort rejects (with the signal's reason).

import type { ItemSteps } from '../shared/itemSteps';
import type { ItemKind } from '../shared/registry';

export type { ItemKind };

/** The payload's video choices, as the job plan resolved them (src/slave/plan.ts). */
export interface VideoOptions {
  /** A Grok Imagine post permalink to animate; or imagePath (a local image); or neither. */
  postUrl?: string;
  imagePath?: string;
  duration: 'max' | '6s' | '10s';
  /** e.g. '720p'; default: the highest offered. */
  resolution?: string;
  /** e.g. '16:9'; default: the backend's. */
  aspectRatio?: string;
  /** 'normal' | 'fun' | 'spicy' | 'custom'; default: the backend's. */
  mode?: string;
  /** Extend the finished video until it is at least this many seconds long. */
  extendTo?: number;
  upscale: boolean;
  deleteAfterDownload: boolean;
  /** api: the video model (payload.model, else XAI_VIDEO_MODEL). */
  model?: string;
  /** api: reference-to-video, https URLs or files (absolute paths, resolved by the plan). */
  referenceImages?: string[];
  /** api: a video edit of this file (a finished item's file, or payload.editOf.file). */
  editFile?: string;
}

/** The api backend's image choices, as the plan resolved them. */
export interface ImageOptions {
  /** '1k' | '2k'; default: xAI's. */
  resolution?: string;
  /** Images the job asks for: xAI answers up to 10 per call, so items share calls (src/backends/api/imageCalls.ts). */
  count: number;
}

export interface ItemRequest {
  kind: ItemKind;
  jobId: number;
  itemIndex: number;
  account: string;
  prompt: string;
  /** Present for video items. */
  video?: VideoOptions;
  /** Image items of the api backend. */
  image?: ImageOptions;
  /** Target file, with the kind's extension; an HD twin goes next to it with an `_hd` suffix. */
  downloadPath: string;
  /**
   * Whose item this is (`<database identity>/<jobId>`): files already on disk are reused only
   * when they were written for the same owner.
   */
  owner: string;
}

export interface DownloadedFile {
  mediaUrl: string;
  filePath: string;
  sha256: string;
  bytes: number;
}

export interface ItemSuccess {
  kind: 'success';
  /** Every file of the item, in order; the last is the item's main file (HD when upscaled). */
  files: Array<DownloadedFile & { hd: boolean }>;
  /** The duration and resolution the backend reports as generated ('10s', '720p'). */
  duration?: string;
  resolution?: string;
  /** What the backend charged for the item, in USD ticks (10^10 per dollar), as an exact decimal string. */
  costUsdTicks?: string;
  /** Milliseconds per step of this try (src/shared/itemSteps.ts), kept on the item's row. */
  steps?: ItemSteps;
  /** What the account has left, as the service itself said during this try (Grok's quota_info). */
  quota?: ServiceQuota;
}

/** An account's allowance as the service reports it (not counted by grokflow). */
export interface ServiceQuota {
  left: number;
  total?: number;
  /** When the allowance comes back (ISO), when the service says. */
  resetsAt?: string;
}

/** Where a non-success left its screenshot, HTML and trace (browser backend). */
interface WithArtifacts {
  artifactsDir?: string;
  /** What the backend charged for the item so far, moderated or failed tries included (API backend). */
  costUsdTicks?: string;
  steps?: ItemSteps;
  quota?: ServiceQuota;
}

export type FailureOutcome =
  | ({ kind: 'moderated'; message: string } & WithArtifacts)
  | ({ kind: 'rateLimited'; cooldownMs: number; message: string } & WithArtifacts)
  /** renew: what a person must do, sign in again (browser, the default) or give a new API key. */
  | ({ kind: 'authRequired'; message: string; renew?: 'login' | 'apiKey' } & WithArtifacts)
  | ({ kind: 'failed'; reason: string; retryable: boolean } & WithArtifacts);

export type ItemOutcome = ItemSuccess | FailureOutcome;

export type ProgressFn = (current: number, total: number, message: string) => void;

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /**
   * A backend whose generation outlives its request (an API that is polled) saves its
   * request's id here before it waits, and finds it again when the activity is retried after
   * a crash: it resumes instead of submitting (and paying) again. Kept on the item's row.
   */
  resume?: { token: string | null; save(token: string): Promise<void> };
  /**
   * A record shared by the items of one job, kept on item `index`'s row and changed under its
   * row lock: `change` gets what is there and returns the new text (undefined: leave it).
   * Resolves with what the row holds afterwards. The api backend records there the image call
   * (up to 10 images) that serves several items, so they make one call, not one each.
   */
  shared?: { update(index: number, change: (current: string | null) => string | undefined): Promise<string | null> };
}

export interface Generator {
  generate(req: ItemRequest, opts?: RunOptions): Promise<ItemOutcome>;
  /**
   * Work that may start before the item's account slot is confirmed (the slave's account gate
   * and bookkeeping run meanwhile): the browser opens the item's post on the account its job's
   * slot is reserved on, with its options chosen and its prompt entered; nothing is
   * generated. A hint, never required: generate() adopts it when it matches its
   * request and does the work itself otherwise; what is not adopted is let go on its own.
   */
  prepare?(req: PrepareRequest): void;
  /** How many prepare() results wait for their generate() now. */
  preparing?(): number;
  close(): Promise<void>;
}

/** What prepare() is told: the account the item will most likely run on, its post and choices, and its prompt when known. */
export interface PrepareRequest {
  account: string;
  postUrl: string;
  video: VideoOptions;
  prompt?: string;
}
