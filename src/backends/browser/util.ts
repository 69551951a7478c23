import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext, Locator } from 'playwright';
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

/** Why firstOf's losing waits were stopped: the race was decided. */
const RACE_DECIDED = new Error('race decided');

/**
 * Waits for the first of several waits to settle, each given a signal that aborts as soon as
 * the race is decided (or `signal` aborts): the losers stop at once, with their timers and
 * abort listeners. Promise.race alone leaves them running to their own bound, and a watch
 * loop that wakes every 100 ms piled up ten 1 s waits on the generation's signal.
 */
export async function firstOf(signal: AbortSignal | undefined, waits: Array<(signal: AbortSignal) => Promise<unknown>>): Promise<void> {
  signal?.throwIfAborted();
  const race = new AbortController();
  const onAbort = () => race.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const running = waits.map((wait) => wait(race.signal));
  try {
    await Promise.race(running);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    race.abort(RACE_DECIDED);
    for (const r of running) r.catch(() => {}); // a loser ends with RACE_DECIDED: not an error
  }
}

/** What pollUntil may wait on between probes instead of a fixed interval (pageChanges.ts). */
export interface Changes {
  /** Resolves at the next change, or after `ms` (what it resolves with is the implementation's). */
  next(ms: number, signal?: AbortSignal): Promise<unknown>;
}

/**
 * How long a page that shows no change goes unlooked at: the bound of a wait on its changes
 * (timeouts are checked, and what is not a DOM change still gets seen, once a second).
 */
export const QUIET_LOOK_MS = 1000;

/**
 * Calls `probe` until it returns a value; throws `onTimeout()` once `timeoutMs` have passed.
 * The one "wait until X, give up after T" loop of the page objects (a probe may itself throw
 * to end the wait early, e.g. on a blocking toast). Between probes it waits for `changes`
 * (the page's next change: a probe of an unchanged page would see nothing new) or, without
 * them, `pollMs`; either way at most one probe per `pollMs`, so a page that changes all the
 * time (an animation) costs no more than the fixed poll did.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal; onTimeout: () => Error; changes?: Changes },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const at = Date.now();
    const value = await probe();
    if (value !== undefined) return value;
    const now = Date.now();
    if (now > deadline) throw opts.onTimeout();
    if (opts.changes) await opts.changes.next(Math.min(QUIET_LOOK_MS, deadline - now + 1), opts.signal);
    const left = opts.pollMs - (Date.now() - at);
    if (left > 0) await sleep(left, opts.signal);
  }
}

/**
 * Types `text` into a prompt box. `fill` focuses the box itself; a click first would cost a
 * pointer round trip and Playwright's wait for the box to stand still, so it is made only when
 * the box takes no text until clicked (a placeholder that becomes the editor).
 */
export async function fillBox(box: Locator, text: string, timeoutMs: number): Promise<void> {
  try {
    await box.fill(text, { timeout: timeoutMs });
  } catch (err) {
    if (!(err instanceof Error) || !/not an <input>|not editable/i.test(err.message)) throw err;
    await box.click({ timeout: timeoutMs });
    await box.fill(text, { timeout: timeoutMs });
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
