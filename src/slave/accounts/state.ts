import { sql } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { accounts } from '../../shared/db/schema';

// Account state lives in Postgres so every slave on every machine sees the same cooldown.

/** Starts (or extends, never shortens) the account's cooldown, and notes why. */
export async function startCooldown(db: Db, name: string, ms: number, message?: string): Promise<void> {
  const until = sql`now() + make_interval(secs => ${ms / 1000})`;
  const lastError = message ?? 'rate limited';
  await db
    .insert(accounts)
    .values({ name, cooldownUntil: until, lastError })
    .onConflictDoUpdate({ target: accounts.name, set: { cooldownUntil: sql`greatest(${accounts.cooldownUntil}, ${until})`, lastError, updatedAt: sql`now()` } });
}

/** The session is gone: the account leaves its pool until `accounts login` clears this. */
export async function recordAuthError(db: Db, name: string, message: string | null): Promise<void> {
  const set = { lastAuthError: message, ...(message ? { lastError: message } : {}) };
  await db.insert(accounts).values({ name, ...set }).onConflictDoUpdate({ target: accounts.name, set });
}

/** Any other failure seen on the account, shown by `accounts list` (never a secret: driver messages only). */
export async function recordAccountError(db: Db, name: string, message: string): Promise<void> {
  await db.insert(accounts).values({ name, lastError: message }).onConflictDoUpdate({ target: accounts.name, set: { lastError: message } });
}
