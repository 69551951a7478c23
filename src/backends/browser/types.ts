// The Grok driver's own requests and successes; the outcomes every backend shares are in
// ../types.ts. An outcome is data, never a thrown string; only an abort rejects.
import type { ItemSteps } from '../../shared/itemSteps';
import type { DownloadedFile, FailureOutcome, ServiceQuota } from '../types';

export type { DownloadedFile, FailureOutcome, ProgressFn, RunOptions } from '../types';

export type Duration = 'max' | '6s' | '10s';

export interface VideoRequest {
  jobId: string;
  itemIndex: number;
  account: string;
  /** A Grok Imagine post permalink; or imagePath (upload); or neither: text → image → video. */
  postUrl?: string;
  imagePath?: string;
  prompt: string;
  duration?: Duration;
  /** e.g. '720p'; default: the highest the UI offers. */
  resolution?: string;
  /** e.g. '16:9'; default: the page's. */
  aspectRatio?: string;
  /** 'normal' | 'fun' | 'spicy' | 'custom'; default: the page's. */
  mode?: string;
  /** Extend the finished video ("Extend video") until it is at least this many seconds long. */
  extendTo?: number;
  upscale?: boolean;
  deleteAfterDownload?: boolean;
  /** Target file; the HD file goes next to it with an `_hd` suffix. */
  downloadPath: string;
  /**
   * Whose item this is (`<database identity>/<jobId>`), written in the download's sidecar:
   * files already on disk are reused only when their sidecar names the same owner.
   */
  owner?: string;
}

export interface ImageRequest {
  jobId: string;
  itemIndex: number;
  account: string;
  prompt: string;
  /** Images to download (default 1). */
  count?: number;
  /** Target file; with count > 1, `-2`, `-3`… are appended before the extension. */
  downloadPath: string;
}

export interface VideoSuccess extends DownloadedFile {
  kind: 'success';
  videoId: string;
  postUrl: string;
  /** True when the file described (filePath, sha256…) is the upscaled HD one. */
  hd: boolean;
  /** Every file downloaded for this item (SD, then HD when upscaled). */
  files: DownloadedFile[];
  /** deleteAfterDownload: whether the video is gone from Grok. */
  deleted: boolean;
  /** The file was already there from an earlier attempt: nothing generated or downloaded. */
  reused: boolean;
  /** The duration and resolution the page showed as chosen ('10s', '720p'), when it has the choice. */
  duration?: string;
  resolution?: string;
  /** Length in seconds of the final video after extensions (duration × (1 + extensions)). */
  lengthS?: number;
  /** Milliseconds per step (src/shared/itemSteps.ts). */
  steps?: ItemSteps;
  /** What Grok's quota_info said was left on the account. */
  quota?: ServiceQuota;
}

export type GenerationOutcome = VideoSuccess | FailureOutcome;

export interface ImageSuccess {
  kind: 'success';
  images: Array<DownloadedFile & { postUrl: string }>;
  steps?: ItemSteps;
  quota?: ServiceQuota;
}

export type ImageOutcome = ImageSuccess | FailureOutcome;

/** Thrown inside the driver to end a run with an outcome; never escapes it. */
export class OutcomeError extends Error {
  constructor(readonly outcome: FailureOutcome) {
    super(outcome.kind === 'failed' ? outcome.reason : `${outcome.kind}: ${outcome.message}`);
    this.name = 'OutcomeError';
  }
}

export function failed(reason: string, retryable: boolean): OutcomeError {
  return new OutcomeError({ kind: 'failed', reason, retryable });
}
