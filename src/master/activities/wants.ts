import { sql, type SQL } from 'drizzle-orm';
import type { Db, Executor } from '../../shared/db/client';
import { accountWant, type AccountConfig, type AccountWant } from '../../shared/jobs/account';
import { textArray } from '../../slave/accounts/capacity';
import type { LoginConfig } from '../../slave/accounts/logins';
import { poolMembers } from '../../slave/accounts/pool';

// The backlog grouped by what its jobs ask for (an account, or any account of a pool). The
// database gives the distinct payload keys accountWant reads (payload account, pool,
// backend: the partial index jobs_pending_want_idx, migrations 0009 and 0015); accountWant,
// the one home of the rule, turns each into a want. No SQL copy of the rule exists.

/** The payload keys accountWant reads, as the index holds them (null: not in the payload). */
export interface WantKeys {
  account: string | null;
  pool: string | null;
  backend: string | null;
}

export interface WantGroup {
  want: AccountWant;
  /** `account:<name>` or `pool:<name>`: one group per want. */
  key: string;
  keys: WantKeys[];
  /** An api job's account (its rows are made kind api, as startJob would). */
  api: boolean;
  /** The group's first job in claim order: groups are served oldest first. */
  priority: number;
  oldest: string;
}

export function wantKey(want: AccountWant): string {
  return 'account' in want ? `account:${want.account}` : `pool:${want.pool}`;
}

/** A payload key as the want index holds it: '' when the payload has none. */
const KEY = {
  account: sql.raw(`coalesce(payload->>'account', '')`),
  pool: sql.raw(`coalesce(payload->>'pool', '')`),
  backend: sql.raw(`coalesce(payload->>'backend', '')`),
};

/**
 * The first PENDING job (in claim order) of each combination of payload keys: a loose index
 * scan, each step the first index entry past the previous combination. As many probes as
 * combinations, where a GROUP BY read the whole backlog on every claim.
 */
export function wantHeadsQuery(jobType: string): SQL {
  const head = (after?: SQL) => sql`SELECT ${KEY.account} AS account, ${KEY.pool} AS pool, ${KEY.backend} AS backend, priority, created_at
      FROM jobs WHERE status = 'PENDING' AND type = ${jobType}${after ? sql` AND (${KEY.account}, ${KEY.pool}, ${KEY.backend}) > ${after}` : sql``}
     ORDER BY ${KEY.account}, ${KEY.pool}, ${KEY.backend}, priority DESC, created_at, id LIMIT 1`;
  return sql`WITH RECURSIVE heads AS (
    (${head()})
    UNION ALL
    SELECT next.* FROM heads h CROSS JOIN LATERAL (${head(sql`(h.account, h.pool, h.backend)`)}) next
  ) SELECT account, pool, backend, priority, created_at AS oldest FROM heads`;
}

/** The PENDING jobs of a type, grouped by want, the group whose head job comes first first. */
export async function pendingWants(db: Db, jobType: string, config: AccountConfig): Promise<WantGroup[]> {
  const { rows } = await db.execute<{ account: string; pool: string; backend: string; priority: number; oldest: string }>(wantHeadsQuery(jobType));
  const groups = new Map<string, WantGroup>();
  for (const r of rows) {
    const keys: WantKeys = { account: r.account || null, pool: r.pool || null, backend: r.backend || null };
    const want = accountWant({ account: keys.account ?? undefined, pool: keys.pool ?? undefined, backend: keys.backend ?? undefined }, config);
    const key = wantKey(want);
    const api = (keys.backend ?? config.GROK_BACKEND) === 'api';
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { want, key, keys: [keys], api, priority: r.priority, oldest: r.oldest });
      continue;
    }
    g.keys.push(keys);
    g.api ||= api;
    if (r.priority > g.priority || (r.priority === g.priority && r.oldest < g.oldest)) {
      g.priority = r.priority;
      g.oldest = r.oldest;
    }
  }
  return [...groups.values()].sort((a, b) => b.priority - a.priority || Date.parse(a.oldest) - Date.parse(b.oldest));
}

/** SQL: the job's payload keys are one of the group's (each term an equality the index serves). */
function keysMatch(k: WantKeys): SQL {
  return sql`${KEY.account} = ${k.account ?? ''} AND ${KEY.pool} = ${k.pool ?? ''} AND ${KEY.backend} = ${k.backend ?? ''}`;
}

export interface PendingRow {
  id: number;
  payload: unknown;
  /** Its place in claim order (a running job waiting as a row is ordered among them: waiters.ts). */
  priority: number;
  createdAt: Date;
}

/**
 * The group's first `limit` PENDING jobs in claim order (priority, then age, then id),
 * locked for this transaction; rows another transaction holds are skipped. One index range
 * per payload-key combination, each read in order and cut at `limit`.
 */
export async function pickPending(tx: Executor, jobType: string, group: WantGroup, limit: number): Promise<PendingRow[]> {
  const parts = group.keys.map((k) => sql`(SELECT id, priority, created_at FROM jobs
      WHERE status = 'PENDING' AND type = ${jobType} AND ${keysMatch(k)}
      ORDER BY priority DESC, created_at, id LIMIT ${limit})`);
  const { rows } = await tx.execute<{ id: string; payload: unknown; priority: number; created_at: Date }>(sql`
    WITH candidates AS (${sql.join(parts, sql` UNION ALL `)}),
    firsts AS (SELECT id FROM candidates ORDER BY priority DESC, created_at, id LIMIT ${limit})
    SELECT j.id, j.payload, j.priority, j.created_at FROM jobs j
     WHERE j.id IN (SELECT id FROM firsts) AND j.status = 'PENDING'
     ORDER BY j.priority DESC, j.created_at, j.id
     FOR UPDATE OF j SKIP LOCKED`);
  return rows.map((r) => ({ id: Number(r.id), payload: r.payload, priority: Number(r.priority), createdAt: new Date(r.created_at) }));
}

/**
 * The accounts that could take the group's jobs: the named account (its row made if
 * missing: kind api for an api job, as startJob would), or the pool's members (a saved
 * session and no login error; rows made for sessions that have none yet, so they can be
 * locked and leased).
 */
export async function candidateAccounts(db: Db, config: LoginConfig, group: WantGroup): Promise<string[]> {
  if ('account' in group.want) {
    await db.execute(sql`INSERT INTO accounts (name, kind) VALUES (${group.want.account}, ${group.api ? 'api' : 'browser'}) ON CONFLICT (name) DO NOTHING`);
    return [group.want.account];
  }
  const members = (await poolMembers(db, config, group.want.pool)).map((m) => m.name);
  if (members.length > 0) await db.execute(sql`INSERT INTO accounts (name) SELECT unnest(${textArray(members)}::text[]) ON CONFLICT (name) DO NOTHING`);
  return members;
}
