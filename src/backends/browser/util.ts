import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext } from 'playwright';
import type { DownloadedFile } from './types';
import { failed } from './types';
import { SECRET_KEYS } from '../../shared/secrets';

// `name=value` or `name: value` of any secret-named field (secrets.ts), and Grok's `sso` cookie.
const SECRET_PAIR = new RegExp(`(${['sso', ...SECRET_KEYS].map((k) => k.replace(/[-]/g, '\\-')).join('|')})[^,;\\s]*[=:]\\s*(?:(?:Bearer|Basic)\\s+)?\\S+`, 'gi');

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `probe` every `pollMs` until it returns a value; throws `onTimeout()` once `timeoutMs`
 * have passed. The one "wait until X, give up after T" loop of the page objects (a probe may
 * itself throw to end the wait early, e.g. on a blocking toast).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal; onTimeout: () => Error },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw opts.onTimeout();
    await sleep(opts.pollMs, opts.signal);
  }
}

export async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}


/**
 * Downloads `url` with the context's cookies to `target` (atomically: a .part file then a
 * rename), replacing what is there: a file already at `target` comes from an earlier
 * generation, maybe another database's job of the same id. Reusing a finished download is
 * the driver's sidecar check (GrokDriver.reuse), which knows whose file it is.
 */
export async function downloadTo(
  request: APIRequestContext,
  url: string,
  target: string,
  opts: { timeoutMs: number; expect?: RegExp },
): Promise<DownloadedFile & { reused: boolean }> {
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  const res = await request.get(url, { timeout: opts.timeoutMs, failOnStatusCode: false });
  if (res.status() === 401 || res.status() === 403) throw failed(`download refused (HTTP ${res.status()})`, false);
  if (!res.ok()) throw failed(`download failed (HTTP ${res.status()})`, true);
  const type = res.headers()['content-type'] ?? '';
  if (opts.expect && !opts.expect.test(type)) throw failed(`download is ${type || 'untyped'}, not media`, true);
  const body = await res.body();
  if (body.length === 0) throw failed('download is empty', true);
  const part = `${target}.${process.pid}.part`;
  await fs.promises.writeFile(part, body);
  await fs.promises.rename(part, target);
  return {
    mediaUrl: url,
    filePath: target,
    sha256: crypto.createHash('sha256').update(body).digest('hex'),
    bytes: body.length,
    reused: false,
  };
}

/** `a/b/video.mp4` → `a/b/video_hd.mp4`; `a/b/img.jpg`, 2 → `a/b/img-2.jpg`. */
export function withSuffix(file: string, suffix: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}${suffix}${ext}`;
}

/** Strips anything that could be a secret from an error message, and shortens it. */
export function safeMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return raw
    .split('\n')[0]!
    .replace(SECRET_PAIR, '$1=[redacted]')
    .slice(0, 300);
}
