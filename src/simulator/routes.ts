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

// -- REST API used by the page's own script ------------------------------------------
async function handleRest(site: Site, req: http.IncomingMessage, res: http.ServerResponse, p: string, method: string, auth: SignedIn): Promise<void> {
  const { state, generations } = site;
  const user = auth.user;
  // A video generation: started here, its progress streamed by a second request (classic), or
  // ('stream' variant, as Grok's) started and streamed in one response.
  const conversation = p === '/rest/app-chat/conversations/new';
  if ((p === '/rest/imagine/generate' || conversation) && method === 'POST') {
    const body = await readJson(req, 64 * 1024);
    const post = state.posts.get(String(body.postId));
    if (!post) return json(res, 404, { error: 'not_found' });
    const r = generations.start(user, auth.token, 'video', String(body.prompt ?? ''), { postId: post.postId, ...startOptions(body) });
    if (r.status !== 200 || !conversation) return json(res, r.status, r.body);
    return generations.stream(generations.get((r.body as { generationId: string }).generationId)!, user, auth.token, res, 'conversation');
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
