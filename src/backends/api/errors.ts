// What can go wrong talking to xAI's API, as the few kinds the backend acts on (docs/backends.md
// "Browser or API"): the key refused, a rate limit with its delay, a fault worth retrying,
// input xAI refuses (its own message kept), an answer of a shape we do not know.

export type XaiErrorKind =
  /** 401/403: the API key is missing, wrong or revoked. The job ends ERROR "API key rejected". */
  | 'authRequired'
  /** 429: wait `retryAfterMs` (xAI's Retry-After, or the caller's default). */
  | 'rateLimited'
  /** 5xx, a dropped connection, a timeout: the same call may work later. */
  | 'unavailable'
  /** 400 and other 4xx: xAI refuses the input; retrying the same input cannot help. */
  | 'invalidInput'
  /** 404 on a request id: xAI does not know it (wrong XAI_BASE_URL, or the id is gone). */
  | 'notFound'
  /** A 2xx whose body is not what xAI documents. */
  | 'unexpected';

export class XaiError extends Error {
  constructor(
    readonly kind: XaiErrorKind,
    message: string,
    readonly status?: number,
    /** rateLimited: how long xAI asked us to wait; undefined when it did not say. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'XaiError';
  }

  get retryable(): boolean {
    return this.kind === 'rateLimited' || this.kind === 'unavailable';
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** xAI's error text from either body shape it uses: `{ error: "…" }` or `{ error: { message } }`. */
export function errorText(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

/**
 * The error of a non-2xx answer. `scrub` removes the API key from xAI's text: an API may echo
 * the key it refused, and an error message ends up in job rows, logs and workflow histories.
 */
export function errorFromStatus(status: number, headers: Headers, body: unknown, what: string, scrub: (s: string) => string): XaiError {
  const said = scrub(errorText(body) ?? `HTTP ${status}`).slice(0, 500);
  if (status === 401 || status === 403) return new XaiError('authRequired', `API key rejected (HTTP ${status}: ${said})`, status);
  if (status === 429) return new XaiError('rateLimited', `rate limited by xAI (${said})`, status, retryAfterMs(headers.get('retry-after')));
  if (status >= 500) return new XaiError('unavailable', `xAI ${what} failed with HTTP ${status}: ${said}`, status);
  if (status === 404) return new XaiError('notFound', `xAI ${what}: not found (${said})`, status);
  return new XaiError('invalidInput', `xAI refused the ${what} (HTTP ${status}): ${said}`, status);
}
