import { ApplicationFailure } from '@temporalio/common';
import type { FailureOutcome } from '../../backends/types';
import { FailureType } from '../failures';
import type { AccountWant } from '../../shared/jobs/account';

/** A backend's answer that is not a file and not moderation. */
export type FaultOutcome = Exclude<FailureOutcome, { kind: 'moderated' }>;

/** The item's error text: the reason, and where the browser left its artifacts. */
export function faultMessage(outcome: FaultOutcome): string {
  const text = outcome.kind === 'failed' ? outcome.reason : outcome.message;
  return outcome.artifactsDir ? `${text} (artifacts: ${outcome.artifactsDir})` : text;
}

/**
 * Faults that are the account's, not the item's: a rate limit, and a lost login when the
 * job may use any account of its pool. The item goes back through the account gate (another
 * account, or a wait in the workflow) without spending a retry attempt.
 */
export function backToGate(outcome: FaultOutcome, want: AccountWant): boolean {
  return outcome.kind === 'rateLimited' || (outcome.kind === 'authRequired' && 'pool' in want);
}

/**
 * How Temporal treats a fault that is the item's (backToGate keeps the account's faults
 * away from it): a lost login ends the job (a person must sign in again), a failure is
 * retried with backoff unless the backend says retrying cannot help. A rate limit, should
 * one get here, is retried after the account's cooldown.
 */
export function failureFor(outcome: FaultOutcome, account: string): ApplicationFailure {
  switch (outcome.kind) {
    case 'rateLimited':
      return ApplicationFailure.create({ type: FailureType.RateLimited, message: `account ${account}: ${outcome.message}`, nextRetryDelay: outcome.cooldownMs });
    case 'authRequired':
      return ApplicationFailure.nonRetryable(outcome.renew === 'apiKey' ? outcome.message : `account ${account} needs a new login`, FailureType.AuthRequired);
    case 'failed':
      return ApplicationFailure.create({ type: FailureType.GenerationFailed, message: faultMessage(outcome), nonRetryable: !outcome.retryable });
  }
}

/**
 * Moderation is an answer, not a fault: the item is generated again (a loop in the activity,
 * not a Temporal retry) until its own budget, MODERATION_MAX_RETRIES, is spent.
 */
export function afterModeration(retriesSoFar: number, maxRetries: number): 'regenerate' | 'give up' {
  return retriesSoFar >= maxRetries ? 'give up' : 'regenerate';
}
