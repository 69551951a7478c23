import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../shared/db/client';
import { filterWhere, filterWindow, type JobFilter } from './galleryFilter';

// Every query the dashboard draws, in one place. Each reads the jobs the filter selects
// (over `jobs`) within the window; the charts are plain arrays the page hands to the
// browser. Times are bucketed in UTC.

/** The days the dashboard covers when the filter names no start. */
export const DEFAULT_WINDOW_DAYS = 7;

export interface Dashboard {
  /** First and last instant covered (ISO). */
  from: string;
  to: string;
  jobsPerHour: Array<{ hour: string; status: string; n: number }>;
  moderation: Array<{ account: string; generations: number; moderated: number }>;
  spendPerDay: Array<{ day: string; account: string; ticks: number }>;
  durationPerDay: Array<{ day: string; p50: number; p95: number; n: number }>;
  totals: { jobs: number; p50Ms: number | null; p95Ms: number | null; spentTicks: number; generations: number; moderated: number };
}

/** The filter plus the window: without `since`, the last DEFAULT_WINDOW_DAYS days. */
function scope(f: JobFilter, items = false): SQL {
  const window = f.since ? sql`true` : sql`jobs.created_at >= now() - make_interval(days => ${DEFAULT_WINDOW_DAYS})`;
  return sql`${filterWhere(f, { items })} AND ${window}`;
}

// The hour a job counts in: when it ended if it has, else when it was added.
const JOB_HOUR = sql`date_trunc('hour', coalesce(jobs.completed_at, jobs.created_at) AT TIME ZONE 'UTC')`;
const JOB_DAY = sql`date_trunc('day', coalesce(jobs.completed_at, jobs.created_at) AT TIME ZONE 'UTC')`;
const ITEM_ACCOUNT = sql`coalesce(i.account, jobs.account, '(none)')`;
// A moderated generation: each regeneration the item needed, and its last one if it gave up.
const MODERATED = sql`i.moderation_retries + (i.status = 'CONTENT_MODERATED')::int`;
const GENERATIONS = sql`${MODERATED} + (i.status = 'COMPLETED')::int`;

const iso = (hour: string) => new Date(`${hour}Z`).toISOString();
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

export async function dashboard(db: Db, f: JobFilter): Promise<Dashboard> {
  const perHour = await db.execute<{ hour: string; status: string; n: number }>(sql`
    SELECT to_char(${JOB_HOUR}, 'YYYY-MM-DD"T"HH24:00:00') AS hour, jobs.status, count(*)::int AS n
      FROM jobs WHERE ${scope(f)} GROUP BY 1, 2 ORDER BY 1`);
  const moderation = await db.execute<{ account: string; generations: string; moderated: string }>(sql`
    SELECT ${ITEM_ACCOUNT} AS account, sum(${GENERATIONS}) AS generations, sum(${MODERATED}) AS moderated
      FROM job_items i JOIN jobs ON jobs.id = i.job_id
     WHERE i.status IN ('COMPLETED', 'CONTENT_MODERATED') AND ${scope(f, true)}
     GROUP BY 1 ORDER BY 1`);
  const spend = await db.execute<{ day: string; account: string; ticks: string }>(sql`
    SELECT to_char(${JOB_DAY}, 'YYYY-MM-DD') AS day, ${ITEM_ACCOUNT} AS account, sum(i.cost_ticks) AS ticks
      FROM job_items i JOIN jobs ON jobs.id = i.job_id
     WHERE i.cost_ticks IS NOT NULL AND ${scope(f, true)}
     GROUP BY 1, 2 ORDER BY 1, 2`);
  // Only jobs that ran to the end have a duration worth a percentile (duration_ms is set when a job ends).
  const durations = await db.execute<{ day: string; p50: number; p95: number; n: number }>(sql`
    SELECT to_char(${JOB_DAY}, 'YYYY-MM-DD') AS day,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY jobs.duration_ms) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY jobs.duration_ms) AS p95, count(*)::int AS n
      FROM jobs WHERE jobs.duration_ms IS NOT NULL AND ${scope(f)} GROUP BY 1 ORDER BY 1`);
  const totals = await db.execute<Record<string, unknown>>(sql`
    SELECT (SELECT count(*) FROM jobs WHERE ${scope(f)}) AS jobs,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY jobs.duration_ms) FROM jobs WHERE jobs.duration_ms IS NOT NULL AND ${scope(f)}) AS p50,
           (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY jobs.duration_ms) FROM jobs WHERE jobs.duration_ms IS NOT NULL AND ${scope(f)}) AS p95,
           (extract(epoch FROM now()) * 1000)::float8 AS now`);
  const t = totals.rows[0]!;
  const now = num(t.now);
  const window = filterWindow(f, new Date(now));
  const mod = moderation.rows.map((r) => ({ account: r.account, generations: num(r.generations), moderated: num(r.moderated) }));
  const spent = spend.rows.map((r) => ({ day: r.day, account: r.account, ticks: num(r.ticks) }));
  return {
    from: (window.since ?? new Date(now - DEFAULT_WINDOW_DAYS * 86_400_000)).toISOString(),
    to: (window.until ?? new Date(now)).toISOString(),
    jobsPerHour: perHour.rows.map((r) => ({ hour: iso(r.hour), status: r.status, n: r.n })),
    moderation: mod,
    spendPerDay: spent,
    durationPerDay: durations.rows.map((r) => ({ day: r.day, p50: num(r.p50), p95: num(r.p95), n: r.n })),
    totals: {
      jobs: num(t.jobs),
      p50Ms: t.p50 === null ? null : num(t.p50),
      p95Ms: t.p95 === null ? null : num(t.p95),
      spentTicks: spent.reduce((s, r) => s + r.ticks, 0),
      generations: mod.reduce((s, r) => s + r.generations, 0),
      moderated: mod.reduce((s, r) => s + r.moderated, 0),
    },
  };
}
