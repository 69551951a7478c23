import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { JOB_STATUSES, jobs, type Job, type JobStatus } from '../shared/db/schema';
import { jobPoolSql } from '../shared/jobs/account';
import { CliError, ExitCode } from './context';
import { resolveType } from './jobInput';

// Which jobs a user means: the one filter `jobs list`, the bulk actions (CLI and console) and
// the console's jobs list share. Each field is text as typed (a flag, a query string field).

export interface JobFilter {
  status?: string;
  type?: string;
  account?: string;
  pool?: string;
  /** Words of a prompt: jobs whose prompt (or one of its prompts) contains this text. */
  search?: string;
  /** Created at or after: an ISO date or time, or an age such as 90m, 12h, 7d. */
  since?: string;
  /** Created before: same forms as `since`. */
  until?: string;
}

export const FILTER_FIELDS = ['status', 'type', 'account', 'pool', 'search', 'since', 'until'] as const satisfies ReadonlyArray<keyof JobFilter>;

/**
 * A job's prompt text, as migration 0013's trigram index (jobs_prompt_trgm_idx) is built on:
 * the same expression, character for character, or PostgreSQL cannot use the index.
 */
export const PROMPT_TEXT = sql.raw(`(coalesce(payload->>'prompt', '') || ' ' || coalesce(payload->>'prompts', ''))`);

/** `\`, `%` and `_` match themselves in the ILIKE pattern: a search is text, not a pattern. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const AGE = /^(\d+)\s*(m|min|h|d|w)$/i;
const AGE_MS: Record<string, number> = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A --since/--until value as a time: an age before `now`, or an ISO date (UTC midnight) or time. */
export function parseWhen(value: string, flag: string, now = new Date()): Date {
  const age = AGE.exec(value.trim());
  if (age) return new Date(now.getTime() - Number(age[1]) * AGE_MS[age[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const d = new Date(value.trim());
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new CliError(`${flag} must be a date (2026-12-01), a time (2026-12-01T18:00Z) or an age (90m, 12h, 7d), got "${value}"`, ExitCode.Usage);
}

/**
 * The filter with empty fields dropped and its values checked: a bad one is named (exit 2)
 * as the caller calls it, `--status` on the command line (prefix '--'), `status` in a form.
 */
export function normalizeFilter(f: JobFilter, prefix = '--'): JobFilter {
  const out: JobFilter = {};
  for (const key of FILTER_FIELDS) {
    const v = typeof f[key] === 'string' ? f[key]!.trim() : undefined;
    if (v) out[key] = v;
  }
  if (out.status) {
    const status = out.status.toUpperCase();
    if (!(JOB_STATUSES as readonly string[]).includes(status)) throw new CliError(`${prefix}status must be one of ${JOB_STATUSES.join(', ')}, got "${out.status}"`, ExitCode.Usage);
    out.status = status;
  }
  if (out.type) out.type = resolveType(out.type);
  if (out.since) parseWhen(out.since, `${prefix}since`);
  if (out.until) parseWhen(out.until, `${prefix}until`);
  return out;
}

/** The filter as a WHERE condition on `jobs` (undefined: every job). */
export function jobFilterSql(filter: JobFilter, now = new Date()): SQL | undefined {
  const f = normalizeFilter(filter);
  const conditions: SQL[] = [];
  if (f.status) conditions.push(eq(jobs.status, f.status as JobStatus));
  if (f.type) conditions.push(eq(jobs.type, f.type));
  if (f.account) conditions.push(eq(jobs.account, f.account));
  if (f.pool) conditions.push(sql`${jobPoolSql()} = ${f.pool}`);
  if (f.search) conditions.push(sql`${PROMPT_TEXT} ILIKE ${likeContains(f.search)}`);
  if (f.since) conditions.push(gte(jobs.createdAt, parseWhen(f.since, 'since', now)));
  if (f.until) conditions.push(lt(jobs.createdAt, parseWhen(f.until, 'until', now)));
  return conditions.length ? and(...conditions) : undefined;
}

/** The filter as a query string (the console's links and forms keep it). */
export function filterQuery(f: JobFilter): string {
  return new URLSearchParams(FILTER_FIELDS.filter((k) => f[k]).map((k) => [k, f[k]!])).toString();
}

/** The filter as the CLI's flags, e.g. for a dry run's "run again without --dry-run". */
export function filterFlags(f: JobFilter): string {
  return FILTER_FIELDS.filter((k) => f[k]).map((k) => `--${k} ${/^[\w:.,@/-]+$/.test(f[k]!) ? f[k] : JSON.stringify(f[k])}`).join(' ');
}

export interface JobSummary {
  /** The first prompt, or the image the video starts from. */
  prompt: string;
  /** How many videos or images the job makes. */
  count: number;
  /** The backend it ran on; before it starts, the one its payload names (else the default). */
  backend: string;
}

/** What a job is, in one line's worth: read from its payload. */
export function jobSummary(job: Pick<Job, 'payload' | 'backend'>): JobSummary {
  const p = (job.payload ?? {}) as { prompt?: unknown; prompts?: unknown; count?: unknown; imageUrl?: unknown; imagePath?: unknown; backend?: unknown };
  const prompts = Array.isArray(p.prompts) ? p.prompts.filter((x): x is string => typeof x === 'string') : [];
  const prompt = typeof p.prompt === 'string' ? p.prompt : prompts[0] ?? (typeof p.imageUrl === 'string' ? p.imageUrl : typeof p.imagePath === 'string' ? p.imagePath : '');
  const count = prompts.length || (typeof p.count === 'number' ? p.count : 1);
  const backend = job.backend ?? (typeof p.backend === 'string' ? p.backend : 'default');
  return { prompt, count, backend };
}
