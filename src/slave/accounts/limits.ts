import type { Config } from '../../shared/config';

// What one account may do at once, across every slave: its own settings (`accounts set`) or
// the configuration's defaults. Decided here only; slots.ts enforces it, status.ts shows it.

export type LimitsConfig = Pick<Config, 'ACCOUNT_CONCURRENCY' | 'ACCOUNT_MIN_GAP_MS' | 'AUTH_MODE'>;

export interface AccountLimits {
  concurrency: number;
  minGapMs: number;
}

export function accountLimits(row: { kind?: 'browser' | 'api'; concurrency: number | null; minGapMs: number | null }, config: LimitsConfig): AccountLimits {
  if (row.kind === 'api') {
    // An API key opens no browser, and xAI's request rate is held by Temporal's rate limit on
    // the api task queue (XAI_REQUESTS_PER_SECOND): no cap and no gap unless `accounts set` gives one.
    return { concurrency: row.concurrency ?? Number.POSITIVE_INFINITY, minGapMs: row.minGapMs ?? 0 };
  }
  return {
    // A persistent profile is one Chromium's user-data dir: two generations cannot share it.
    concurrency: config.AUTH_MODE === 'profile' ? 1 : (row.concurrency ?? config.ACCOUNT_CONCURRENCY),
    minGapMs: row.minGapMs ?? config.ACCOUNT_MIN_GAP_MS,
  };
}
