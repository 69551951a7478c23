import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { Db, Executor } from '../../shared/db/client';
import { accountWant, type AccountConfig, type AccountWant } from '../../shared/jobs/account';
import { CAPACITY_SIGNAL, reservationHolder, type CapacityGrant } from '../../shared/jobs/reservation';
import type { Logger } from '../../shared/logger';
import { textArray } from '../../slave/accounts/capacity';
import { pickPending, wantKey, type PendingRow, type WantGroup } from './wants';

// Running jobs that wait as rows (job_waits, migration 0014: a slot lost before the first
// item, or released by a rate limit while the pool was busy) get capacity from the same claim
// as PENDING jobs, in the same order (priority, then age): a waiter takes a free slot of its
// want before a younger PENDING job does. A grant is the lease `job/<id>` (unused, its start
// counted, like a reservation) written in the claim's transaction; no status moves and no
// child starts: the job's workflow is signalled `capacity` after the commit, and its item
// adopts the lease (which deletes the row). Until then the row stays, so a signal lost with a
// master killed after the commit is sent again by the next claim, and a grant whose lease ran
// out (a slave down) makes the job a waiter again.

const HOLDER_PREFIX = reservationHolder(0).slice(0, -1);

export interface Waiter {
  id: number;
  workflowId: string | null;
  priority: number;
  createdAt: Date;
  want: AccountWant;
  key: string;
  /** The account of a live slot the claim reserved for it already (not adopted yet); null: still waiting. */
  granted: string | null;
}

/** The type's running jobs waiting as rows, with the slot a claim reserved for them, if any. */
export async function readWaiters(db: Executor, jobType: string, config: AccountConfig): Promise<Waiter[]> {
  const { rows } = await db.execute<{
    id: string; workflow_id: string | null; priority: number; created_at: Date;
    account: string | null; pool: string | null; backend: string | null; granted: string | null;
  }>(sql`
    SELECT j.id, j.workflow_id, j.priority, j.created_at,
           j.payload->>'account' AS account, j.payload->>'pool' AS pool, j.payload->>'backend' AS backend,
           (SELECT l.account FROM account_leases l
             WHERE l.job_id = j.id AND l.holder = ${HOLDER_PREFIX}::text || j.id AND l.expires_at > clock_timestamp()
             LIMIT 1) AS granted
      FROM job_waits w JOIN jobs j ON j.id = w.job_id
     WHERE j.type = ${jobType} AND j.status IN ('INQUEUE', 'PROGRESS')`);
  return rows.map((r) => {
    const want = accountWant({ account: r.account ?? undefined, pool: r.pool ?? undefined, backend: r.backend ?? undefined }, config);
    return {
      id: Number(r.id), workflowId: r.workflow_id, priority: Number(r.priority), createdAt: new Date(r.created_at),
      want, key: wantKey(want), granted: r.granted,
    };
  });
}

/** The claim's groups with the waiters' wants added (a want only waiters ask for has no PENDING keys), in claim order. */
export function withWaiterWants(groups: WantGroup[], waiters: Waiter[]): WantGroup[] {
  const waiting = waiters.filter((w) => w.granted === null);
  if (waiting.length === 0) return groups;
  const byKey = new Map(groups.map((g) => [g.key, { ...g }]));
  for (const w of waiting) {
    const oldest = w.createdAt.toISOString();
    const g = byKey.get(w.key);
    if (!g) {
      byKey.set(w.key, { want: w.want, key: w.key, keys: [], api: false, priority: w.priority, oldest });
      continue;
    }
    if (w.priority > g.priority || (w.priority === g.priority && Date.parse(oldest) < Date.parse(String(g.oldest)))) {
      g.priority = w.priority;
      g.oldest = oldest;
    }
  }
  return [...byKey.values()].sort((a, b) => b.priority - a.priority || Date.parse(String(a.oldest)) - Date.parse(String(b.oldest)));
}

/** A row the claim hands a slot: a PENDING job (INQUEUE, a child) or a waiter (a grant, a signal). */
export type ClaimRow = PendingRow & { waiter?: true };

/**
 * The group's first `limit` jobs in claim order, its waiters among its PENDING jobs. A waiter
 * is locked for this transaction and skipped when a slave is writing its row or it holds a
 * live slot already (it took one itself).
 */
export async function pickInOrder(tx: Executor, jobType: string, group: WantGroup, waiters: Waiter[], limit: number): Promise<ClaimRow[]> {
  const pending = group.keys.length > 0 ? await pickPending(tx, jobType, group, limit) : [];
  const ids = waiters.filter((w) => w.key === group.key && w.granted === null).map((w) => w.id);
  if (ids.length === 0) return pending;
  const { rows } = await tx.execute<{ id: string; priority: number; created_at: Date }>(sql`
    SELECT j.id, j.priority, j.created_at FROM job_waits w JOIN jobs j ON j.id = w.job_id
     WHERE w.job_id = ANY(${`{${ids.join(',')}}`}::bigint[]) AND j.status IN ('INQUEUE', 'PROGRESS')
       AND NOT EXISTS (SELECT 1 FROM account_leases l
                        WHERE l.job_id = w.job_id AND l.holder = ${HOLDER_PREFIX}::text || w.job_id AND l.expires_at > clock_timestamp())
     FOR UPDATE OF w SKIP LOCKED`);
  const live: ClaimRow[] = rows.map((r) => ({ id: Number(r.id), payload: undefined, priority: Number(r.priority), createdAt: new Date(r.created_at), waiter: true }));
  return [...live, ...pending]
    .sort((a, b) => b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id)
    .slice(0, limit);
}

/** In the claim's transaction: each waiter's slot (the lease `job/<id>`, its start counted, as a reservation). */
export async function grantSlots(tx: Executor, grants: Array<{ id: number; account: string }>, ttlMs: number): Promise<void> {
  if (grants.length === 0) return;
  await tx.execute(sql`
    WITH r AS (
      SELECT * FROM unnest(${`{${grants.map((g) => g.id).join(',')}}`}::bigint[], ${textArray(grants.map((g) => g.account))}::text[]) AS r(id, account)
    ), leases AS (
      INSERT INTO account_leases (account, holder, job_id, expires_at, unused)
      SELECT account, ${HOLDER_PREFIX}::text || id, id, clock_timestamp() + make_interval(secs => ${ttlMs / 1000}), true FROM r
      ON CONFLICT (account, holder) DO UPDATE SET expires_at = EXCLUDED.expires_at, job_id = EXCLUDED.job_id, unused = true
    )
    UPDATE accounts SET last_started_at = clock_timestamp() WHERE name IN (SELECT account FROM r)`);
}

/**
 * After the claim: signals `capacity` to every waiter of the type holding a slot it has not
 * taken yet (the ones just granted, and any whose signal was lost). A workflow already gone
 * is no error: the reconciler ends its job.
 */
export async function signalGrants(deps: { db: Db; client: Client; logger: Logger }, jobType: string, config: AccountConfig): Promise<number> {
  const granted = (await readWaiters(deps.db, jobType, config)).filter((w) => w.granted !== null && w.workflowId);
  await Promise.all(granted.map(async (w) => {
    const grant: CapacityGrant = { account: w.granted! };
    try {
      await deps.client.workflow.getHandle(w.workflowId!).signal(CAPACITY_SIGNAL, grant);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      // The row stays: the next claim (a wake, or the cron tick) signals again.
      deps.logger.warn({ jobId: w.id, workflowId: w.workflowId, err: (err as Error).message }, 'could not signal a granted slot; the next claim tries again');
    }
  }));
  if (granted.length > 0) deps.logger.info({ jobType, jobs: granted.map((w) => w.id) }, 'slots handed to running jobs waiting as rows');
  return granted.length;
}
