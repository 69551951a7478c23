import type { FastifyInstance, FastifyReply, preHandlerHookHandler } from 'fastify';
import { BULK_VERBS, previewBulk, runBulk, type BulkVerb } from '../cli/bulkActions';
import { CliError, ExitCode } from '../cli/context';
import { importJobs } from '../cli/jobImport';
import { pauseScope, pauseTarget, resumeScope } from '../cli/pauseActions';
import type { Config } from '../shared/config';
import { listPauses } from '../shared/jobs/pauses';
import type { Logger } from '../shared/logger';
import { bulkPreviewPage, bulkResultPage } from './bulkPage';
import type { Html } from './html';
import { importDonePage, importPage, importPreviewPage, type ImportForm } from './importPage';
import { filterFromQuery } from './jobsPage';
import { pausesPage } from './pausesPage';
import type { WebDeps } from './server';

// The console's pages for operating many jobs (issue 25): bulk retry/cancel with a preview,
// pause and resume, import. Each calls the CLI's verbs, so both say and do the same.

export interface OpsRouteContext {
  deps: WebDeps;
  config: Config;
  log: Logger;
  send(reply: FastifyReply, title: string, body: Html): Promise<FastifyReply> | FastifyReply;
  fail(reply: FastifyReply, err: unknown): Promise<FastifyReply> | FastifyReply;
  guard: { preHandler: preHandlerHookHandler };
}

function verbOf(v: unknown): BulkVerb {
  if (typeof v === 'string' && (BULK_VERBS as readonly string[]).includes(v)) return v as BulkVerb;
  throw new CliError(`verb must be retry or cancel`, ExitCode.Usage);
}

export function registerOpsRoutes(app: FastifyInstance, c: OpsRouteContext): void {
  const { deps, config, log, send, fail, guard } = c;

  app.get<{ Querystring: Record<string, string> }>('/jobs/bulk', async (req, reply) => {
    try {
      const preview = await previewBulk(deps.db, config, verbOf(req.query.verb), filterFromQuery(req.query));
      return send(reply, `${preview.verb} jobs`, bulkPreviewPage(preview, reply.generateCsrf()));
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Body: Record<string, string> }>('/jobs/bulk', guard, async (req, reply) => {
    try {
      const body = req.body ?? {};
      const verb = verbOf(body.verb);
      const filter = filterFromQuery(body);
      const result = await runBulk(deps, verb, filter, 'web', config.WORKFLOW_ID_PREFIX);
      log.info({ bulk: result.bulkId, verb, filter, jobs: result.outcomes.length, by: 'web' }, 'bulk action');
      return send(reply, `${verb} jobs`, bulkResultPage(result, filter));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/pauses', async (_req, reply) => send(reply, 'Pauses', pausesPage(await listPauses(deps.db), reply.generateCsrf())));
  const pauseRoute = (path: string, act: (body: Record<string, string>) => Promise<string>) =>
    app.post<{ Body: Record<string, string> }>(path, guard, async (req, reply) => {
      try {
        const message = await act(req.body ?? {});
        log.info({ by: 'web' }, message);
        return send(reply, 'Pauses', pausesPage(await listPauses(deps.db), reply.generateCsrf(), message));
      } catch (err) {
        return fail(reply, err);
      }
    });
  pauseRoute('/pauses', (b) => pauseScope(deps, pauseTarget({ type: b.type || undefined, pool: b.pool || undefined }), { reason: b.reason, by: 'web' }));
  pauseRoute('/pauses/resume', (b) => resumeScope(deps, pauseTarget({ type: b.type || undefined, pool: b.pool || undefined })));

  app.get('/jobs/import', async (_req, reply) => send(reply, 'Import jobs', importPage(reply.generateCsrf())));
  app.post<{ Body: ImportForm }>('/jobs/import', guard, async (req, reply) => {
    const f = req.body ?? {};
    const csrf = reply.generateCsrf();
    try {
      if (!f.content?.trim()) throw new CliError('choose a file, or paste its rows', ExitCode.Usage);
      const o = { fileName: f.fileName || 'pasted', type: f.type, skipInvalid: Boolean(f.skipInvalid) };
      if (f.step !== 'import') {
        const preview = await importJobs(deps.db, config, f.content, { ...o, dryRun: true });
        return send(reply, 'Import preview', importPreviewPage(preview, f, csrf));
      }
      const done = await importJobs(deps.db, config, f.content, o);
      log.info({ added: done.added.length, invalid: done.invalid.length, file: o.fileName, by: 'web' }, 'jobs imported');
      return send(reply, 'Imported', importDonePage(done));
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      return send(reply.code(400), 'Import jobs', importPage(csrf, f, err.message));
    }
  });
}
