import { formatUsd } from '../backends/api/cost';
import { previewBulk, runBulk, type BulkPreview, type BulkVerb } from './bulkActions';
import { CliError, ExitCode, type CliContext } from './context';
import { ago, json, table, truncate } from './format';
import { filterFlags, normalizeFilter, type JobFilter } from './jobFilter';
import { pauseScope, pauseTarget, resumeScope } from './pauseActions';
import { listPauses } from '../shared/jobs/pauses';
import { importJobs, issuesText } from './jobImport';

// The operator's commands of issue 25: bulk retry/cancel with a preview, pause and resume.

type Out = (text: string) => void;

/** How many of the preview's jobs are listed; the count and the cost cover all of them. */
const PREVIEW_ROWS = 50;

export function previewText(p: BulkPreview): string[] {
  const n = p.jobs.length;
  const cost = p.apiJobs ? `; ${p.apiJobs} api job(s), estimated ${formatUsd(p.estimateTicks)}` : '';
  const lines = [`${n} job(s) to ${p.verb}${cost}`];
  if (!n) return lines;
  lines.push(table(
    ['id', 'type', 'status', 'account', 'created', 'n', 'backend', 'estimate', 'prompt'],
    p.jobs.slice(0, PREVIEW_ROWS).map((c) => [
      c.job.id, c.job.type, c.job.status, c.job.account, ago(c.job.createdAt), c.summary.count, c.summary.backend,
      c.estimateTicks === undefined ? '' : formatUsd(c.estimateTicks), truncate(c.summary.prompt, 40),
    ]),
  ));
  if (n > PREVIEW_ROWS) lines.push(`… and ${n - PREVIEW_ROWS} more`);
  return lines;
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export type BulkOptions = JobFilter & { dryRun?: boolean; yes?: boolean; json?: boolean };

/**
 * `jobs retry|cancel` with filters: the preview, then (not --dry-run) the action once
 * confirmed, on a terminal by answering y, in a script by --yes.
 */
export async function bulkAction(ctx: CliContext, verb: BulkVerb, o: BulkOptions, out: Out): Promise<void> {
  const filter = normalizeFilter(o);
  const preview = await previewBulk(ctx.db, ctx.config, verb, filter);
  if (o.json && o.dryRun) {
    return out(json({ verb, filter, count: preview.jobs.length, apiJobs: preview.apiJobs, estimateTicks: preview.estimateTicks, estimate: formatUsd(preview.estimateTicks),
      jobs: preview.jobs.map((c) => ({ id: c.job.id, type: c.job.type, status: c.job.status, account: c.job.account, summary: c.summary, estimateTicks: c.estimateTicks ?? null })) }));
  }
  if (!o.json) for (const line of previewText(preview)) out(line);
  if (o.dryRun) {
    out(`dry run: nothing changed; to ${verb} them: grokflow jobs ${verb} ${filterFlags(filter)} --yes`);
    return;
  }
  if (!preview.jobs.length) return;
  if (!o.yes) {
    if (!process.stdin.isTTY) throw new CliError(`not a terminal to confirm on: add --yes to ${verb} these ${preview.jobs.length} job(s), or --dry-run to only look`, ExitCode.Usage);
    if (!(await confirm(`${verb} these ${preview.jobs.length} job(s)?`))) return out('nothing changed');
  }
  const result = await runBulk(ctx, verb, filter, 'cli', ctx.config.WORKFLOW_ID_PREFIX);
  if (o.json) return out(json(result));
  for (const r of result.outcomes) out(r.message);
  const acted = result.outcomes.filter((r) => r.result !== 'skipped').length;
  out(`${verb}: ${acted} job(s) acted on, ${result.outcomes.length - acted} skipped (${result.bulkId}, in each job's events)`);
}

export async function pauseCommand(ctx: CliContext, o: { type?: string; pool?: string; reason?: string }, out: Out): Promise<void> {
  out(await pauseScope(ctx, pauseTarget(o), { reason: o.reason, by: `cli:${process.env.USER ?? 'unknown'}` }));
}

export async function resumeCommand(ctx: CliContext, o: { type?: string; pool?: string }, out: Out): Promise<void> {
  out(await resumeScope(ctx, pauseTarget(o)));
}

export async function listPausesCommand(ctx: CliContext, o: { json?: boolean }, out: Out): Promise<void> {
  const pauses = await listPauses(ctx.db);
  if (o.json) return out(json(pauses));
  if (!pauses.length) return out('nothing is paused');
  out(table(['scope', 'name', 'since', 'by', 'reason'], pauses.map((p) => [p.scope, p.name, ago(p.pausedAt), p.pausedBy, p.reason])));
}

export async function importCommand(ctx: CliContext, file: string, o: { type?: string; dryRun?: boolean; skipInvalid?: boolean; json?: boolean }, out: Out): Promise<void> {
  const fs = await import('node:fs');
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.NotFound);
  }
  const r = await importJobs(ctx.db, ctx.config, content, { fileName: file, type: o.type, dryRun: o.dryRun, skipInvalid: o.skipInvalid });
  if (o.json) {
    return out(json({ rows: r.rows, added: r.added, valid: r.valid.map((v) => ({ line: v.line, key: v.key ?? null, type: v.type, payload: v.payload })), already: r.already, invalid: r.invalid }));
  }
  if (r.invalid.length) out(`${r.invalid.length} invalid row(s)${o.dryRun ? '' : ', left out'}:\n${issuesText(r.invalid)}`);
  for (const a of r.already) out(`line ${a.line}: key "${a.key}" imported already as job ${a.jobId}`);
  if (o.dryRun) return out(`dry run: ${r.valid.length} of ${r.rows} row(s) would be added; nothing changed`);
  out(`${r.added.length} job(s) added${r.added.length ? ` (ids ${r.added[0]}–${r.added[r.added.length - 1]})` : ''} of ${r.rows} row(s)`);
}
