import type { Config } from './config';

// The one list of what is secret in grokflow. The logger's redaction, the error scrubber,
// the trace scrubber and the console's pages all read it, so a new secret setting is
// added here once and is hidden everywhere.

/** Settings whose whole value is a secret. */
export const SECRET_SETTINGS = ['WEB_TOKEN', 'WEBHOOK_SECRET', 'AWS_SECRET_ACCESS_KEY', 'XAI_API_KEY'] as const satisfies ReadonlyArray<keyof Config>;

/**
 * Settings that hold URLs whose password part is a secret. (SIMULATOR_USERS is not one: its
 * passwords open the simulator's made-up accounts only, and its default, `secret`, would
 * blank an ordinary word in every prompt shown.)
 */
export const PASSWORD_SETTINGS = ['DATABASE_URL', 'S3_ENDPOINT', 'GROK_BASE_URL', 'SIMULATOR_URL', 'XAI_BASE_URL', 'TEMPORAL_UI_URL'] as const satisfies ReadonlyArray<keyof Config>;

/**
 * Keys whose value is secret wherever they appear in an object (a log line, a trace event):
 * session cookies, storage states (a saved login is its cookies), credentials.
 */
export const SECRET_KEYS = [
  'cookie', 'cookies', 'set-cookie', 'storageState', 'authorization', 'proxy-authorization', 'password', 'token', 'apiKey', 'secret',
  ...SECRET_SETTINGS,
] as const;

export const REDACTED = '[redacted]';

/** The secret values a configuration holds: every secret setting and every password in a URL. */
export function secretValues(config: Partial<Config>): string[] {
  const values = new Set<string>();
  for (const name of SECRET_SETTINGS) {
    const v = config[name];
    if (typeof v === 'string' && v) values.add(v);
  }
  for (const name of PASSWORD_SETTINGS) {
    const v = config[name];
    if (typeof v !== 'string' || !v) continue;
    const password = urlPassword(v);
    if (password) values.add(password);
  }
  // Too short a value would blank ordinary words; such a "secret" protects nothing anyway.
  return [...values].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
}

function urlPassword(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    return undefined;
  }
}

// user:password@ in any URL, and every query value of a callbackUrl (a receiver's token
// often rides there): masked whether or not the value is a known setting.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]*):[^\s/@"'<>]*@/gi;

/** A URL's query values masked: `https://h/cb?token=abc` → `https://h/cb?token=***`. */
export function maskUrlQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const masked = query.split('&').map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=***` : pair ? '***' : pair)).join('&');
  return `${url.slice(0, q)}?${masked}${hash < 0 ? '' : '#***'}`;
}

/** callbackUrl values anywhere in a text (a JSON payload, an event, a log line), their query masked. */
function maskCallbackUrls(text: string): string {
  return text.replace(/("?callbackUrl"?\s*[:=]\s*\\?"?)(https?:\/\/[^\s"\\]+)/g, (_m, lead: string, url: string) => `${lead}${maskUrlQuery(url)}`);
}

/** A scrubber for one configuration's secrets: every known value, URL passwords and callbackUrl queries. */
export function secretScrubber(config: Partial<Config>): (text: string) => string {
  const values = secretValues(config);
  // A value may also appear JSON-escaped or URL-encoded.
  const forms = [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)]))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const v of forms) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return maskCallbackUrls(out.replace(URL_PASSWORD, `$1:${REDACTED}@`));
  };
}

/** A payload as the console shows it: callbackUrl's query values masked. */
export function displayPayload(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const p = payload as Record<string, unknown>;
  return typeof p.callbackUrl === 'string' ? { ...p, callbackUrl: maskUrlQuery(p.callbackUrl) } : p;
}
