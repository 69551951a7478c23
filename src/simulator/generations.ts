import crypto from 'node:crypto';
import type http from 'node:http';
import { parseScenario, type Scenario } from './scenarios';
import type { SimulatorState, UserRecord } from './state';
import type { GenerationRecord, ResolvedOptions, SessionLogLine, VideoRecord } from './types';
import { traits, type SiteTexts } from './variants';

// The generation engine: starts a generation (or refuses it: rate limit, expired session),
// settles its outcome from the clock and its scenario, and streams its progress as NDJSON.

function humanize(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 120) return `${m} minutes`;
  return `${Math.ceil(m / 60)} hours`;
}

export class Generations {
  private readonly byId = new Map<string, GenerationRecord>();
  /** Every generation in the order it started. */
  readonly list: GenerationRecord[] = [];
  /** At each start, how many of the account's generations ran at once (types.ts SessionLogLine). */
  readonly sessionLog: SessionLogLine[] = [];
  /** Tries per account + kind + clean prompt, for `moderate=N`, `ratelimit` and `netdrop`. */
  private readonly tries = new Map<string, number>();
  private readonly streams = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly t: SiteTexts;

  constructor(
    private readonly state: SimulatorState,
    private readonly options: ResolvedOptions,
    private readonly baseScenario: Scenario,
  ) {
    this.t = traits(options.uiVariant ?? 'classic').t;
  }

  get(id: string): GenerationRecord | undefined {
    return this.byId.get(id);
  }

  start(
    user: UserRecord,
    token: string,
    kind: 'video' | 'image',
    rawPrompt: string,
    extra: { postId?: string; duration?: string; resolution?: string; aspectRatio?: string; mode?: string; extendVideoId?: string },
  ): { status: number; body: unknown } {
    const { options } = this;
    const { prompt, scenario } = parseScenario(rawPrompt, this.baseScenario);
    const now = Date.now();
    if (scenario.expired) {
      // The session is logged out on the server: every page now shows the login wall.
      this.state.endSessions(user.name, token);
      return { status: 401, body: { error: 'unauthenticated', message: 'Session expired' } };
    }
    const limited = () => ({
      status: 429,
      body: {
        error: 'rate_limited',
        message: options.announceCooldown ? `${this.t.rateLimited}. ${this.t.tryAgainIn} ${humanize(user.cooldownUntil - Date.now())}.` : this.t.rateLimited,
      },
    });
    if (user.cooldownUntil > now) return limited();
    // The day's quota (quota_info): spent, Grok answers with its rate limit until the day ends.
    const quota = this.state.quotaInfo(user);
    if (quota.remainingQueries <= 0) {
      user.cooldownUntil = now + quota.windowSizeSeconds * 1000;
      return limited();
    }
    // Counted per account + kind + clean prompt, not per post: a driver that starts over
    // from text makes a new image post on every try, and the count must still advance.
    const key = `${user.name}|${kind}|${prompt}`;
    const attempt = (this.tries.get(key) ?? 0) + 1;
    this.tries.set(key, attempt);
    // ratelimit: the first try hits the limit; a try after the cooldown goes through.
    const marked = scenario.ratelimit && attempt === 1;
    if (marked || (options.rateLimitAfter !== undefined && user.generations >= options.rateLimitAfter)) {
      user.cooldownUntil = now + options.cooldownMs;
      user.generations = 0;
      return limited();
    }
    user.generations++;
    user.quotaUsed++;
    // moderate=N: the first N tries are moderated; netdrop: only the first try drops.
    if (scenario.moderate !== undefined && attempt > scenario.moderate) scenario.moderate = undefined;
    if (scenario.netdrop && attempt > 1) scenario.netdrop = false;
    const g: GenerationRecord = {
      id: crypto.randomUUID(),
      kind,
      user: user.name,
      postId: extra.postId,
      rawPrompt,
      prompt,
      duration: extra.duration,
      resolution: extra.resolution,
      aspectRatio: extra.aspectRatio,
      mode: extra.mode,
      extendVideoId: extra.extendVideoId,
      scenario,
      startedAt: now,
      durationMs: scenario.slowMs ?? options.generationMs,
      outcome: 'running',
      plannedVideoId: crypto.randomUUID(),
      plannedVideoId2: crypto.randomUUID(),
      videoPostId: crypto.randomUUID(),
      videoIds: [],
      imageIds: [],
    };
    this.byId.set(g.id, g);
    this.list.push(g);
    const running = this.list.filter((o) => o.user === user.name && o.startedAt <= now && now < o.startedAt + o.durationMs).length;
    this.sessionLog.push({ user: user.name, generationId: g.id, at: now, running });
    return { status: 200, body: { generationId: g.id } };
  }

  /** The A/B choice: `choice` 1 keeps video B, anything else video A; the other is deleted. */
  choose(g: GenerationRecord, choice: number | undefined): VideoRecord {
    const { videos, posts } = this.state;
    const chosen = g.videoIds[choice === 1 ? 1 : 0]!;
    const other = g.videoIds.find((id) => id !== chosen);
    if (other) videos.get(other)!.deleted = true;
    g.videoIds = [chosen];
    g.outcome = 'done';
    posts.get(g.postId!)!.videoId = chosen;
    return videos.get(chosen)!;
  }

  /**
   * Streams a generation's events as JSON lines: the simulator's own `{type…}` events, or
   * ('conversation') the shape of Grok's /rest/app-chat/conversations/new response.
   */
  stream(g: GenerationRecord, user: UserRecord, token: string, res: http.ServerResponse, format: 'events' | 'conversation' = 'events'): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const line = (ev: Record<string, unknown>) =>
      (format === 'events' ? [ev] : conversationLines(g, ev, this.t)).map((l) => JSON.stringify(l) + '\n').join('');
    this.streams.add(res);
    // Grok's envelope opens with the conversation, then the user's message as it was taken.
    if (format === 'conversation') {
      res.write(JSON.stringify({ result: { conversation: { conversationId: g.id, title: 'Imagine', createTime: new Date(g.startedAt).toISOString() } } }) + '\n');
      res.write(JSON.stringify({ result: { response: { userResponse: { responseId: crypto.randomUUID(), sender: 'human', message: `${g.rawPrompt} --mode=${g.mode ?? 'normal'}` } } } }) + '\n');
    }
    const tick = Math.max(40, Math.min(250, Math.floor(g.durationMs / 25)));
    let last = -1;
    const stop = () => {
      clearInterval(timer);
      this.timers.delete(timer);
      this.streams.delete(res);
    };
    const step = () => {
      if (!this.state.sessions.has(token)) {
        res.end(line({ type: 'unauthenticated' }));
        stop();
        return;
      }
      const fin = this.settle(g, user);
      if (fin) {
        if (last < 100 && fin.type !== 'moderated' && fin.type !== 'error') res.write(line({ type: 'progress', progress: 100 }));
        res.end(line(fin));
        stop();
        return;
      }
      const p = this.progressOf(g);
      if (g.scenario.netdrop && p >= 40) {
        // The connection drops mid-generation: no final event, just a dead socket.
        g.outcome = 'dropped';
        stop();
        res.socket?.destroy();
        return;
      }
      if (g.scenario.stuck && p >= this.options.stuckAt) g.outcome = 'stuck';
      if (p !== last) {
        last = p;
        res.write(line({ type: 'progress', progress: p }));
      } else {
        res.write('\n'); // keep-alive
      }
    };
    const timer = setInterval(step, tick);
    this.timers.add(timer);
    res.on('close', stop);
    step();
  }

  /** Number of open streaming connections. */
  openStreams(): number {
    return this.streams.size;
  }

  /** Stops every stream's timer and drops its connection (the server is closing). */
  stopStreams(): void {
    for (const t of this.timers) clearInterval(t);
    for (const r of this.streams) r.destroy();
  }

  /** Settles a generation's outcome once its time has come; returns the final event or undefined. */
  private settle(g: GenerationRecord, user: UserRecord): Record<string, unknown> | undefined {
    const elapsed = Date.now() - g.startedAt;
    const frac = elapsed / g.durationMs;
    const s = g.scenario;
    if (g.outcome === 'moderated') return { type: 'moderated', blocked: s.softblock === 2 };
    if (g.outcome === 'error') return { type: 'error' };
    if (g.outcome === 'done' || g.outcome === 'choose') return this.finalEvent(g);
    if (s.moderate !== undefined && frac >= 0.5) {
      g.outcome = 'moderated';
      return { type: 'moderated' };
    }
    if (s.error && frac >= 0.3) {
      g.outcome = 'error';
      return { type: 'error' };
    }
    if (s.stuck || s.netdrop) return undefined;
    if (frac < 1) return undefined;
    if (s.softblock === 2) {
      // Every side-by-side candidate blocked: nothing to show.
      g.outcome = 'moderated';
      return { type: 'moderated', blocked: true };
    }
    const { state } = this;
    if (g.kind === 'image') {
      for (let i = 0; i < this.options.imagesPerGeneration; i++) {
        const post = state.createPost(user.name);
        g.imageIds.push(state.newImage(user.name, post.postId).imageId);
      }
      g.outcome = 'done';
    } else if (s.ab) {
      g.videoIds.push(state.newVideo(user, g.postId!, g.id, g.plannedVideoId).videoId, state.newVideo(user, g.postId!, g.id, g.plannedVideoId2).videoId);
      g.outcome = 'choose';
    } else {
      const v = state.newVideo(user, g.postId!, g.id, g.plannedVideoId);
      // Its length: the chosen duration, added to the extended video's.
      const source = g.extendVideoId ? state.videos.get(g.extendVideoId) : undefined;
      v.seconds = (source?.seconds ?? 0) + (parseInt(g.duration ?? '6', 10) || 6);
      g.videoIds.push(v.videoId);
      state.posts.get(g.postId!)!.videoId = v.videoId;
      g.outcome = 'done';
    }
    return this.finalEvent(g);
  }

  private finalEvent(g: GenerationRecord): Record<string, unknown> {
    const { users, images, videos } = this.state;
    if (g.kind === 'image') {
      const uid = users.get(g.user)!.id;
      return {
        type: 'done',
        images: g.imageIds.map((id) => ({
          imageId: id,
          url: `/users/${uid}/generated/${id}/image.jpg`,
          postUrl: `/imagine/post/${images.get(id)!.postId}`,
        })),
      };
    }
    if (g.outcome === 'choose') return { type: 'choose', videos: g.videoIds.map((id) => this.state.videoView(videos.get(id)!)) };
    return { type: 'done', video: this.state.videoView(videos.get(g.videoIds[0]!)!) };
  }

  private progressOf(g: GenerationRecord): number {
    const frac = (Date.now() - g.startedAt) / g.durationMs;
    let p = Math.min(99, Math.floor(frac * 100));
    if (g.scenario.stuck) p = Math.min(p, this.options.stuckAt);
    return Math.max(0, p);
  }
}

/**
 * One event as the lines of Grok's conversation stream (the public shape the driver reads):
 * `result.response.streamingVideoGenerationResponse` per candidate video, with the post the
 * video gets (videoPostId), the image post it animates (parentPostId) and the prompt. Side by
 * side (#sim:ab, #sim:softblock) two candidates stream; a blocked one ends with isSoftBlock /
 * isDisallowed and no URL.
 */
function conversationLines(g: GenerationRecord, ev: Record<string, unknown>, t: SiteTexts): unknown[] {
  const sideBySide = g.scenario.ab || g.scenario.softblock !== undefined;
  const video = (videoId: string, progress: number, extra: Record<string, unknown> = {}) => ({
    result: {
      response: {
        streamingVideoGenerationResponse: {
          videoId, videoPostId: g.videoPostId, parentPostId: g.postId, progress, moderated: false, videoPrompt: g.prompt, ...extra,
        },
      },
    },
  });
  const blocked = (videoId: string) => video(videoId, 100, { isSoftBlock: true, isDisallowed: true });
  switch (ev.type) {
    case 'progress': {
      const p = ev.progress as number;
      return sideBySide ? [video(g.plannedVideoId, p), video(g.plannedVideoId2, p)] : [video(g.plannedVideoId, p)];
    }
    case 'moderated':
      if (ev.blocked) return [blocked(g.plannedVideoId), blocked(g.plannedVideoId2)];
      return [video(g.plannedVideoId, 100, { moderated: true })]; // moderated is only ever true at 100 %
    case 'done': {
      const v = ev.video as { videoId: string; url: string };
      const done = video(v.videoId, 100, { videoUrl: v.url });
      return g.scenario.softblock === 1 ? [done, blocked(g.plannedVideoId2)] : [done];
    }
    case 'choose': {
      // Two candidates, both shown: the page asks which one (its A/B choice).
      const videos = ev.videos as Array<{ videoId: string; url: string }>;
      return videos.map((v) => video(v.videoId, 100, { videoUrl: v.url }));
    }
    case 'unauthenticated':
      return [{ error: { code: 16, message: 'unauthenticated' } }];
    default:
      return [{ error: { code: 13, message: t.serverError } }];
  }
}
