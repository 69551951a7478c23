// Workflow code (the master's sandbox): the dispatcher, one long run per job type to which the
// master's listener hands the jobs it claimed itself (src/master/directClaim.ts). Deterministic
// only; what touches Postgres is an activity.
import { condition, continueAsNew, defineSignal, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SchedulerInput } from '../shared/workflowInputs';
import type { DispatchJob } from './activities';
import { masterActivities, startSlave, type StartOutcome } from './startSlave';

/** What one direct claim hands over: ids and reservations only, never a payload or a secret. */
export interface DispatchBatch {
  /** Claimed (INQUEUE, a slot reserved), in claim order: start them. */
  jobs: DispatchJob[];
  /**
   * Jobs were left waiting and an account frees by itself in this many ms (a cooldown or a
   * gap ends, a lease runs out): claim then. The one durable timer of the direct path.
   */
  waitMs?: number;
}

/** Sent by the master's listener with signalWithStart, after each direct claim. */
export const dispatchSignal = defineSignal<[DispatchBatch]>('dispatch');

export interface DispatcherInput extends SchedulerInput {
  /** Claimed and not yet started when the previous run continued as new. */
  carried?: DispatchJob[];
  /** The previous run's capacity timer, in ms from this run's start. */
  wakeInMs?: number;
  /** How long a run with nothing to start and no timer waits for a batch before it ends. */
  idle: Duration;
  /** The run's history budget (DISPATCHER_RUN_EVENTS; a test makes it small to see runs chain). */
  runEvents?: number;
}

export interface DispatcherResult {
  started: number;
  /** Workflow id already taken: counted as started, never started twice. */
  alreadyStarted: number;
  /** Workflow id taken by another database's workflow: the job was moved to ERROR. */
  conflicts: number;
  /** Claimed by this run itself, when its capacity timer fired. */
  claimed: number;
}

/**
 * A run's history budget: it takes no more jobs once its events plus the events its starts
 * in flight can still add reach this, then continues as new (well under Temporal's 10,240
 * warning; what arrives while it finishes its starts is a few signals).
 */
export const DISPATCHER_RUN_EVENTS = 6000;
/**
 * The most events one child start can add: its initiated and started events, and a workflow
 * task (scheduled, started, completed) when the started event comes alone.
 */
export const EVENTS_PER_START = 5;
/**
 * Child starts in flight at once. Temporal keeps every pending child start in the workflow's
 * mutable state and writes it again with each event: a backlog of 1,000 started at once made
 * each start dearer (quiet machine: 47 starts/s, 21 s for 1,000, against 141/s for the
 * scheduler's 100 at a time). 100 keeps that state small and the starts overlapping.
 */
export const STARTS_IN_FLIGHT = 100;
/** A little after the moment a claim named, so the next claim finds the cooldown or gap over. */
const AFTER_MS = 20;

/**
 * Starts every job a batch brings as soon as it comes (never waiting for the previous batch's
 * starts), in order for a `sequential` type. A claim's `waitMs` becomes one durable timer: when
 * it fires the run claims by itself (the capacity that freed with no NOTIFY). A crash between
 * the master's claim and this start leaves the job INQUEUE without a workflow: the cron
 * scheduler's reconciler dispatches it again, REJECT_DUPLICATE keeping it to one run.
 */
export async function dispatcherWorkflow(input: DispatcherInput): Promise<DispatcherResult> {
  const queue: DispatchJob[] = [...(input.carried ?? [])];
  let wakeAt = input.wakeInMs === undefined ? undefined : Date.now() + input.wakeInMs;
  const timerAt = (ms: number) => { wakeAt = Math.min(wakeAt ?? Number.POSITIVE_INFINITY, Date.now() + ms + AFTER_MS); };
  setHandler(dispatchSignal, (batch) => {
    queue.push(...batch.jobs);
    if (batch.waitMs !== undefined) timerAt(batch.waitMs);
  });

  const result: DispatcherResult = { started: 0, alreadyStarted: 0, conflicts: 0, claimed: 0 };
  let inFlight = 0;
  // A start that failed other than "already started" (none is expected): the workflow task fails and is retried.
  const failures: unknown[] = [];
  let order: Promise<unknown> = Promise.resolve();
  const count = (outcome: StartOutcome) => {
    if (outcome === 'started') result.started++;
    else if (outcome === 'conflict') result.conflicts++;
    else result.alreadyStarted++;
  };
  const begin = (job: DispatchJob) => {
    inFlight++;
    const start = input.dispatchMode === 'sequential'
      ? (order = order.then(() => startSlave(input, job)))
      : startSlave(input, job);
    void (start as Promise<StartOutcome>).then(count, (err: unknown) => { failures.push(err); }).finally(() => { inFlight--; });
  };
  const budget = input.runEvents ?? DISPATCHER_RUN_EVENTS;
  const roomFor = (starts: number) => workflowInfo().historyLength + EVENTS_PER_START * (inFlight + starts) < budget;
  const batch = Math.max(1, input.batchSize);
  // Runs recorded before the cap started everything at once: they replay that way.
  const cap = patched('dispatcher-starts-cap') ? STARTS_IN_FLIGHT : Number.POSITIVE_INFINITY;
  const startable = () => queue.length > 0 && inFlight < cap;

  let full = false;
  for (;;) {
    if (failures.length > 0) throw failures[0];
    while (startable() && roomFor(1)) begin(queue.shift()!);
    // Children that end while this run lives add their events too: the budget counts them.
    if ((queue.length > 0 && !roomFor(1)) || !roomFor(0)) {
      full = true;
      break;
    }
    if (wakeAt !== undefined && wakeAt <= Date.now()) {
      wakeAt = undefined;
      const claimed = await masterActivities.claimJobs({ jobType: input.jobType, limit: batch });
      result.claimed += claimed.jobs.length;
      queue.push(...claimed.jobs);
      // A full claim: more may wait, claim again at once; else the claim's own timer.
      if (claimed.jobs.length + claimed.invalid >= batch) wakeAt = Date.now();
      else if (claimed.waitMs !== undefined) timerAt(claimed.waitMs);
      continue;
    }
    const waitingFor = wakeAt;
    const woken = await condition(
      () => startable() || wakeAt !== waitingFor || failures.length > 0 || !roomFor(0),
      waitingFor === undefined ? input.idle : Math.max(1, waitingFor - Date.now()),
    );
    // Nothing came and no timer is set: the run ends; the next batch starts a new one.
    if (!woken && wakeAt === undefined && queue.length === 0) break;
  }

  await condition(() => inFlight === 0 || failures.length > 0);
  if (failures.length > 0) throw failures[0];
  if (result.started + result.alreadyStarted + result.conflicts > 0) log.info('dispatcher run', { jobType: input.jobType, ...result });
  if (full) {
    // A fresh history goes on with what is left (ids only) and the timer, read after the
    // last await so that no batch that came meanwhile is dropped.
    const { carried: _carried, wakeInMs: _wakeInMs, ...same } = input;
    await continueAsNew<typeof dispatcherWorkflow>({
      ...same,
      carried: queue,
      ...(wakeAt === undefined ? {} : { wakeInMs: Math.max(0, wakeAt - Date.now()) }),
    });
  }
  return result;
}
