import type http from 'node:http';

// Plain node:http helpers: responses, cookies, request bodies and range-capable media.

export function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export const html = (res: http.ServerResponse, status: number, doc: string, headers: http.OutgoingHttpHeaders = {}) =>
  send(res, status, doc, 'text/html; charset=utf-8', headers);

export const json = (res: http.ServerResponse, status: number, body: unknown) =>
  send(res, status, JSON.stringify(body), 'application/json');

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export async function readBody(req: http.IncomingMessage, limit = 20 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A JSON request body; an empty body reads as `{}`. */
export async function readJson<T = Record<string, unknown>>(req: http.IncomingMessage, limit: number): Promise<T> {
  return JSON.parse((await readBody(req, limit)).toString('utf8') || '{}') as T;
}

export function serveMedia(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, type: string): void {
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
