import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { CallbackTarget } from './callbackAddress';

/** `sha256=<hex HMAC-SHA256 of the raw body>`: what X-Grokflow-Signature carries. */
export function signBody(body: string, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs the body to the checked address and resolves with the HTTP status. Written on
 * node:http rather than fetch because fetch cannot be told which address to connect to
 * (that needs undici's Agent); pinning it keeps the address check of resolveCallback true.
 */
export function postJson(target: CallbackTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'grokflow-webhook', ...headers },
      timeout: timeoutMs,
      lookup: (_host, opts, cb) => {
        // Node asks for one address or, with autoSelectFamily, for all of them.
        if ((opts as { all?: boolean }).all) (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
        else cb(null, target.address, target.family);
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
