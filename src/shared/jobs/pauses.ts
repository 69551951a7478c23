import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { jobPauses, type JobPause } from '../db/schema';

// A paused job type or pool (issue 25): a row of job_pauses (migration 0007). The master's
// claim skips PENDING jobs it covers (src/master/activities/pauses.ts); running jobs finish. Resuming deletes
// the row, whose trigger NOTIFYs grokflow_capacity: the master's listener claims at once.

export type PauseScope = 'type' | 'pool';
export const PAUSE_SCOPES: readonly PauseScope[] = ['type', 'pool'];

export async function listPauses(db: Db): Promise<JobPause[]> {
  return db.select().from(jobPauses).orderBy(asc(jobPauses.scope), asc(jobPauses.name));
}

/** Pauses a type or pool; pausing what is paused already keeps the first pause (its time, reason). */
export async function addPause(db: Db, p: { scope: PauseScope; name: string; reason?: string; by: string }): Promise<{ pause: JobPause; added: boolean }> {
  const [added] = await db.insert(jobPauses).values({ scope: p.scope, name: p.name, reason: p.reason ?? null, pausedBy: p.by }).onConflictDoNothing().returning();
  if (added) return { pause: added, added: true };
  const [existing] = await db.select().from(jobPauses).where(and(eq(jobPauses.scope, p.scope), eq(jobPauses.name, p.name)));
  return { pause: existing!, added: false };
}

/** Resumes a type or pool: false when it was not paused. */
export async function removePause(db: Db, scope: PauseScope, name: string): Promise<boolean> {
  const removed = await db.delete(jobPauses).where(and(eq(jobPauses.scope, scope), eq(jobPauses.name, name))).returning();
  return removed.length > 0;
}

/** One line for banners: `paused: type GROK_VIDEO_GENERATION (fixing alice), pool p1`. */
export function pausedLine(pauses: JobPause[]): string | undefined {
  if (!pauses.length) return undefined;
  return `paused: ${pauses.map((p) => `${p.scope} ${p.name}${p.reason ? ` (${p.reason})` : ''}`).join(', ')}`;
}
