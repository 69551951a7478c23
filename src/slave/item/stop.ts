import { CancelledFailure, type Context } from '@temporalio/activity';

// Termination reaches an activity as a cancellation whose reason says what happened. Each ends
// differently: terminate runs no workflow code, so the activity records the end; a cancel is
// recorded by the workflow.
const STOP_MESSAGES: Record<string, string | undefined> = { NOT_FOUND: 'terminated', CANCELLED: 'cancelled' };

export interface Stop {
  /** 'NOT_FOUND' (terminated), 'CANCELLED', … once stopped. */
  reason(): string;
  /** The job's error text for that reason ('terminated'); undefined for reasons the workflow records. */
  message(): string | undefined;
  /**
   * Terminate: nothing in the workflow will record the end, this activity must. NOT_FOUND alone
   * does not prove it: the server says it for any attempt it no longer knows, and an attempt
   * that missed its heartbeat on a loaded machine (Temporal already runs the next one) gets it
   * too. So the workflow's own state is asked; only TERMINATED ends the job here. Anything
   * else (running, or no answer) leaves the job to the next attempt, the workflow, or the
   * reconciler, which reads the workflow's state every tick.
   */
  terminated(): Promise<boolean>;
}

/** Listens for the activity's cancellation from the start, so its reason is known when it lands. */
export function watchStop(ctx: Context): Stop {
  let reason: string | undefined;
  ctx.cancelled.catch((err: unknown) => { reason = err instanceof CancelledFailure ? err.message : 'CANCELLED'; });
  const current = () => reason ?? 'CANCELLED';
  return {
    reason: current,
    message: () => STOP_MESSAGES[current()],
    terminated: async () => current() === 'NOT_FOUND' && (await workflowTerminated(ctx)),
  };
}

async function workflowTerminated(ctx: Context): Promise<boolean> {
  const execution = ctx.info.workflowExecution;
  if (!execution) return false;
  try {
    const description = await ctx.client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    return description.status.name === 'TERMINATED';
  } catch {
    return false; // no client here, or the server did not answer: the reconciler decides
  }
}
