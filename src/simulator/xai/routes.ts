import type http from 'node:http';
import { json, readJson, send, serveMedia } from '../http';
import type { Answer, XaiStandIn } from './standIn';

// The stand-in's HTTP side: `/v1/…` as xAI's API (bearer key, JSON in and out) and
// `/xai-media/<token>/<file>`, the temporary, unauthenticated file URLs a done request names.

export interface XaiMedia {
  video: Buffer;
  image: Buffer;
}

export function isXaiPath(url: string | undefined): boolean {
  return /^\/(v1|xai-media)\//.test(url ?? '');
}

function answer(res: http.ServerResponse, a: Answer): void {
  send(res, a.status, JSON.stringify(a.body), 'application/json', a.headers);
}

export async function handleXai(xai: XaiStandIn, media: XaiMedia, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const u = new URL(req.url ?? '/', 'http://sim');
  const p = u.pathname;
  const method = req.method ?? 'GET';
  // Files are on their own origin at xAI; here the host the request came to.
  const origin = `http://${req.headers.host ?? '127.0.0.1'}`;

  const file = /^\/xai-media\/([0-9a-f-]{36})\/(video\.mp4|image\.jpg)$/.exec(p);
  if (file && (method === 'GET' || method === 'HEAD')) {
    const kind = xai.mediaFile(file[1]!, method === 'GET' && !req.headers.range);
    if (!kind || (kind === 'video') !== (file[2] === 'video.mp4')) return json(res, 404, { code: 'not_found', error: 'This URL has expired or never existed' });
    return kind === 'video' ? serveMedia(req, res, media.video, 'video/mp4') : serveMedia(req, res, media.image, 'image/jpeg');
  }

  const refused = xai.authorize(req.headers.authorization);
  if (refused) return answer(res, refused);
  xai.count(method, p);

  const batch = /^\/v1\/batches(?:\/([^/]+)(?:\/(requests|results))?)?$/.exec(p);
  if (batch) {
    const id = batch[1] === undefined ? undefined : decodeURIComponent(batch[1]);
    if (method === 'GET' && id && !batch[2]) return answer(res, xai.batches.get(id));
    if (method === 'GET' && id && batch[2] === 'requests') return answer(res, xai.batches.requests(id));
    if (method === 'GET' && id && batch[2] === 'results') return answer(res, xai.batches.results(id, origin, u.searchParams));
    if (method === 'POST' && (!id || batch[2] === 'requests')) {
      const body = await bodyOf(req);
      if ('status' in body) return answer(res, body);
      return answer(res, id ? xai.batches.add(id, body.json, origin) : xai.batches.create(body.json));
    }
  }

  if (method === 'POST' && (p === '/v1/videos/generations' || p === '/v1/videos/extensions' || p === '/v1/videos/edits' || p === '/v1/images/generations')) {
    let body: Record<string, unknown>;
    try {
      body = await readJson(req, 20 * 1024 * 1024);
    } catch {
      return answer(res, { status: 400, body: { code: 'invalid_argument', error: 'The body is not valid JSON' } });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return answer(res, { status: 400, body: { code: 'invalid_argument', error: 'The body must be a JSON object' } });
    }
    if (p === '/v1/images/generations') {
      const a = xai.submitImage(body, origin);
      if (a.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, a.delayMs));
      if (res.destroyed) return;
      return answer(res, a);
    }
    return answer(res, xai.submitVideo(p.slice('/v1/'.length) as 'videos/generations' | 'videos/extensions' | 'videos/edits', body));
  }
  const status = /^\/v1\/videos\/([^/]+)$/.exec(p);
  if (status && method === 'GET') return answer(res, xai.videoStatus(decodeURIComponent(status[1]!), origin));
  return answer(res, { status: 404, body: { code: 'not_found', error: `No route ${method} ${p}` } });
}

async function bodyOf(req: http.IncomingMessage): Promise<{ json: Record<string, unknown> } | Answer> {
  try {
    const json = await readJson(req, 64 * 1024 * 1024);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return { json: json as Record<string, unknown> };
  } catch {
    // answered below
  }
  return { status: 400, body: { code: 'invalid_argument', error: 'The body must be a JSON object' } };
}
