import fs from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply } from 'fastify';
import { CliError, ExitCode } from '../cli/context';
import { cancelJob, createJob, retryJob } from '../cli/jobActions';
import { projectPath, type Config } from '../shared/config';
import { secretScrubber } from '../shared/secrets';
import type { Db } from '../shared/db/client';
import type { Logger } from '../shared/logger';
import { accountsPage } from './accountsPage';
import { addForm, addJobPage, formToOptions } from './addJobPage';
import { storeUpload } from './upload';
import { payloadRules } from '../shared/payloadRules';
import { CHART_JS_FILE, chartJsDir } from './chartLibrary';
import { dashboardPage } from './dashboardPage';
import { galleryPage, type GalleryQuery } from './galleryPage';
import { csrfUnlessBearer, registerAuth, webToken } from './auth';
import { registerOriginCheck } from './origin';
import { webSessions } from './sessions';
import { JobEventHub, registerEvents } from './events';
import { registerFiles, type FileRoots } from './files';
import { html, page } from './html';
import { jobPage } from './jobPage';
import { registerOpsRoutes } from './opsRoutes';
import { pauseBanner } from './pausesPage';
import { listPauses } from '../shared/jobs/pauses';
import { filteredJobRow, jobsPage, type JobFilter } from './jobsPage';

export interface WebDeps {
  db: Db;
  logger: Logger;
  /** A Temporal client (for cancel); connected on first use. */
  temporal(): Promise<Client>;
  /** The Temporal Web UI to link workflows to (default: TEMPORAL_UI_URL, else the embedded dev server's). */
  temporalUiUrl?: string;
}

export interface WebConsole {
  url: string;
  close(): Promise<void>;
}

/** The Web UI the console links to, if it knows one. */
export function temporalUiUrl(config: Config): string | undefined {
  return config.TEMPORAL_UI_URL ?? (config.TEMPORAL_ADDRESS ? undefined : `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`);
}

// A user's mistake (bad form, unknown job, wrong state) is a page with its message and
// the status that fits; the messages are the CLI's.
const HTTP_STATUS: Record<number, number> = { [ExitCode.Usage]: 400, [ExitCode.NotFound]: 404, [ExitCode.Failure]: 409 };

/**
 * The web console on WEB_HOST:WEB_PORT (port 0 here: any free one). Refuses to start
 * bound beyond loopback without WEB_TOKEN.
 */
export async function startWeb(config: Config, deps: WebDeps, port = config.WEB_PORT): Promise<WebConsole> {
  const token = webToken(config);
  const log = deps.logger.child({ component: 'web' });
  const scrub = secretScrubber(config);
  const roots: FileRoots = { downloads: projectPath(config.DOWNLOADS_DIR), artifacts: projectPath(config.ARTIFACTS_DIR) };
  // The slaves create them on their first file; made here, a console started first serves them too.
  for (const root of Object.values(roots)) fs.mkdirSync(root, { recursive: true });
  const ui = deps.temporalUiUrl ?? temporalUiUrl(config);
  const temporalUi = ui ? { url: ui, namespace: config.TEMPORAL_NAMESPACE } : undefined;
  const hub = new JobEventHub(config.DATABASE_URL, log);
  await hub.start();

  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), forceCloseConnections: true });
  // First of all hooks: a request to a name that is not the console's, or a change asked by
  // another site's page, is refused before the token wall and any handler (origin.ts).
  registerOriginCheck(app, config);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  // The add form's image upload: every part into the body (files as Buffers, text as
  // strings), at most one file of WEB_UPLOAD_MAX_MB; checked and stored by upload.ts.
  const uploadMaxBytes = Math.floor(config.WEB_UPLOAD_MAX_MB * 1024 * 1024);
  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: uploadMaxBytes, files: 1, fields: 40, fieldSize: 1024 * 1024 },
    async onFile(part) {
      (part as unknown as { value: unknown }).value = await part.toBuffer();
    },
  });
  await app.register(fastifyCsrf, { cookieOpts: { httpOnly: true, sameSite: 'strict', path: '/', secure: 'auto' } });
  // Inline scripts never run: even a string that escaped escaping could not execute.
  app.addHook('onSend', async (_req, reply) => {
    if (!reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    }
    reply.header('x-content-type-options', 'nosniff');
    // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the
    // console's own form posts, and the origin check could not tell them from another site's.
    reply.header('referrer-policy', 'same-origin');
  });
  // Anything else is ours to log, not the browser's to read (a database error names tables).
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_REQ_FILE_TOO_LARGE') return reply.code(413).type('text/plain').send(`image: larger than ${config.WEB_UPLOAD_MAX_MB} MB (WEB_UPLOAD_MAX_MB)\n`);
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).type('text/plain').send(`${err.message}\n`);
    log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    return reply.code(500).type('text/plain').send('internal error: see the console\'s log\n');
  });
  registerAuth(app, token, token ? webSessions(deps.db, token, config.WEB_SESSION_HOURS) : undefined);
  await app.register(fastifyStatic, { root: path.join(__dirname, 'public'), prefix: '/static/', index: false, list: false });
  registerFiles(app, roots);
  registerEvents(app, hub);

  // Every page carries the pause banner while a type or pool is paused (src/web/pausesPage.ts).
  const send = async (reply: FastifyReply, title: string, body: ReturnType<typeof html>) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(page({ title, logout: reply.request.auth === 'cookie' ? reply.generateCsrf() : undefined, banner: pauseBanner(await listPauses(deps.db)) }, body));
  const fail = (reply: FastifyReply, err: unknown) => {
    if (!(err instanceof CliError)) throw err;
    return send(reply.code(HTTP_STATUS[err.exitCode] ?? 400), 'Error', html`<h1>Error</h1><p class="error" role="alert">${err.message}</p><p><a href="/">back to the jobs</a></p>`);
  };
  const guard = { preHandler: csrfUnlessBearer(app) };

  app.get('/', async (req, reply) => {
    try {
      return send(reply, 'Jobs', await jobsPage(deps.db, req.query as JobFilter));
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get<{ Params: { id: string }; Querystring: JobFilter }>('/jobs/:id/row', async (req, reply) => {
    if (!/^\d+$/.test(req.params.id)) return reply.code(400).send();
    const row = await filteredJobRow(deps.db, Number(req.params.id), req.query).catch(() => undefined);
    return row ? reply.type('text/html; charset=utf-8').send(row.text) : reply.code(204).send();
  });
  const addPage = { uploadMaxMb: config.WEB_UPLOAD_MAX_MB };
  const imagesDir = payloadRules(config).imagesDir;
  app.get('/jobs/new', async (_req, reply) => send(reply, 'Add a job', addJobPage(reply.generateCsrf(), addPage)));
  app.post('/jobs', guard, async (req, reply) => {
    const form = addForm(req.body);
    let image: string | undefined;
    try {
      image = await storeUpload((req.body as { image?: unknown } | undefined)?.image, imagesDir, uploadMaxBytes);
      const job = await createJob(deps.db, config, formToOptions(form, image));
      log.info({ jobId: job.id, type: job.type, by: 'web', upload: image !== undefined }, 'job added');
      return reply.redirect(`/jobs/${job.id}`, 303);
    } catch (err) {
      // A refused job leaves no stored upload behind.
      if (image) await fs.promises.rm(image, { force: true });
      if (!(err instanceof CliError)) throw err;
      return send(reply.code(400), 'Add a job', addJobPage(reply.generateCsrf(), addPage, form, err.message));
    }
  });
  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    try {
      const { title, body } = await jobPage({ db: deps.db, roots, temporalUi, workflowIdPrefix: config.WORKFLOW_ID_PREFIX, csrf: reply.generateCsrf(), scrub, config }, req.params.id);
      return send(reply, title, body);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Params: { id: string } }>('/jobs/:id/retry', guard, async (req, reply) => {
    try {
      const copy = await retryJob(deps.db, req.params.id);
      log.info({ jobId: copy.id, retryOf: copy.retryOf, by: 'web' }, 'job retried');
      return reply.redirect(`/jobs/${copy.id}`, 303);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', guard, async (req, reply) => {
    try {
      const outcome = await cancelJob(deps, req.params.id, 'web', config.WORKFLOW_ID_PREFIX);
      log.info({ jobId: outcome.job.id, workflowId: outcome.job.workflowId, by: 'web' }, outcome.message);
      return reply.redirect(`/jobs/${outcome.job.id}`, 303);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get('/accounts', async (_req, reply) => send(reply, 'Accounts', await accountsPage(deps.db, config)));
  registerOpsRoutes(app, { deps, config, log, send, fail, guard });
  app.get<{ Querystring: GalleryQuery }>('/gallery', async (req, reply) => {
    try {
      return send(reply, 'Gallery', await galleryPage(deps.db, roots.downloads, req.query));
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get('/dashboard', async (req, reply) => {
    try {
      return send(reply, 'Dashboard', await dashboardPage(deps.db, req.query));
    } catch (err) {
      return fail(reply, err);
    }
  });
  // The chart library, from node_modules: the console needs no CDN and works offline.
  app.get(`/static/vendor/${CHART_JS_FILE}`, async (_req, reply) => reply.header('cache-control', 'public, max-age=86400').sendFile(CHART_JS_FILE, chartJsDir()));

  try {
    await app.listen({ host: config.WEB_HOST, port });
  } catch (err) {
    await hub.close();
    throw err;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const host = config.WEB_HOST.includes(':') ? `[${config.WEB_HOST}]` : config.WEB_HOST;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${boundPort}`;
  log.info({ url, access: token ? 'WEB_TOKEN' : 'open (loopback)' }, 'web console listening');
  return {
    url,
    async close() {
      await hub.close();
      await app.close();
    },
  };
}
