-- The claim asks which wants (an account, or a pool) have PENDING jobs on every wake, and a
-- wake comes with most status changes. Asked with GROUP BY it read every PENDING row: with
-- 10,000 waiting, PostgreSQL spent ~0.06 CPU-s more per completed job than with none
-- (`npm run bench -- backlog`). The same keys with '' for an absent one let the claim jump
-- from one want's first job to the next (a recursive query, src/master/activities/wants.ts):
-- one index probe per want, whatever the depth of the backlog. NULLs could not do this: a
-- row comparison with a NULL in it is never true.
DROP INDEX IF EXISTS "jobs_pending_want_idx";
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "jobs_pending_want_idx" ON "jobs" USING btree (
  "type", coalesce("payload"->>'account', ''), coalesce("payload"->>'pool', ''), coalesce("payload"->>'backend', ''),
  "priority" DESC, "created_at", "id"
) WHERE "status" = 'PENDING';
