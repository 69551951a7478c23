import type { APIRequestContext } from 'playwright';
import type { ServiceQuota } from '../types';

// What Grok itself says an account has left: GET /rest/media/imagine/quota_info answers a
// signed-in session with its remaining generations. Read with the session's own cookies (the
// context's request client: no page, no rendering) when the account starts work and by
// `accounts check`, so the pool can skip an account with none left before Grok answers
// "Rate limit reached". Any other answer (not signed in, an older Grok without the endpoint,
// a shape not understood) is "not known", never a guess.

export const QUOTA_INFO_PATH = '/rest/media/imagine/quota_info';

/** Grok's answer; field names vary between its versions, so each is read from the ones seen. */
export function parseQuotaInfo(body: unknown, now = Date.now()): ServiceQuota | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const num = (...keys: string[]) => keys.map((k) => b[k]).find((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const left = num('remainingQueries', 'remaining', 'left');
  if (left === undefined || left < 0) return undefined;
  const total = num('totalQueries', 'total', 'limit');
  const windowS = num('windowSizeSeconds', 'windowSeconds');
  const resetsAt = typeof b.resetsAt === 'string' && !Number.isNaN(Date.parse(b.resetsAt))
    ? new Date(b.resetsAt).toISOString()
    : windowS !== undefined ? new Date(now + windowS * 1000).toISOString() : undefined;
  return { left: Math.floor(left), ...(total !== undefined ? { total: Math.floor(total) } : {}), ...(resetsAt ? { resetsAt } : {}) };
}

/** Reads quota_info for the session behind `request`; undefined when Grok does not say. */
export async function readQuota(request: APIRequestContext, baseUrl: string, timeoutMs: number): Promise<ServiceQuota | undefined> {
  try {
    const res = await request.get(new URL(QUOTA_INFO_PATH, baseUrl).toString(), { timeout: timeoutMs, failOnStatusCode: false });
    if (!res.ok()) return undefined;
    return parseQuotaInfo(await res.json());
  } catch {
    return undefined;
  }
}
