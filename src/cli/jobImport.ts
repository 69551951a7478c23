import { parse } from 'csv-parse/sync';
import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../shared/db/client';
import { jobs } from '../shared/db/schema';
import type { AccountConfig } from '../shared/jobs/account';
import type { PayloadRulesConfig } from '../shared/payloadRules';
import { CliError, ExitCode } from './context';
import { newJobValues } from './jobActions';

// Jobs from a spreadsheet (issue 25): one row a job, validated row by row with the schema
// `jobs add` uses, all or nothing by default. The CSV is read by csv-parse (quotes, commas
// and line breaks inside fields, a BOM: what spreadsheets write).

export type ImportFormat = 'csv' | 'jsonl';

/** Columns that are not payload fields. */
const ROW_COLUMNS = ['type', 'key', 'priority'] as const;
// A CSV cell is text; these payload fields are numbers or booleans in the schema.
const INTEGER_FIELDS = new Set(['count', 'extend', 'deadlineMinutes', 'minSuccessful']);
const BOOLEAN_FIELDS = new Set(['upscale', 'deleteAfterDownload']);

export interface ImportRow {
  /** The file's line the row starts on (the CSV header is line 1). */
  line: number;
  /** The row's fields as read (CSV cells are text; a JSONL line's values keep their types). */
  fields: Record<string, unknown>;
}

export interface ImportIssue {
  line: number;
  message: string;
}

export interface ImportPlan {
  rows: number;
  /** Valid rows, with the job each would add (its key, if any, not imported before). */
  valid: Array<{ line: number; key?: string; type: string; payload: Record<string, unknown>; values: ReturnType<typeof newJobValues> }>;
  /** Valid rows whose key was imported already: skipped, naming the job. */
  already: Array<{ line: number; key: string; jobId: number }>;
  invalid: ImportIssue[];
}

export interface ImportResult extends ImportPlan {
  /** The ids of the jobs added (none on a dry run or a refused file). */
  added: number[];
}

export function formatOf(fileName: string, content: string): ImportFormat {
  if (/\.jsonl$|\.ndjson$/i.test(fileName)) return 'jsonl';
  if (/\.csv$/i.test(fileName)) return 'csv';
  // A name without a telling extension (a pasted text): a first `{` is JSON lines.
  return content.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** The file's rows, each with its line; a file that is not CSV or JSON lines at all is refused whole. */
export function readRows(content: string, format: ImportFormat): ImportRow[] {
  if (format === 'jsonl') {
    const rows: ImportRow[] = [];
    content.split(/\r?\n/).forEach((text, i) => {
      if (!text.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        value = new Error(`not JSON: ${(err as Error).message}`);
      }
      // A bad line is that line's error, not the file's: --skip-invalid can leave it out.
      rows.push({ line: i + 1, fields: value instanceof Error || value === null || typeof value !== 'object' || Array.isArray(value)
        ? { __error: value instanceof Error ? value.message : 'must be a JSON object of payload fields' }
        : value as Record<string, unknown> });
    });
    return rows;
  }
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(content, { columns: true, bom: true, skip_empty_lines: true, trim: true, info: true }) as typeof records;
  } catch (err) {
    throw new CliError(`not a CSV file this can read: ${(err as Error).message}`, ExitCode.Usage);
  }
  // info.lines is the line a record ends on; a record with a quoted line break starts earlier.
  return records.map(({ record, info }) => ({ line: info.lines - Object.values(record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0), fields: record }));
}

/** A CSV row's cells as payload fields: empty cells left out, `prompts` split on `|`, numbers and booleans read. */
function payloadOf(fields: Record<string, unknown>, csv: boolean): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(fields)) {
    if ((ROW_COLUMNS as readonly string[]).includes(name)) continue;
    if (!csv) {
      payload[name] = raw;
      continue;
    }
    const value = String(raw ?? '');
    if (value === '') continue;
    if (name === 'prompts') payload[name] = value.split('|').map((p) => p.trim());
    else if (INTEGER_FIELDS.has(name) && /^-?\d+$/.test(value)) payload[name] = Number(value);
    else if (BOOLEAN_FIELDS.has(name) && /^(true|false)$/i.test(value)) payload[name] = value.toLowerCase() === 'true';
    else payload[name] = value; // a bad number or boolean stays text: the schema names the field
  }
  return payload;
}

/** Validates every row (nothing is written) and finds the keys imported before. */
export async function planImport(db: Db, config: AccountConfig & PayloadRulesConfig, rows: ImportRow[], o: { format: ImportFormat; type?: string }): Promise<ImportPlan> {
  const plan: ImportPlan = { rows: rows.length, valid: [], already: [], invalid: [] };
  const keyLines = new Map<string, number>();
  for (const row of rows) {
    const f = row.fields;
    if (typeof f.__error === 'string') {
      plan.invalid.push({ line: row.line, message: f.__error });
      continue;
    }
    const text = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
    const key = text(f.key);
    try {
      if (key !== undefined) {
        const first = keyLines.get(key);
        if (first !== undefined) throw new CliError(`key: "${key}" repeats line ${first}`, ExitCode.Usage);
        keyLines.set(key, row.line);
      }
      const type = text(f.type) ?? o.type ?? 'video';
      const values = newJobValues(config, { type, payload: JSON.stringify(payloadOf(f, o.format === 'csv')), priority: text(f.priority) });
      plan.valid.push({ line: row.line, key, type: values.type, payload: values.payload, values: { ...values, importKey: key ?? null } });
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      // The schema's message names the field (payload.count: …); the column names the rest.
      plan.invalid.push({ line: row.line, message: err.message.replace(/^--priority/, 'priority') });
    }
  }
  const keys = plan.valid.flatMap((v) => (v.key === undefined ? [] : [v.key]));
  if (keys.length) {
    const seen = await db.select({ id: jobs.id, key: jobs.importKey }).from(jobs).where(inArray(jobs.importKey, keys));
    const byKey = new Map(seen.map((s) => [s.key!, s.id]));
    plan.already = plan.valid.flatMap((v) => (v.key !== undefined && byKey.has(v.key) ? [{ line: v.line, key: v.key, jobId: byKey.get(v.key)! }] : []));
    plan.valid = plan.valid.filter((v) => v.key === undefined || !byKey.has(v.key));
  }
  return plan;
}

/** Every row's problem, one a line, for a refused file. */
export function issuesText(issues: ImportIssue[]): string {
  return issues.map((i) => `line ${i.line}: ${i.message}`).join('\n');
}

/**
 * Validates the file, then (not a dry run) adds its jobs in one transaction: with an invalid
 * row nothing is added unless `skipInvalid`. A key imported before (or by an import running
 * at the same moment: the unique index decides) adds nothing.
 */
export async function importJobs(db: Db, config: AccountConfig & PayloadRulesConfig, content: string, o: { fileName: string; type?: string; dryRun?: boolean; skipInvalid?: boolean }): Promise<ImportResult> {
  const format = formatOf(o.fileName, content);
  const rows = readRows(content, format);
  if (!rows.length) throw new CliError(`${o.fileName}: no rows to import`, ExitCode.Usage);
  const plan = await planImport(db, config, rows, { format, type: o.type });
  if (plan.invalid.length && !o.skipInvalid && !o.dryRun) {
    throw new CliError(`${o.fileName}: ${plan.invalid.length} of ${rows.length} row(s) invalid, nothing imported (--skip-invalid imports the others):\n${issuesText(plan.invalid)}`, ExitCode.Usage);
  }
  if (o.dryRun || !plan.valid.length) return { ...plan, added: [] };
  const added = await db.transaction(async (tx) => {
    const ids: number[] = [];
    for (const v of plan.valid) {
      const [row] = await tx.insert(jobs).values(v.values)
        .onConflictDoNothing({ target: jobs.importKey, where: sql`${jobs.importKey} IS NOT NULL` })
        .returning({ id: jobs.id });
      if (row) ids.push(row.id);
    }
    return ids;
  });
  return { ...plan, added };
}
