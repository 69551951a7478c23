import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { emptyScenario, parseScenario, type Scenario } from './scenarios';
import { composerBody, layout, loginWallBody, messageBody, names, postBody, signInBody, type Names, type UiDrift } from './pages';

// The Grok Imagine simulator (DESIGN §7): a local web server that looks to the driver like
// Grok Imagine — same URL shapes, roles, labels and texts — with deterministic scenarios.
//
// Scenarios per prompt: the markers of scenarios.ts. Per run: the `scenario` option holds
// markers applied to every prompt (e.g. '#sim:ab' turns the A/B choice on for every
// generation), `rateLimitAfter` limits every account to N generations per cooldown.
//
// A/B choice: marker `#sim:ab` (or the `abTest` option): instead of one video the page shows
// "Which video do you prefer?" with two videos and two buttons "Prefer video A"/"Prefer
// video B" (visible text "Select"); the chosen one becomes the post's `sd-video`.
// Server error: marker `#sim:error` shows the "Server failed to respond" toast mid-generation.

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
  /** Whether the rate-limit message says how long to wait (default true). */
  announceCooldown?: boolean;
  /** Renames incidental ids/classes and reorders the DOM; 'aggressive' renames the contract ones too. */
  uiDrift?: UiDrift;
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
  scenario: Scenario;
  startedAt: number;
  durationMs: number;
  outcome: 'running' | 'done' | 'choose' | 'moderated' | 'error' | 'dropped' | 'stuck';
  videoIds: string[];
  imageIds: string[];
}

export interface VideoRecord {
  videoId: string;
  userId: string;
  user: string;
  postId: string;
  generationId: string;
  hd: boolean;
  upscaleStartedAt?: number;
  deleted: boolean;
}

interface PostRecord {
  postId: string;
  user: string;
  image: { kind: 'asset' } | { kind: 'upload'; bytes: Buffer; contentType: string };
  /** The latest chosen video shown on the page. */
  videoId?: string;
}

interface UserRecord {
  id: string;
  name: string;
  password: string;
  generations: number;
  cooldownUntil: number;
}

interface Session {
  user: string;
  expiresAt: number;
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
  video(videoId: string): VideoRecord | undefined;
  /** The bytes served for a video (SD or HD) — what a download must equal. */
  asset(name: 'generated_video.mp4' | 'generated_video_hd.mp4' | 'image.jpg'): Buffer;
  /** Number of open streaming connections (for leak checks). */
  openStreams(): number;
}

const ASSETS = path.join(__dirname, 'assets');
const SESSION_COOKIE = 'sso';

function humanize(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 120) return `${m} minutes`;
  return `${Math.ceil(m / 60)} hours`;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

async function readBody(req: http.IncomingMessage, limit = 20 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const options = {
    generationMs: 3000,
    cooldownMs: 15 * 60_000,
    stuckAt: 87,
    announceCooldown: true,
    sessionTtlMs: 30 * 24 * 3600_000,
    imagesPerGeneration: 4,
    ...opts,
  };
  const n: Names = names(options.uiDrift ?? false);
  const assets = {
    'generated_video.mp4': fs.readFileSync(path.join(ASSETS, 'generated_video.mp4')),
    'generated_video_hd.mp4': fs.readFileSync(path.join(ASSETS, 'generated_video_hd.mp4')),
    'image.jpg': fs.readFileSync(path.join(ASSETS, 'image.jpg')),
    'imagine.js': fs.readFileSync(path.join(ASSETS, 'imagine.js')),
  };
  const baseScenario = parseScenario(options.scenario ?? '', emptyScenario()).scenario;
  if (options.abTest) baseScenario.ab = true;

  const users = new Map<string, UserRecord>();
  const sessions = new Map<string, Session>();
  const posts = new Map<string, PostRecord>();
  const videos = new Map<string, VideoRecord>();
  const images = new Map<string, { imageId: string; user: string; postId: string }>();
  const generations = new Map<string, GenerationRecord>();
  const generationList: GenerationRecord[] = [];
  /** Tries per account + kind + clean prompt, for `moderate=N`, `ratelimit` and `netdrop`. */
  const tries = new Map<string, number>();
  const streams = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  function addUser(name: string, password: string): void {
    users.set(name, { id: crypto.randomUUID(), name, password, generations: 0, cooldownUntil: 0 });
  }
  for (const u of options.users ?? [{ name: 'default', password: 'secret' }]) addUser(u.name, u.password);

  function newSession(user: string): { token: string; session: Session } {
    if (!users.has(user)) throw new Error(`simulator: no user ${user}`);
    const token = crypto.randomBytes(24).toString('base64url');
    const session = { user, expiresAt: Date.now() + options.sessionTtlMs };
    sessions.set(token, session);
    return { token, session };
  }

  function currentUser(req: http.IncomingMessage): { user: UserRecord; token: string } | undefined {
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!token) return undefined;
    const s = sessions.get(token);
    if (!s) return undefined;
    if (s.expiresAt <= Date.now()) {
      sessions.delete(token);
      return undefined;
    }
    const user = users.get(s.user);
    return user ? { user, token } : undefined;
  }

  function createPost(user: string, image: PostRecord['image'] = { kind: 'asset' }): PostRecord {
    const post: PostRecord = { postId: crypto.randomUUID(), user, image };
    posts.set(post.postId, post);
    return post;
  }

  const videoUrl = (v: VideoRecord, hd = false) =>
    `/users/${v.userId}/generated/${v.videoId}/${hd ? 'generated_video_hd.mp4' : 'generated_video.mp4'}`;
  const videoView = (v: VideoRecord) => ({ videoId: v.videoId, url: videoUrl(v, v.hd), hd: v.hd });

  function newVideo(user: UserRecord, postId: string, generationId: string): VideoRecord {
    const v: VideoRecord = { videoId: crypto.randomUUID(), userId: user.id, user: user.name, postId, generationId, hd: false, deleted: false };
    videos.set(v.videoId, v);
    return v;
  }

  // -- helpers for responses ----------------------------------------------------------
  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type: string, headers: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
    res.end(body);
  };
  const html = (res: http.ServerResponse, status: number, doc: string, headers: http.OutgoingHttpHeaders = {}) =>
    send(res, status, doc, 'text/html; charset=utf-8', headers);
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    send(res, status, JSON.stringify(body), 'application/json');

  function serveMedia(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, type: string): void {
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    const base = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=0' };
    if (!range) {
      res.writeHead(200, { ...base, 'content-length': data.length });
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    }
    let start = range[1] ? Number(range[1]) : NaN;
    let end = range[2] ? Number(range[2]) : data.length - 1;
    if (Number.isNaN(start)) {
      start = Math.max(0, data.length - end);
      end = data.length - 1;
    }
    end = Math.min(end, data.length - 1);
    if (start > end || start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...base, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${data.length}` });
    res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
  }

  // -- generation lifecycle -----------------------------------------------------------
  function startGeneration(
    user: UserRecord,
    token: string,
    kind: 'video' | 'image',
    rawPrompt: string,
    extra: { postId?: string; duration?: string; resolution?: string },
  ): { status: number; body: unknown } {
    const { prompt, scenario } = parseScenario(rawPrompt, baseScenario);
    const now = Date.now();
    if (scenario.expired) {
      // The session is logged out on the server: every page now shows the login wall.
      for (const [t, s] of sessions) if (s.user === user.name || t === token) sessions.delete(t);
      return { status: 401, body: { error: 'unauthenticated', message: 'Session expired' } };
    }
    const limited = () => ({
      status: 429,
      body: {
        error: 'rate_limited',
        message: options.announceCooldown ? `Rate limit reached. Try again in ${humanize(user.cooldownUntil - Date.now())}.` : 'Rate limit reached',
      },
    });
    if (user.cooldownUntil > now) return limited();
    // Counted per account + kind + clean prompt, not per post: a driver that starts over
    // from text makes a new image post on every try, and the count must still advance.
    const key = `${user.name}|${kind}|${prompt}`;
    const attempt = (tries.get(key) ?? 0) + 1;
    tries.set(key, attempt);
    // ratelimit: the first try hits the limit; a try after the cooldown goes through.
    const marked = scenario.ratelimit && attempt === 1;
    if (marked || (options.rateLimitAfter !== undefined && user.generations >= options.rateLimitAfter)) {
      user.cooldownUntil = now + options.cooldownMs;
      user.generations = 0;
      return limited();
    }
    user.generations++;
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
      scenario,
      startedAt: now,
      durationMs: scenario.slowMs ?? options.generationMs,
      outcome: 'running',
      videoIds: [],
      imageIds: [],
    };
    generations.set(g.id, g);
    generationList.push(g);
    return { status: 200, body: { generationId: g.id } };
  }

  /** Settles a generation's outcome once its time has come; returns the final event or undefined. */
  function settle(g: GenerationRecord, user: UserRecord): Record<string, unknown> | undefined {
    const elapsed = Date.now() - g.startedAt;
    const frac = elapsed / g.durationMs;
    const s = g.scenario;
    if (g.outcome === 'moderated') return { type: 'moderated' };
    if (g.outcome === 'error') return { type: 'error' };
    if (g.outcome === 'done' || g.outcome === 'choose') return finalEvent(g);
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
    if (g.kind === 'image') {
      for (let i = 0; i < options.imagesPerGeneration; i++) {
        const post = createPost(user.name);
        const imageId = crypto.randomUUID();
        images.set(imageId, { imageId, user: user.name, postId: post.postId });
        g.imageIds.push(imageId);
      }
      g.outcome = 'done';
    } else if (s.ab) {
      g.videoIds.push(newVideo(user, g.postId!, g.id).videoId, newVideo(user, g.postId!, g.id).videoId);
      g.outcome = 'choose';
    } else {
      const v = newVideo(user, g.postId!, g.id);
      g.videoIds.push(v.videoId);
      posts.get(g.postId!)!.videoId = v.videoId;
      g.outcome = 'done';
    }
    return finalEvent(g);
  }

  function finalEvent(g: GenerationRecord): Record<string, unknown> {
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
    if (g.outcome === 'choose') return { type: 'choose', videos: g.videoIds.map((id) => videoView(videos.get(id)!)) };
    return { type: 'done', video: videoView(videos.get(g.videoIds[0]!)!) };
  }

  function progressOf(g: GenerationRecord): number {
    const frac = (Date.now() - g.startedAt) / g.durationMs;
    let p = Math.min(99, Math.floor(frac * 100));
    if (g.scenario.stuck) p = Math.min(p, options.stuckAt);
    return Math.max(0, p);
  }

  function streamGeneration(g: GenerationRecord, user: UserRecord, token: string, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    streams.add(res);
    const tick = Math.max(40, Math.min(250, Math.floor(g.durationMs / 25)));
    let last = -1;
    const stop = () => {
      clearInterval(timer);
      timers.delete(timer);
      streams.delete(res);
    };
    const step = () => {
      if (!sessions.has(token)) {
        res.end(JSON.stringify({ type: 'unauthenticated' }) + '\n');
        stop();
        return;
      }
      const fin = settle(g, user);
      if (fin) {
        if (last < 100 && fin.type !== 'moderated' && fin.type !== 'error') res.write(JSON.stringify({ type: 'progress', progress: 100 }) + '\n');
        res.end(JSON.stringify(fin) + '\n');
        stop();
        return;
      }
      const p = progressOf(g);
      if (g.scenario.netdrop && p >= 40) {
        // The connection drops mid-generation: no final event, just a dead socket.
        g.outcome = 'dropped';
        stop();
        res.socket?.destroy();
        return;
      }
      if (g.scenario.stuck && p >= options.stuckAt) g.outcome = 'stuck';
      if (p !== last) {
        last = p;
        res.write(JSON.stringify({ type: 'progress', progress: p }) + '\n');
      } else {
        res.write('\n'); // keep-alive
      }
    };
    const timer = setInterval(step, tick);
    timers.add(timer);
    res.on('close', stop);
    step();
  }

  // -- routing ----------------------------------------------------------------------------
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const auth = currentUser(req);
    const page = (title: string, body: string, data?: Record<string, unknown>, status = 200) =>
      html(res, status, layout({ title, n, user: auth ? { name: auth.user.name, id: auth.user.id } : undefined, body, data }));
    const wall = () => html(res, 200, layout({ title: 'Grok', n, body: loginWallBody(n, p) }));

    if (p === '/static/imagine.js') return send(res, 200, assets['imagine.js'], 'text/javascript; charset=utf-8');
    if (p === '/' ) {
      res.writeHead(302, { location: '/imagine' });
      res.end();
      return;
    }
    if (p === '/favicon.ico') return send(res, 204, '', 'image/x-icon');
    if (p === '/sign-in' && method === 'GET') {
      return page('Sign in - Grok', signInBody(n, url.searchParams.get('next') ?? '/imagine'));
    }
    if (p === '/sign-in' && method === 'POST') {
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      const name = form.get('username') ?? '';
      const next = form.get('next') ?? '/imagine';
      const u = users.get(name);
      if (!u || u.password !== (form.get('password') ?? '')) {
        return page('Sign in - Grok', signInBody(n, next, 'Wrong username or password.'), undefined, 401);
      }
      const { token } = newSession(name);
      const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/imagine';
      res.writeHead(303, {
        location: safeNext,
        'set-cookie': `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(options.sessionTtlMs / 1000)}`,
      });
      res.end();
      return;
    }
    if (p === '/sign-up') return page('Sign up - Grok', messageBody(n, 'Sign up', 'Accounts are created by the simulator\'s operator.'));
    if (p === '/sign-out' && method === 'POST') {
      if (auth) sessions.delete(auth.token);
      res.writeHead(303, { location: '/sign-in', 'set-cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0` });
      res.end();
      return;
    }
    if (p === '/subscribe') return page('Upgrade - Grok', messageBody(n, 'Upgrade', 'SuperGrok unlocks more generations.'));

    if (p === '/imagine' && method === 'GET') {
      if (!auth) return wall();
      return page('Imagine - Grok', composerBody(n));
    }
    let m = /^\/imagine\/post\/([0-9a-f-]{36})$/.exec(p);
    if (m && method === 'GET') {
      if (!auth) return wall();
      const post = posts.get(m[1]!);
      if (!post) return page('Not found - Grok', messageBody(n, 'Post not found', 'This post does not exist or was deleted.'), undefined, 404);
      const v = post.videoId ? videos.get(post.videoId) : undefined;
      const video = v && !v.deleted ? videoView(v) : undefined;
      return page('Imagine - Grok', postBody(n, { postId: post.postId, imageUrl: `/imagine/post/${post.postId}/image.jpg`, video }), {
        postId: post.postId,
        video: video ?? null,
      });
    }
    m = /^\/imagine\/post\/([0-9a-f-]{36})\/image\.jpg$/.exec(p);
    if (m) {
      if (!auth) return json(res, 401, { error: 'unauthenticated' });
      const post = posts.get(m[1]!);
      if (!post) return json(res, 404, { error: 'not_found' });
      if (post.image.kind === 'upload') return serveMedia(req, res, post.image.bytes, post.image.contentType);
      return serveMedia(req, res, assets['image.jpg'], 'image/jpeg');
    }
    m = /^\/users\/([0-9a-f-]{36})\/generated\/([0-9a-f-]{36})\/(generated_video\.mp4|generated_video_hd\.mp4|image\.jpg)$/.exec(p);
    if (m) {
      if (!auth) return json(res, 401, { error: 'unauthenticated' });
      if (auth.user.id !== m[1]) return json(res, 403, { error: 'forbidden' });
      const file = m[3]!;
      if (file === 'image.jpg') {
        const im = images.get(m[2]!);
        if (!im || im.user !== auth.user.name) return json(res, 404, { error: 'not_found' });
        return serveMedia(req, res, assets['image.jpg'], 'image/jpeg');
      }
      const v = videos.get(m[2]!);
      if (!v || v.deleted || v.userId !== m[1]) return json(res, 404, { error: 'not_found' });
      if (file === 'generated_video_hd.mp4') {
        if (!isHd(v)) return json(res, 404, { error: 'not_found' });
        return serveMedia(req, res, assets['generated_video_hd.mp4'], 'video/mp4');
      }
      return serveMedia(req, res, assets['generated_video.mp4'], 'video/mp4');
    }

    // -- REST API used by the page's own script ------------------------------------------
    if (p.startsWith('/rest/')) {
      if (!auth) return json(res, 401, { error: 'unauthenticated' });
      const user = auth.user;
      if (p === '/rest/imagine/generate' && method === 'POST') {
        const body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}') as Record<string, unknown>;
        const post = posts.get(String(body.postId));
        if (!post) return json(res, 404, { error: 'not_found' });
        const r = startGeneration(user, auth.token, 'video', String(body.prompt ?? ''), {
          postId: post.postId,
          duration: String(body.duration ?? '6s'),
          resolution: String(body.resolution ?? '480p'),
        });
        return json(res, r.status, r.body);
      }
      if (p === '/rest/imagine/images' && method === 'POST') {
        const body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}') as Record<string, unknown>;
        const r = startGeneration(user, auth.token, 'image', String(body.prompt ?? ''), {});
        return json(res, r.status, r.body);
      }
      if (p === '/rest/imagine/upload' && method === 'POST') {
        const bytes = await readBody(req);
        if (bytes.length === 0) return json(res, 400, { error: 'empty', message: 'Empty upload' });
        const post = createPost(user.name, { kind: 'upload', bytes, contentType: req.headers['content-type'] ?? 'application/octet-stream' });
        return json(res, 200, { postId: post.postId, postUrl: `/imagine/post/${post.postId}` });
      }
      m = /^\/rest\/imagine\/generations\/([0-9a-f-]{36})\/stream$/.exec(p);
      if (m && method === 'GET') {
        const g = generations.get(m[1]!);
        if (!g || g.user !== user.name) return json(res, 404, { error: 'not_found' });
        return streamGeneration(g, user, auth.token, res);
      }
      m = /^\/rest\/imagine\/ab\/([0-9a-f-]{36})$/.exec(p);
      if (m && method === 'POST') {
        const g = generations.get(m[1]!);
        if (!g || g.user !== user.name || g.outcome !== 'choose') return json(res, 404, { error: 'not_found' });
        const body = JSON.parse((await readBody(req, 4096)).toString('utf8') || '{}') as { choice?: number };
        const chosen = g.videoIds[body.choice === 1 ? 1 : 0]!;
        const other = g.videoIds.find((id) => id !== chosen);
        if (other) videos.get(other)!.deleted = true;
        g.videoIds = [chosen];
        g.outcome = 'done';
        posts.get(g.postId!)!.videoId = chosen;
        return json(res, 200, { video: videoView(videos.get(chosen)!) });
      }
      m = /^\/rest\/imagine\/videos\/([0-9a-f-]{36})(\/upscale)?$/.exec(p);
      if (m) {
        const v = videos.get(m[1]!);
        if (!v || v.user !== user.name || v.deleted) return json(res, 404, { error: 'not_found' });
        if (m[2] && method === 'POST') {
          if (!v.hd && v.upscaleStartedAt === undefined) v.upscaleStartedAt = Date.now();
          return json(res, 200, { ok: true });
        }
        if (!m[2] && method === 'GET') {
          const hd = isHd(v);
          return json(res, 200, { videoId: v.videoId, hd, url: videoUrl(v), hdUrl: hd ? videoUrl(v, true) : null });
        }
        if (!m[2] && method === 'DELETE') {
          v.deleted = true;
          const post = posts.get(v.postId);
          if (post?.videoId === v.videoId) post.videoId = undefined;
          return json(res, 200, { ok: true });
        }
      }
      return json(res, 404, { error: 'not_found' });
    }
    return page('Not found - Grok', messageBody(n, 'Page not found', 'Nothing here.'), undefined, 404);
  }

  function isHd(v: VideoRecord): boolean {
    if (!v.hd && v.upscaleStartedAt !== undefined && Date.now() - v.upscaleStartedAt >= (options.upscaleMs ?? options.generationMs / 2)) {
      v.hd = true;
    }
    return v.hd;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'internal', message: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  const url = `http://${host}:${addr.port}`;

  const cookieFor = (token: string, session: Session): StorageStateCookie => ({
    name: SESSION_COOKIE,
    value: token,
    domain: host,
    path: '/',
    expires: Math.floor(session.expiresAt / 1000),
    httpOnly: true,
    secure: false,
    sameSite: 'Lax',
  });

  return {
    url,
    port: addr.port,
    options,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const r of streams) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    addUser,
    createSession(user) {
      const { token, session } = newSession(user);
      return cookieFor(token, session);
    },
    storageState(user) {
      const { token, session } = newSession(user);
      return { cookies: [cookieFor(token, session)], origins: [] };
    },
    expireSessions(user) {
      for (const [t, s] of sessions) if (s.user === user) sessions.delete(t);
    },
    createPost(user) {
      if (!users.has(user)) throw new Error(`simulator: no user ${user}`);
      const post = createPost(user);
      return { postId: post.postId, url: `${url}/imagine/post/${post.postId}` };
    },
    get generations() {
      return generationList;
    },
    video: (id) => videos.get(id),
    asset: (name) => assets[name],
    openStreams: () => streams.size,
  };
}
