import type http from 'node:http';
import type { Generations } from './generations';
import { html, json, readBody, readJson, send, serveMedia } from './http';
import { composerBody, layout, loginWallBody, messageBody, postBody, signInBody, type Names } from './pages';
import { SESSION_COOKIE, type SignedIn, type SimulatorState } from './state';
import type { ResolvedOptions } from './types';

// The request router: the pages, the media URLs and the REST API the page's own script calls,
// with the same URL shapes as Grok Imagine.

export type Assets = Record<'generated_video.mp4' | 'generated_video_hd.mp4' | 'image.jpg' | 'imagine.js', Buffer>;

/** Everything a request may read or change; startSimulator builds it once. */
export interface Site {
  options: ResolvedOptions;
  n: Names;
  assets: Assets;
  state: SimulatorState;
  generations: Generations;
}

export async function handle(site: Site, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { options, n, assets, state } = site;
  const url = new URL(req.url ?? '/', 'http://sim');
  const p = url.pathname;
  const method = req.method ?? 'GET';
  const auth = state.currentUser(req);
  const page = (title: string, body: string, data?: Record<string, unknown>, status = 200) =>
    html(res, status, layout({ title, n, user: auth ? { name: auth.user.name, id: auth.user.id } : undefined, body, data, quietDom: options.quietDom }));
  const wall = () => html(res, 200, layout({ title: 'Grok', n, body: loginWallBody(n, p) }));

  if (p === '/static/imagine.js') return send(res, 200, assets['imagine.js'], 'text/javascript; charset=utf-8');
  if (p === '/') {
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
    const u = state.users.get(name);
    if (!u || u.password !== (form.get('password') ?? '')) {
      return page('Sign in - Grok', signInBody(n, next, 'Wrong username or password.'), undefined, 401);
    }
    const { token } = state.newSession(name);
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
    if (auth) state.sessions.delete(auth.token);
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
    const post = state.posts.get(m[1]!);
    if (!post) return page('Not found - Grok', messageBody(n, n.t.postNotFound, n.t.postNotFoundText), undefined, 404);
    const v = post.videoId ? state.videos.get(post.videoId) : undefined;
    const video = v && !v.deleted ? state.videoView(v) : undefined;
    return page('Imagine - Grok', postBody(n, { postId: post.postId, imageUrl: `/imagine/post/${post.postId}/image.jpg`, video }), {
      postId: post.postId,
      video: video ?? null,
    });
  }
  m = /^\/imagine\/post\/([0-9a-f-]{36})\/image\.jpg$/.exec(p);
  if (m) {
    if (!auth) return json(res, 401, { error: 'unauthenticated' });
    const post = state.posts.get(m[1]!);
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
      const im = state.images.get(m[2]!);
      if (!im || im.user !== auth.user.name) return json(res, 404, { error: 'not_found' });
      return serveMedia(req, res, assets['image.jpg'], 'image/jpeg');
    }
    const v = state.videos.get(m[2]!);
    if (!v || v.deleted || v.userId !== m[1]) return json(res, 404, { error: 'not_found' });
    if (file === 'generated_video_hd.mp4') {
      if (!state.isHd(v)) return json(res, 404, { error: 'not_found' });
      return serveMedia(req, res, assets['generated_video_hd.mp4'], 'video/mp4');
    }
    // A download is a whole-file GET; the page's <video> element asks for byte ranges.
    if (req.method === 'GET' && !req.headers.range) v.downloads = (v.downloads ?? 0) + 1;
    return serveMedia(req, res, assets['generated_video.mp4'], 'video/mp4');
  }

  if (p.startsWith('/rest/')) {
    if (!auth) return json(res, 401, { error: 'unauthenticated' });
    return handleRest(site, req, res, p, method, auth);
  }
  return page('Not found - Grok', messageBody(n, 'Page not found', 'Nothing here.'), undefined, 404);
}

/** The Video Options a generation request carries (the page's defaults when absent). */
function startOptions(body: Record<string, unknown>) {
  return {
    duration: String(body.duration ?? '6s'),
    resolution: String(body.resolution ?? '480p'),
    aspectRatio: String(body.aspectRatio ?? '2:3'),
    mode: String(body.mode ?? 'normal'),
    extendVideoId: typeof body.extendVideoId === 'string' ? body.extendVideoId : undefined,
  };
}

/**
 * Grok's conversation request as the simulator's own fields: the options in
 * responseMetadata.modelConfigOverride.modelMap.videoGenModelConfig, the mode as the
 * message's `--mode=<mode>` suffix. (`extendVideoId` is the simulator's own field.)
 */
function fromConversationRequest(body: Record<string, unknown>): Record<string, unknown> {
  const meta = (body.responseMetadata ?? {}) as { modelConfigOverride?: { modelMap?: { videoGenModelConfig?: Record<string, unknown> } } };
  const c = meta.modelConfigOverride?.modelMap?.videoGenModelConfig ?? {};
  const message = String(body.message ?? '');
  const mode = /\s*--mode=([a-z]+)\s*$/.exec(message);
  return {
    postId: c.parentPostId,
    prompt: mode ? message.slice(0, mode.index) : message,
    duration: typeof c.videoLength === 'number' ? `${c.videoLength}s` : undefined,
    resolution: c.resolutionName,
    aspectRatio: c.aspectRatio,
    mode: mode?.[1],
    extendVideoId: body.extendVideoId,
  };
}

// -- REST API used by the page's own script ------------------------------------------
async function handleRest(site: Site, req: http.IncomingMessage, res: http.ServerResponse, p: string, method: string, auth: SignedIn): Promise<void> {
  const { state, generations } = site;
  const user = auth.user;
  // A video generation: started here, its progress streamed by a second request (classic), or
  // ('stream' variant, as Grok's) started and streamed in one response.
  const conversation = p === '/rest/app-chat/conversations/new';
  if ((p === '/rest/imagine/generate' || conversation) && method === 'POST') {
    const raw = await readJson(req, 64 * 1024);
    const body = conversation ? fromConversationRequest(raw) : raw;
    const post = state.posts.get(String(body.postId));
    if (!post) return json(res, 404, { error: 'not_found' });
    const r = generations.start(user, auth.token, 'video', String(body.prompt ?? ''), { postId: post.postId, ...startOptions(body) });
    if (r.status !== 200 || !conversation) return json(res, r.status, r.body);
    return generations.stream(generations.get((r.body as { generationId: string }).generationId)!, user, auth.token, res, 'conversation');
  }
  // Grok's post for a media file (the image a video animates): its id is the video's parentPostId.
  // The simulator's own image posts answer with their id; any other media gets a new post.
  if (p === '/rest/media/post/create' && method === 'POST') {
    const body = await readJson<{ mediaType?: string; mediaUrl?: string }>(req, 16 * 1024);
    if (body.mediaType !== 'MEDIA_POST_TYPE_IMAGE' || typeof body.mediaUrl !== 'string') return json(res, 400, { error: 'invalid_argument', message: 'mediaType MEDIA_POST_TYPE_IMAGE and mediaUrl expected' });
    const own = /\/imagine\/post\/([0-9a-f-]{36})\/image\.jpg$/.exec(new URL(body.mediaUrl, 'http://sim').pathname);
    const post = own && state.posts.get(own[1]!) ? state.posts.get(own[1]!)! : state.createPost(user.name);
    return json(res, 200, { post: { id: post.postId, mediaType: body.mediaType, mediaUrl: body.mediaUrl } });
  }
  // Grok's upscale: answers once the HD file exists, with its URL.
  if (p === '/rest/media/video/upscale' && method === 'POST') {
    const body = await readJson<{ videoId?: string }>(req, 4096);
    const v = state.videos.get(String(body.videoId));
    if (!v || v.user !== user.name || v.deleted) return json(res, 404, { error: 'not_found' });
    if (!v.hd && v.upscaleStartedAt === undefined) v.upscaleStartedAt = Date.now();
    const waitMs = Math.max(0, (site.options.upscaleMs ?? site.options.generationMs / 2) - (Date.now() - v.upscaleStartedAt!));
    await new Promise((r) => setTimeout(r, waitMs + 5));
    if (!state.isHd(v)) return json(res, 503, { error: 'unavailable' });
    return json(res, 200, { hdMediaUrl: state.videoUrl(v, true) });
  }
  if (p === '/rest/imagine/images' && method === 'POST') {
    const body = await readJson(req, 64 * 1024);
    const r = generations.start(user, auth.token, 'image', String(body.prompt ?? ''), {});
    return json(res, r.status, r.body);
  }
  if (p === '/rest/imagine/upload' && method === 'POST') {
    const bytes = await readBody(req);
    if (bytes.length === 0) return json(res, 400, { error: 'empty', message: 'Empty upload' });
    const post = state.createPost(user.name, { kind: 'upload', bytes, contentType: req.headers['content-type'] ?? 'application/octet-stream' });
    return json(res, 200, { postId: post.postId, postUrl: `/imagine/post/${post.postId}` });
  }
  // What the account has left today, as Grok answers a signed-in session.
  if (p === '/rest/media/imagine/quota_info' && method === 'GET') return json(res, 200, state.quotaInfo(user));
  let m = /^\/rest\/imagine\/generations\/([0-9a-f-]{36})\/stream$/.exec(p);
  if (m && method === 'GET') {
    const g = generations.get(m[1]!);
    if (!g || g.user !== user.name) return json(res, 404, { error: 'not_found' });
    return generations.stream(g, user, auth.token, res);
  }
  m = /^\/rest\/imagine\/ab\/([0-9a-f-]{36})$/.exec(p);
  if (m && method === 'POST') {
    const g = generations.get(m[1]!);
    if (!g || g.user !== user.name || g.outcome !== 'choose') return json(res, 404, { error: 'not_found' });
    const body = await readJson<{ choice?: number }>(req, 4096);
    return json(res, 200, { video: state.videoView(generations.choose(g, body.choice)) });
  }
  m = /^\/rest\/imagine\/videos\/([0-9a-f-]{36})(\/upscale)?$/.exec(p);
  if (m) {
    const v = state.videos.get(m[1]!);
    if (!v || v.user !== user.name || v.deleted) return json(res, 404, { error: 'not_found' });
    if (m[2] && method === 'POST') {
      if (!v.hd && v.upscaleStartedAt === undefined) v.upscaleStartedAt = Date.now();
      return json(res, 200, { ok: true });
    }
    if (!m[2] && method === 'GET') {
      const hd = state.isHd(v);
      return json(res, 200, { videoId: v.videoId, hd, url: state.videoUrl(v), hdUrl: hd ? state.videoUrl(v, true) : null });
    }
    if (!m[2] && method === 'DELETE') {
      v.deleted = true;
      const post = state.posts.get(v.postId);
      if (post?.videoId === v.videoId) post.videoId = undefined;
      return json(res, 200, { ok: true });
    }
  }
  return json(res, 404, { error: 'not_found' });
}
