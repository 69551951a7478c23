import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError, type Config } from '../shared/config';
import { html, page } from './html';
import type { Sessions } from './sessions';

// The token wall. On loopback without WEB_TOKEN the console is open, as `psql` on the same
// machine is (other web pages are kept out by the Host and Origin checks of origin.ts);
// bound beyond loopback it does not start without a token, and then every request carries
// it: as a bearer header, or as the HttpOnly session cookie the login form sets (a session
// row that expires after WEB_SESSION_HOURS, ends at logout, and ends when WEB_TOKEN changes).

export const SESSION_COOKIE = 'grokflow_session';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  return bare === '::1';
}

/** WEB_TOKEN, or undefined when the console may run without one; throws when it may not. */
export function webToken(config: Pick<Config, 'WEB_HOST' | 'WEB_TOKEN'>): string | undefined {
  if (!config.WEB_TOKEN && !isLoopback(config.WEB_HOST)) {
    throw new ConfigError([`WEB_TOKEN: required when WEB_HOST (${config.WEB_HOST}) is not a loopback address; set one of 16+ characters, or WEB_PORT=0 to turn the console off`]);
  }
  return config.WEB_TOKEN;
}

function same(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** How a request proved itself: by bearer header (a script: no CSRF token needed), cookie, or not at all. */
export type AuthKind = 'bearer' | 'cookie' | 'open';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthKind;
  }
}

const PUBLIC = new Set(['/login', '/logout', '/static/style.css']);

export function registerAuth(app: FastifyInstance, token: string | undefined, sessions: Sessions | undefined): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!token) {
      req.auth = 'open';
      return;
    }
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && same(bearer, token)) {
      req.auth = 'bearer';
      return;
    }
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie !== undefined && sessions && (await sessions.valid(cookie))) {
      req.auth = 'cookie';
      return;
    }
    if (PUBLIC.has(req.url.split('?')[0]!)) return;
    // A person in a browser gets the login form; a script gets 401.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    }
    return reply.code(401).header('www-authenticate', 'Bearer realm="grokflow"').type('text/plain').send('the web console needs its token (WEB_TOKEN): log in at /login or send Authorization: Bearer <token>\n');
  });

  const loginPage = (reply: FastifyReply, next: string, error?: string) =>
    reply.type('text/html').send(page({ title: 'Log in', nav: false }, html`
      <h1>grokflow</h1>
      <form method="post" action="/login" class="login">
        <input type="hidden" name="_csrf" value="${reply.generateCsrf()}">
        <input type="hidden" name="next" value="${next}">
        <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        <button type="submit">Log in</button>
      </form>`));

  app.get('/login', async (req, reply) => loginPage(reply, localPath((req.query as { next?: string }).next)));
  app.post('/login', { preHandler: app.csrfProtection }, async (req, reply) => {
    const body = (req.body ?? {}) as { token?: string; next?: string };
    const next = localPath(body.next);
    if (!token) return reply.redirect(next, 303);
    if (typeof body.token !== 'string' || !same(body.token, token) || !sessions) return loginPage(reply.code(401), next, 'wrong token');
    reply.setCookie(SESSION_COOKIE, await sessions.open(), { httpOnly: true, sameSite: 'strict', secure: 'auto', path: '/', maxAge: sessions.maxAgeSeconds });
    return reply.redirect(next, 303);
  });
  // Ends this browser's session: its row goes, so the cookie is worthless even if kept.
  app.post('/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie !== undefined && sessions) await sessions.end(cookie);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
}

/** Only a path on this server: `next` must not send a logged-in user elsewhere. */
function localPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

/** CSRF check for form posts; a bearer request is a script, which no other site can forge. */
export function csrfUnlessBearer(app: FastifyInstance) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (req.auth === 'bearer') return done();
    app.csrfProtection(req, reply, done);
  };
}
