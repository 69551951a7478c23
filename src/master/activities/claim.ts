import { Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import { databaseIdentity } from '../../shared/db/instance';
import { endJob } from '../../shared/jobs/endJob';
import { parsePayload, PayloadError } from '../../shared/payloads';
import { payloadRules } from '../../shared/payloadRules';
import { jobType as registryEntry, jobWorkflowIdParts } from '../../shared/registry';
import { capacityOf, lockAccounts, readFacts, refusalEndsInMs, textArray, type AccountFacts } from '../../slave/accounts/capacity';
import { reservationHolder } from '../../shared/jobs/reservation';
import { expirePending } from './deadline';
import { readPauses } from './pauses';
import type { ClaimInput, ClaimResult, DispatchJob, MasterDeps } from './types';
import { candidateAccounts, pendingWants, type WantGroup } from './wants';
import { grantSlots, pickInOrder, readWaiters, signalGrants, withWaiterWants, type Waiter } from './waiters';

/**
 * The capacity claim: a PENDING job is claimed only when an account can take it now (the
 * rule: src/slave/accounts/capacity.ts). Per want (the account or pool its jobs ask for),
 * in ONE transaction: the candidate accounts' rows are locked (slaves taking slots queue on
 * the same rows, so nobody sees the same free slot twice), their free starts counted, that
 * many jobs picked in claim order (priority, then age), each given a lease row on an
 * account (the reservation its workflow adopts), moved to INQUEUE with its events. A bad
 * payload ends ERROR naming the field, its reservation never made. Wants are independent:
 * one pool's backlog never holds up another's. Paused types and pools are skipped. Running
 * jobs waiting as rows (job_waits) take their place in the same order: waiters.ts.
 */
export function createClaim(deps: MasterDeps) {
  return async function claimJobs(input: ClaimInput): Promise<ClaimResult> {
    if (input.limit <= 0) return { jobs: [], invalid: 0 };
    const log = activityLogger(deps, input.jobType);
    const expired = input.expire ? await expirePending(deps, input.jobType) : 0;
    const pauses = await readPauses(deps.db);
    if (pauses.types.has(input.jobType)) return { jobs: [], invalid: 0, expired };
    const instance = await databaseIdentity(deps.db);
    const waiters = await readWaiters(deps.db, input.jobType, deps.config);
    const groups = withWaiterWants(await pendingWants(deps.db, input.jobType, deps.config), waiters);

    const jobs: DispatchJob[] = [];
    let invalid = 0;
    let waitMs: number | undefined;
    let left = input.limit;
    for (const group of groups) {
      if (left <= 0) break;
      if ('pool' in group.want && pauses.pools.has(group.want.pool)) continue;
      const got = await claimGroup(deps, input, group, left, instance, pauses.pools, waiters);
      jobs.push(...got.jobs);
      invalid += got.invalid;
      left -= got.jobs.length + got.invalid;
      if (got.waitMs !== undefined) waitMs = Math.min(waitMs ?? Number.POSITIVE_INFINITY, got.waitMs);
    }
    // Waiters given a slot learn it now (and any whose signal a killed master never sent).
    if (waiters.length > 0) await signalGrants({ ...deps, logger: log }, input.jobType, deps.config);
    if (jobs.length + invalid > 0) log.info({ claimed: jobs.length, invalid, groups: groups.length }, 'claimed PENDING jobs');
    // `invalid` lets the scheduler tell a full batch (more may wait) from a short one;
    // `waitMs`: when capacity frees by itself for jobs left waiting (the scheduler's timer).
    return { jobs, invalid, ...(waitMs !== undefined ? { waitMs } : {}), ...(expired ? { expired } : {}) };
  };
}

interface GroupClaim {
  jobs: DispatchJob[];
  invalid: number;
  /** Jobs of the group wait: capacity frees by itself in this many ms (none: only an event frees it). */
  waitMs?: number;
}

async function claimGroup(
  deps: MasterDeps, input: ClaimInput, group: WantGroup, limit: number, instance: string, pausedPools: Set<string>, waiters: Waiter[],
): Promise<GroupClaim> {
  const { db, config } = deps;
  const log = activityLogger(deps, input.jobType);
  const entry = registryEntry(input.jobType);
  const id = jobWorkflowIdParts(input.jobType, deps.workflowIdPrefix);
  const scheduler = input.scheduler ?? schedulerRunId();
  const names = (await candidateAccounts(db, config, group)).filter((n) => n);
  if (names.length === 0) return { jobs: [], invalid: 0 };
  const rejected: Array<{ jobId: number; payload: unknown }> = [];

  const result = await db.transaction(async (tx) => {
    await lockAccounts(tx, names);
    // An account of a paused pool takes no new job, whichever want names it.
    const facts = (await readFacts(tx, names)).filter((f) => !pausedPools.has(f.pool));
    // A pool's member must be logged in; a named account is tried anyway (its driver then
    // says "needs a new login", the job's error, as before pools).
    const requireLogin = 'pool' in group.want;
    const free: Array<{ f: AccountFacts; starts: number }> = [];
    for (const f of facts) {
      const c = capacityOf(f, config, { requireLogin });
      if (c.kind === 'free') free.push({ f, starts: c.starts });
    }
    const total = free.reduce((n, a) => n + a.starts, 0);
    if (total === 0) return { moved: [] as Array<{ id: number; workflow_id: string; account: string }>, waitMs: nextFreeMs(facts) };
    // Least busy first, then the one idle longest: work spreads over the pool. One start per
    // account per round, so two free accounts share a batch.
    free.sort((a, b) => a.f.inFlight - b.f.inFlight || (b.f.sinceStartMs ?? Infinity) - (a.f.sinceStartMs ?? Infinity) || a.f.name.localeCompare(b.f.name));
    const slots: string[] = [];
    for (let round = 0; slots.length < Math.min(total, limit); round++) {
      for (const a of free) if (a.starts > round && slots.length < limit) slots.push(a.f.name);
    }

    const picked = await pickInOrder(tx, input.jobType, group, waiters, slots.length);
    // Where a payload may point (imageUrl on the Grok driven, imagePath in IMAGES_DIR), with its schema.
    const rules = payloadRules(deps.config);
    const ids: number[] = [];
    const accounts: string[] = [];
    const grants: Array<{ id: number; account: string }> = [];
    let taken = 0;
    for (const row of picked) {
      if (row.waiter) {
        grants.push({ id: row.id, account: slots[taken++]! });
        continue;
      }
      try {
        parsePayload(entry.payloadSchema, row.payload, rules);
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err;
        // Never dispatched: the job ends here, the rest of the claim goes on.
        // endJob writes its callback's outbox row in this transaction.
        await endJob(tx, row.id, { status: 'ERROR', from: 'PENDING', message: err.message, detail: { by: 'master', reason: 'invalid payload' } });
        rejected.push({ jobId: row.id, payload: row.payload });
        log.child({ jobId: row.id }).warn({ error: err.message }, 'invalid payload: job moved to ERROR');
        continue;
      }
      ids.push(row.id);
      accounts.push(slots[taken++]!);
    }
    await grantSlots(tx, grants, config.RESERVATION_TTL_MS);
    if (ids.length === 0) return { moved: [], waitMs: picked.length < slots.length ? undefined : 0 };
    const ttlSecs = config.RESERVATION_TTL_MS / 1000;
    const { rows: moved } = await tx.execute<{ id: string; workflow_id: string; account: string }>(sql`
      WITH r AS (
        SELECT * FROM unnest(${`{${ids.join(',')}}`}::bigint[], ${textArray(accounts)}::text[]) AS r(id, account)
      ), moved AS (
        UPDATE jobs j
           SET status = 'INQUEUE', queued_at = now(), workflow_id = ${id.before}::text || j.id || ${id.after}::text,
               account = coalesce(j.account, r.account)
          FROM r
         WHERE j.id = r.id AND j.status = 'PENDING'
           -- A pause committed after this claim read job_pauses still holds: this statement's
           -- snapshot is the one that decides (a job inserted after its pause is never taken).
           AND NOT EXISTS (
             SELECT 1 FROM job_pauses p
              WHERE (p.scope = 'type' AND p.name = j.type)
                 OR (p.scope = 'pool' AND p.name = (SELECT a.pool FROM accounts a WHERE a.name = r.account)))
        RETURNING j.id, j.workflow_id, r.account, j.priority, j.created_at
      ), leases AS (
        INSERT INTO account_leases (account, holder, job_id, expires_at, unused)
        SELECT account, ${RESERVATION_PREFIX}::text || id, id, clock_timestamp() + make_interval(secs => ${ttlSecs}), true FROM moved
        ON CONFLICT (account, holder) DO UPDATE SET expires_at = EXCLUDED.expires_at, job_id = EXCLUDED.job_id, unused = true
      ), started AS (
        UPDATE accounts SET last_started_at = clock_timestamp() WHERE name IN (SELECT account FROM moved)
      ), events AS (
        INSERT INTO job_events (job_id, from_status, to_status, detail)
        SELECT id, 'PENDING', 'INQUEUE', jsonb_build_object('by', 'master', 'workflowId', workflow_id, 'account', account, 'scheduler', ${scheduler}::text)
        FROM moved
      )
      SELECT id, workflow_id, account FROM moved ORDER BY priority DESC, created_at, id`);
    const claimed = moved.map((m) => ({ id: Number(m.id), workflow_id: m.workflow_id, account: m.account }));
    // Fewer jobs than free starts: the group is drained. Otherwise more may wait: when
    // does an account free by itself now that these started (a gap, a cooldown, a lease)?
    if (picked.length < slots.length) return { moved: claimed, waitMs: undefined };
    return { moved: claimed, waitMs: nextFreeMs((await readFacts(tx, names)).filter((f) => !pausedPools.has(f.pool))) };
  });

  const jobs: DispatchJob[] = result.moved.map((m) => ({
    jobId: m.id,
    workflowId: m.workflow_id,
    instance,
    reservation: { account: m.account, holder: reservationHolder(m.id) },
  }));
  return { jobs, invalid: rejected.length, ...(result.waitMs !== undefined ? { waitMs: result.waitMs } : {}) };

  /** The soonest any of these accounts can take a job by itself (0: one can now), or undefined: only an event (a lease deleted, a login, a setting) frees one. */
  function nextFreeMs(facts: AccountFacts[]): number | undefined {
    let soonest: number | undefined;
    for (const f of facts) {
      const c = capacityOf(f, config, { requireLogin: 'pool' in group.want });
      const ends = c.kind === 'free' ? 0 : refusalEndsInMs(c);
      if (ends !== undefined) soonest = Math.min(soonest ?? Number.POSITIVE_INFINITY, ends);
    }
    return soonest;
  }
}

const RESERVATION_PREFIX = reservationHolder(0).slice(0, -1);

function schedulerRunId(): string | null {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? null;
  } catch {
    return null; // outside an activity
  }
}

/** A child of the master logger carrying the scheduler run's ids (when called from an activity). */
export function activityLogger(deps: MasterDeps, jobType: string) {
  let info: { workflowExecution?: { workflowId: string }; activityType: string } | undefined;
  try {
    info = Context.current().info;
  } catch {
    info = undefined; // called outside an activity (a test, the bench)
  }
  return deps.logger.child({
    jobType,
    ...(info ? { schedulerWorkflowId: info.workflowExecution?.workflowId, activity: info.activityType } : {}),
  });
}
