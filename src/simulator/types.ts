import type { UiVariant } from './variants';
import type { Scenario } from './scenarios';
import type { XaiStandIn, XaiStandInOptions } from './xai/standIn';

// The simulator's public shapes; server.ts re-exports them, so importers keep using that path.

export interface SimulatorUser {
  name: string;
  password: string;
}

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Time of one generation (video or image); default 3000 ms. */
  generationMs?: number;
  /** How long an account stays rate limited; default 15 min. */
  cooldownMs?: number;
  /** Generations per account before it is rate limited (then it cools down); default unlimited. */
  rateLimitAfter?: number;
  /**
   * Generations each account may start per day (UTC), counted by the simulator and answered by
   * GET /rest/media/imagine/quota_info; past it a start is refused with "Rate limit reached".
   * Default 1000.
   */
  dailyQuota?: number;
  /** Whether the rate-limit message says how long to wait (default true). */
  announceCooldown?: boolean;
  /** How the pages look and talk to the server (variants.ts); default 'classic'. */
  uiVariant?: UiVariant;
  /**
   * The page shows neither the percentage nor the new video (tests: only the generation's
   * network traffic tells what happens, as on a Grok whose DOM the driver cannot read).
   */
  quietDom?: boolean;
  /** Markers applied to every prompt of this run, e.g. '#sim:ab'. */
  scenario?: string;
  /** Show the A/B choice on every successful video generation. */
  abTest?: boolean;
  /** Where a stuck generation stops, in percent (default 87). */
  stuckAt?: number;
  /** Session lifetime (default 30 days). */
  sessionTtlMs?: number;
  /** Images per text→image generation (default 4). */
  imagesPerGeneration?: number;
  /** Time an upscale takes (default generationMs / 2). */
  upscaleMs?: number;
  users?: SimulatorUser[];
  /** The xAI API stand-in (src/simulator/xai/); its generationMs defaults to this simulator's. */
  xai?: XaiStandInOptions;
}

/** The simulator's answer to GET /rest/media/imagine/quota_info (Grok's field names). */
export interface QuotaInfo {
  remainingQueries: number;
  totalQueries: number;
  /** Seconds until the count starts over (the simulator's day ends at midnight UTC). */
  windowSizeSeconds: number;
}

export interface GenerationRecord {
  id: string;
  kind: 'video' | 'image';
  user: string;
  postId?: string;
  /** The prompt as typed, markers included. */
  rawPrompt: string;
  /** The prompt with the markers stripped: what was "generated". */
  prompt: string;
  duration?: string;
  resolution?: string;
  aspectRatio?: string;
  mode?: string;
  /** An "Extend video" generation: the video it extends. */
  extendVideoId?: string;
  scenario: Scenario;
  startedAt: number;
  durationMs: number;
  outcome: 'running' | 'done' | 'choose' | 'moderated' | 'error' | 'dropped' | 'stuck';
  /** The id the video will have, announced from the first line of the conversation stream. */
  plannedVideoId: string;
  /** The side-by-side candidate's id (stream variant, #sim:ab or #sim:softblock). */
  plannedVideoId2: string;
  /** The post the video gets (Grok's videoPostId), announced with the first progress line. */
  videoPostId: string;
  videoIds: string[];
  imageIds: string[];
}

export interface PostVisit {
  host: string;
  path: string;
  at: number;
}

export interface SessionLogLine {
  user: string;
  generationId: string;
  at: number;
  /** Generations of `user` running at `at`, this one included. */
  running: number;
}

export interface VideoRecord {
  videoId: string;
  userId: string;
  user: string;
  postId: string;
  generationId: string;
  /** Simulated length (the served file is always the same short clip). */
  seconds?: number;
  hd: boolean;
  upscaleStartedAt?: number;
  deleted: boolean;
  /** How many times its SD file was downloaded whole (not played): a test's "downloaded once" check. */
  downloads?: number;
}

export interface StorageStateCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
}

export interface Simulator {
  url: string;
  port: number;
  /** Where media files are served: the assets host (`stream` variant) or `url`. */
  assetsUrl: string;
  options: Readonly<Required<Pick<SimulatorOptions, 'generationMs' | 'cooldownMs' | 'stuckAt'>>> & SimulatorOptions;
  close(): Promise<void>;
  addUser(name: string, password: string): void;
  /** A fresh session for a user: the cookie a browser would hold after signing in. */
  createSession(user: string): StorageStateCookie;
  /** A Playwright storage state (cookies only) logged in as `user`. */
  storageState(user: string): { cookies: StorageStateCookie[]; origins: [] };
  /** Ends every session of a user (the next page shows the login wall). */
  expireSessions(user: string): void;
  /** Creates an image post owned by `user`; returns its permalink. */
  createPost(user: string): { postId: string; url: string };
  generations: readonly GenerationRecord[];
  /**
   * One line per generation start: how many generations of that account were running at that
   * moment, itself included (a generation runs from its start for its duration, whether or
   * not anyone watches it). Tests read the peak per account: the simulator's own account of
   * concurrent sessions, not the client's.
   */
  sessionLog: readonly SessionLogLine[];
  /** Sets what an account has left of its daily quota today (quota_info answers it). */
  setQuotaLeft(user: string, left: number): void;
  /** What quota_info answers the account now. */
  quotaInfo(user: string): QuotaInfo;
  /**
   * Every request for a post page or its image, in order, with the Host it was asked under:
   * tests read it to prove a URL was never opened (a foreign imageUrl, issue 22).
   */
  postVisits: readonly PostVisit[];
  /** Rate-limits an account for `ms` from now, as if it had used up its allowance. */
  rateLimit(user: string, ms: number): void;
  video(videoId: string): VideoRecord | undefined;
  /** The bytes served for a video (SD or HD) — what a download must equal. */
  asset(name: 'generated_video.mp4' | 'generated_video_hd.mp4' | 'image.jpg'): Buffer;
  /** Number of open streaming connections (for leak checks). */
  openStreams(): number;
  /** The stand-in of xAI's Imagine API on the same port: `xai.baseUrl`, `xai.apiKey`, what it was sent. */
  xai: XaiStandIn;
}

/** The options with their defaults filled in: what the rest of the simulator reads. */
export type ResolvedOptions = SimulatorOptions &
  Required<Pick<SimulatorOptions, 'generationMs' | 'cooldownMs' | 'stuckAt' | 'announceCooldown' | 'sessionTtlMs' | 'imagesPerGeneration' | 'dailyQuota'>>;
