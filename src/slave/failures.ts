// ApplicationFailure types the slave raises. Workflow code reads them too, so this module
// holds plain constants only.
export const FailureType = {
  /** The job's payload or files are wrong: retrying cannot help. */
  InvalidInput: 'InvalidInput',
  /** The account's session is gone: a person must log in again. */
  AuthRequired: 'AuthRequired',
  /** The account's daily quota cannot fit the job or the item. */
  QuotaExceeded: 'QuotaExceeded',
  /** Grok's rate limit. Since pools an item waits for it in its workflow (a timer), using no attempt. */
  RateLimited: 'RateLimited',
  /** The job's deadline (payload deadlineMinutes, JOB_DEADLINE_MS) passes before an account frees up. */
  DeadlinePassed: 'DeadlinePassed',
  /** Timeout, network, server error toast, stuck generation: retried with backoff. */
  GenerationFailed: 'GenerationFailed',
  /** OUTPUT_URL's storage failed: retried, unless it refused the credentials. */
  StorageFailed: 'StorageFailed',
  /** The callback receiver answered a final 4xx, or its address is not allowed. */
  WebhookRejected: 'WebhookRejected',
  /** The activity was stopped from outside (terminate, cancel); the job is already ended. */
  Stopped: 'Stopped',
  /** The workflow belongs to another database (another grokflow instance): nothing was touched. */
  WrongDatabase: 'WrongDatabase',
} as const;

export const NON_RETRYABLE = [FailureType.InvalidInput, FailureType.AuthRequired, FailureType.QuotaExceeded, FailureType.Stopped, FailureType.WrongDatabase, FailureType.DeadlinePassed];
