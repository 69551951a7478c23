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
  /** Terminate: nothing in the workflow will record the end, this activity must. */
  terminated(): boolean;
}

/** Listens for the activity's cancellation from the start, so its reason is known when it lands. */
export function watchStop(ctx: Context): Stop {
  let reason: string | undefined;
  ctx.cancelled.catch((err: unknown) => { reason = err instanceof CancelledFailure ? err.message : 'CANCELLED'; });
  const current = () => reason ?? 'CANCELLED';
  return {
    reason: current,
    message: () => STOP_MESSAGES[current()],
    terminated: () => current() === 'NOT_FOUND',
  };
}
