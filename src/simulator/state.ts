import crypto from 'node:crypto';
import type http from 'node:http';
import { parseCookies } from './http';
import type { QuotaInfo, ResolvedOptions, VideoRecord } from './types';

const today = () => new Date().toISOString().slice(0, 10);

// The simulator's in-memory world: accounts, sessions, posts and the media they hold.

export const SESSION_COOKIE = 'sso';

export interface UserRecord {
  id: string;
  name: string;
  password: string;
  generations: number;
  cooldownUntil: number;
  /** Generations started on the day `quotaDay` (quota_info's count). */
  quotaUsed: number;
  quotaDay: string;
}

export interface Session {
  user: string;
  expiresAt: number;
}

export interface PostRecord {
  postId: string;
  user: string;
  image: { kind: 'asset' } | { kind: 'upload'; bytes: Buffer; contentType: string };
  /** The latest chosen video shown on the page. */
  videoId?: string;
}

/** Who a request is signed in as, and with which session token. */
export interface SignedIn {
  user: UserRecord;
  token: string;
}

export interface ImageRecord {
  imageId: string;
  user: string;
  postId: string;
}

export const videoPath = (v: VideoRecord, hd = false) =>
  `/users/${v.userId}/generated/${v.videoId}/${hd ? 'generated_video_hd.mp4' : 'generated_video.mp4'}`;

export class SimulatorState {
  readonly users = new Map<string, UserRecord>();
  readonly sessions = new Map<string, Session>();
  readonly posts = new Map<string, PostRecord>();
  readonly videos = new Map<string, VideoRecord>();
  readonly images = new Map<string, ImageRecord>();

  /** Origin of the media files: '' (this host) or the assets host of the `stream` variant. */
  mediaBase = '';

  constructor(private readonly options: ResolvedOptions) {}

  videoUrl(v: VideoRecord, hd = false): string {
    return `${this.mediaBase}${videoPath(v, hd)}`;
  }

  videoView(v: VideoRecord): { videoId: string; url: string; hd: boolean } {
    return { videoId: v.videoId, url: this.videoUrl(v, v.hd), hd: v.hd };
  }

  addUser(name: string, password: string): void {
    this.users.set(name, { id: crypto.randomUUID(), name, password, generations: 0, cooldownUntil: 0, quotaUsed: 0, quotaDay: today() });
  }

  newSession(user: string): { token: string; session: Session } {
    if (!this.users.has(user)) throw new Error(`simulator: no user ${user}`);
    const token = crypto.randomBytes(24).toString('base64url');
    const session = { user, expiresAt: Date.now() + this.options.sessionTtlMs };
    this.sessions.set(token, session);
    return { token, session };
  }

  /** Ends every session of `user`, and the session `token` whoever holds it. */
  endSessions(user: string, token?: string): void {
    for (const [t, s] of this.sessions) if (s.user === user || t === token) this.sessions.delete(t);
  }

  currentUser(req: http.IncomingMessage): SignedIn | undefined {
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!token) return undefined;
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expiresAt <= Date.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    const user = this.users.get(s.user);
    return user ? { user, token } : undefined;
  }

  createPost(user: string, image: PostRecord['image'] = { kind: 'asset' }): PostRecord {
    const post: PostRecord = { postId: crypto.randomUUID(), user, image };
    this.posts.set(post.postId, post);
    return post;
  }

  newVideo(user: UserRecord, postId: string, generationId: string, videoId: string = crypto.randomUUID()): VideoRecord {
    const v: VideoRecord = { videoId, userId: user.id, user: user.name, postId, generationId, hd: false, deleted: false };
    this.videos.set(v.videoId, v);
    return v;
  }

  newImage(user: string, postId: string): ImageRecord {
    const im: ImageRecord = { imageId: crypto.randomUUID(), user, postId };
    this.images.set(im.imageId, im);
    return im;
  }

  /** What quota_info answers for `user`: the day's count, started over at midnight UTC. */
  quotaInfo(user: UserRecord): QuotaInfo {
    if (user.quotaDay !== today()) {
      user.quotaDay = today();
      user.quotaUsed = 0;
    }
    const midnight = new Date(`${today()}T00:00:00Z`).getTime() + 86_400_000;
    const total = this.options.dailyQuota;
    return { remainingQueries: Math.max(0, total - user.quotaUsed), totalQueries: total, windowSizeSeconds: Math.ceil((midnight - Date.now()) / 1000) };
  }

  /** An upscale has no timer of its own: the video turns HD the first time it is looked at after `upscaleMs`. */
  isHd(v: VideoRecord): boolean {
    if (!v.hd && v.upscaleStartedAt !== undefined && Date.now() - v.upscaleStartedAt >= (this.options.upscaleMs ?? this.options.generationMs / 2)) {
      v.hd = true;
    }
    return v.hd;
  }
}
