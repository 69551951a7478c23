-- A running job that needs a slot and has none waits as a row here (issue 21, "Nothing
-- polls"): its reservation ran out before its first item (a slave down longer than
-- RESERVATION_TTL_MS), or a rate limit in the middle released its slot while every other
-- account of its pool was busy. The master's claim hands it the next free slot of its want
-- (the lease `job/<id>`), in priority-then-age order together with PENDING jobs, and signals
-- its workflow (src/master/activities/waiters.ts); the item that adopts the slot deletes the
-- row (src/slave/accounts/slots.ts), and so does the job's end (endJob).
CREATE TABLE IF NOT EXISTS "job_waits" (
	"job_id" bigint PRIMARY KEY NOT NULL REFERENCES "jobs"("id") ON DELETE CASCADE,
	"account" text,
	"reason" text NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- A new waiter is capacity's business too: the claim looks at once (a slot freed between the
-- waiter's own check and its row would otherwise wake nobody).
DROP TRIGGER IF EXISTS job_waits_capacity ON job_waits;
--> statement-breakpoint
CREATE TRIGGER job_waits_capacity AFTER INSERT OR UPDATE ON job_waits
  FOR EACH ROW EXECUTE FUNCTION grokflow_notify_capacity();
