/** Accounts with no pool set belong to this one, and so do jobs that name neither. */
export const DEFAULT_POOL = 'default';

/** What a job asks for: one account, or any ready account of a pool. */
export type AccountWant = { account: string } | { pool: string };

/**
 * The rule, decided here once: a job (its payload, or its item plan) that names an account
 * keeps to it; otherwise its items take accounts of its pool (payload.pool, else `default`).
 */
export function accountWant(p: { account?: string; pool?: string }): AccountWant {
  return p.account ? { account: p.account } : { pool: p.pool ?? DEFAULT_POOL };
}

/** What jobs.account records when a job is added: its named account; null while a pool's items choose. */
export function jobAccount(payload: { account?: string; pool?: string }): string | null {
  const want = accountWant(payload);
  return 'account' in want ? want.account : null;
}
