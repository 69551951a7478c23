import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Generations } from './generations';
import { json } from './http';
import { names } from './pages';
import { handle, type Assets, type Site } from './routes';
import { emptyScenario, parseScenario } from './scenarios';
import { SESSION_COOKIE, SimulatorState, type Session } from './state';
import type { PostVisit, ResolvedOptions, Simulator, SimulatorOptions, StorageStateCookie } from './types';
import { handleXai, isXaiPath } from './xai/routes';
import { XaiStandIn } from './xai/standIn';

export type { GenerationRecord, PostVisit, SessionLogLine, Simulator, SimulatorOptions, SimulatorUser, StorageStateCookie, VideoRecord } from './types';

// The Grok Imagine simulator (docs/ARCHITECTURE.md): a local web server that looks to the driver like
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

const ASSETS = path.join(__dirname, 'assets');

function loadAssets(): Assets {
  return {
    'generated_video.mp4': fs.readFileSync(path.join(ASSETS, 'generated_video.mp4')),
    'generated_video_hd.mp4': fs.readFileSync(path.join(ASSETS, 'generated_video_hd.mp4')),
    'image.jpg': fs.readFileSync(path.join(ASSETS, 'image.jpg')),
    'imagine.js': fs.readFileSync(path.join(ASSETS, 'imagine.js')),
  };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const options: ResolvedOptions = {
    generationMs: 3000,
    cooldownMs: 15 * 60_000,
    stuckAt: 87,
    announceCooldown: true,
    sessionTtlMs: 30 * 24 * 3600_000,
    imagesPerGeneration: 4,
    ...opts,
    dailyQuota: opts.dailyQuota ?? 1000,
  };
  const assets = loadAssets();
  const baseScenario = parseScenario(options.scenario ?? '', emptyScenario()).scenario;
  if (options.abTest) baseScenario.ab = true;

  const state = new SimulatorState(options);
  for (const u of options.users ?? [{ name: 'default', password: 'secret' }]) state.addUser(u.name, u.password);
  const generations = new Generations(state, options, baseScenario);
  const site: Site = { options, n: names(options.uiVariant ?? 'classic'), assets, state, generations };
  // The stand-in of xAI's Imagine API (src/simulator/xai/) shares the port: /v1/… and /xai-media/….
  const xai = new XaiStandIn({ generationMs: options.generationMs, ...options.xai });
  const xaiMedia = { video: assets['generated_video.mp4'], image: assets['image.jpg'] };

  const postVisits: PostVisit[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/imagine/post/')) postVisits.push({ host: req.headers.host ?? '', path: req.url.split('?')[0]!, at: Date.now() });
    (isXaiPath(req.url) ? handleXai(xai, xaiMedia, req, res) : handle(site, req, res)).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'internal', message: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const listen = (srv: http.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, options.host ?? '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
    });
  const mainPort = await listen(server, options.port ?? 0);
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  const url = `http://${host}:${mainPort}`;
  xai.baseUrl = `${url}/v1`;
  // The `stream` variant serves the media files from an assets host of their own (another
  // port: cookies are per host name, so the session reaches it as Grok's reaches its CDN).
  let assetsHost: http.Server | undefined;
  if (options.uiVariant === 'stream') {
    assetsHost = http.createServer((req, res) => {
      if (!(req.url ?? '').startsWith('/users/')) return json(res, 404, { error: 'not_found' });
      handle(site, req, res).catch(() => res.destroy());
    });
    state.mediaBase = `http://${host}:${await listen(assetsHost, 0)}`;
  }

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
    port: mainPort,
    assetsUrl: state.mediaBase || url,
    options,
    async close() {
      generations.stopStreams();
      for (const srv of [server, assetsHost]) {
        if (!srv) continue;
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
    },
    addUser: (name, password) => state.addUser(name, password),
    createSession(user) {
      const { token, session } = state.newSession(user);
      return cookieFor(token, session);
    },
    storageState(user) {
      const { token, session } = state.newSession(user);
      return { cookies: [cookieFor(token, session)], origins: [] };
    },
    expireSessions(user) {
      state.endSessions(user);
    },
    createPost(user) {
      if (!state.users.has(user)) throw new Error(`simulator: no user ${user}`);
      const post = state.createPost(user);
      return { postId: post.postId, url: `${url}/imagine/post/${post.postId}` };
    },
    get postVisits() {
      return postVisits;
    },
    get generations() {
      return generations.list;
    },
    get sessionLog() {
      return generations.sessionLog;
    },
    setQuotaLeft(user, left) {
      const u = state.users.get(user);
      if (!u) throw new Error(`simulator: no user ${user}`);
      const total = state.quotaInfo(u).totalQueries;
      u.quotaUsed = Math.max(0, total - left);
    },
    quotaInfo(user) {
      const u = state.users.get(user);
      if (!u) throw new Error(`simulator: no user ${user}`);
      return state.quotaInfo(u);
    },
    rateLimit(user, ms) {
      const u = state.users.get(user);
      if (!u) throw new Error(`simulator: no user ${user}`);
      u.cooldownUntil = Date.now() + ms;
    },
    video: (id) => state.videos.get(id),
    asset: (name) => assets[name],
    openStreams: () => generations.openStreams(),
    xai,
  };
}
