import os from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../shared/config';
import { isLoopback } from './auth';

// Who may talk to the console, decided before any handler (and before the token wall):
// - the Host header must name the console itself (WEB_HOST, loopback names when it listens
//   there, this machine's addresses when it listens on all of them) or a name the operator
//   allowed (WEB_ALLOWED_HOSTS). A DNS-rebinding page reaches 127.0.0.1 under its own name,
//   so its requests carry that name: 421.
// - a request that changes something must come from a page of the console: its Origin (or,
//   without one, its Referer) is the console's own origin or an allowed name; 403. A
//   script (curl) sends neither, and has no browser cookies for another site to ride on.

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A host name as compared here: lower case, no brackets, no trailing dot. */
function bare(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** The names the console answers to. */
export function allowedHostnames(config: Pick<Config, 'WEB_HOST' | 'WEB_ALLOWED_HOSTS'>): Set<string> {
  const names = new Set<string>((config.WEB_ALLOWED_HOSTS ?? []).map(bare));
  const host = bare(config.WEB_HOST);
  const wildcard = host === '0.0.0.0' || host === '::';
  if (!wildcard) names.add(host);
  if (wildcard || isLoopback(host)) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
  if (wildcard) {
    // Reached by this machine's own addresses or name: none of them is an attacker's DNS name.
    names.add(bare(os.hostname()));
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(bare(a.address));
  }
  return names;
}

/** `host[:port]` of a Host header, or undefined when it is not one. */
function hostOf(value: string | undefined): { hostname: string; host: string } | undefined {
  // Anything beyond host[:port] is not a Host header a browser sends.
  if (!value || /[\s/\\@?#]/.test(value)) return undefined;
  try {
    const u = new URL(`http://${value}`);
    return { hostname: bare(u.hostname), host: u.host };
  } catch {
    return undefined;
  }
}

/** The origin (scheme://host:port) a browser says a request comes from, or 'null'/undefined. */
function sourceOf(req: FastifyRequest): { header: 'origin' | 'referer'; value: string } | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return { header: 'origin', value: origin };
  const referer = req.headers.referer;
  if (referer !== undefined) return { header: 'referer', value: referer };
  return undefined;
}

export function registerOriginCheck(app: FastifyInstance, config: Pick<Config, 'WEB_HOST' | 'WEB_ALLOWED_HOSTS'>): void {
  const allowed = allowedHostnames(config);
  app.addHook('onRequest', async (req, reply) => {
    const host = hostOf(req.headers.host);
    if (!host || !allowed.has(host.hostname)) {
      return reply.code(421).type('text/plain').send(`this console does not answer to the name "${req.headers.host ?? ''}"; an operator may add it to WEB_ALLOWED_HOSTS\n`);
    }
    if (SAFE_METHODS.has(req.method)) return;
    const source = sourceOf(req);
    if (!source) return;
    let from: URL | undefined;
    try {
      from = source.value === 'null' ? undefined : new URL(source.value);
    } catch {
      from = undefined;
    }
    const sameOrigin = from !== undefined && /^https?:$/.test(from.protocol) && from.host === host.host;
    const allowedName = from !== undefined && /^https?:$/.test(from.protocol) && (config.WEB_ALLOWED_HOSTS ?? []).map(bare).includes(bare(from.hostname));
    if (!sameOrigin && !allowedName) {
      return reply.code(403).type('text/plain').send(`refused: a ${req.method} from another site (${source.header} ${from ? from.origin : source.value}); the console only takes changes from its own pages\n`);
    }
  });
}
