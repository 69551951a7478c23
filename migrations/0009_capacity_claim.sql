-- The capacity claim (issue 21): the master claims a PENDING job only when an account can
-- take it now, reserving the slot (a lease row) in the claim's transaction.
--
-- The claim reads PENDING jobs per "want" (the account or pool they ask for, decided by
-- accountWant in src/shared/jobs/account.ts from these three payload keys): this index gives
-- the groups and each group's jobs in claim order (priority, then age) without a sort of the
-- whole backlog.
CREATE INDEX IF NOT EXISTS "jobs_pending_want_idx" ON "jobs" USING btree (
  "type", ("payload"->>'account'), ("payload"->>'pool'), ("payload"->>'backend'), "priority" DESC, "created_at", "id"
) WHERE "status" = 'PENDING';
--> statement-breakpoint
-- A reservation the claim made that no item has used yet: the first item starts on it
-- without the minimum gap (the claim counted its start), later ones keep the gap.
ALTER TABLE "account_leases" ADD COLUMN "unused" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- A job's end deletes its leases by job id.
CREATE INDEX IF NOT EXISTS "account_leases_job_idx" ON "account_leases" USING btree ("job_id");
--> statement-breakpoint
-- What frees capacity and the database sees: a lease deleted (an item done, a job ended, an
-- expired lease cleared), an account added, an account whose limits, pool, login or
-- cooldown changed for the better. Row triggers, so a statement that changes nothing (the
-- slot's DELETE of expired leases, a login upsert of the same row) sends nothing; NOTIFY
-- folds repeats within a transaction into one.
DROP TRIGGER IF EXISTS account_leases_capacity ON account_leases;
--> statement-breakpoint
CREATE TRIGGER account_leases_capacity AFTER DELETE ON account_leases
  FOR EACH ROW EXECUTE FUNCTION grokflow_notify_capacity();
--> statement-breakpoint
DROP TRIGGER IF EXISTS accounts_capacity_insert ON accounts;
--> statement-breakpoint
CREATE TRIGGER accounts_capacity_insert AFTER INSERT ON accounts
  FOR EACH ROW EXECUTE FUNCTION grokflow_notify_capacity();
--> statement-breakpoint
DROP TRIGGER IF EXISTS accounts_capacity_update ON accounts;
--> statement-breakpoint
CREATE TRIGGER accounts_capacity_update AFTER UPDATE ON accounts
  FOR EACH ROW WHEN (
    OLD.pool IS DISTINCT FROM NEW.pool
    OR OLD.concurrency IS DISTINCT FROM NEW.concurrency
    OR OLD.min_gap_ms IS DISTINCT FROM NEW.min_gap_ms
    OR OLD.daily_quota IS DISTINCT FROM NEW.daily_quota
    OR OLD.daily_budget_ticks IS DISTINCT FROM NEW.daily_budget_ticks
    OR OLD.kind IS DISTINCT FROM NEW.kind
    OR (OLD.last_auth_error IS NOT NULL AND NEW.last_auth_error IS NULL)
    OR OLD.storage_state IS DISTINCT FROM NEW.storage_state
    OR (OLD.cooldown_until IS NOT NULL AND (NEW.cooldown_until IS NULL OR NEW.cooldown_until < OLD.cooldown_until))
  ) EXECUTE FUNCTION grokflow_notify_capacity();
