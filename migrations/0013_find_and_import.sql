-- Finding jobs by their prompts (issue 25): a trigram index on the prompt text of the payload
-- (prompt and prompts), so `jobs list --search` and the console's search read the index, not
-- every row. The expression is written once more in src/cli/jobFilter.ts (PROMPT_TEXT): a
-- query uses the index only when its expression is the same text; test/ops.test.ts reads
-- the plan to keep the two equal. pg_trgm ships in PostgreSQL's contrib and is a trusted
-- extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "jobs_prompt_trgm_idx" ON "jobs"
  USING gin ((coalesce(payload->>'prompt', '') || ' ' || coalesce(payload->>'prompts', '')) gin_trgm_ops);
--> statement-breakpoint
-- Bulk retry makes one retry per failed job: it looks for an existing retry of each.
CREATE INDEX IF NOT EXISTS "jobs_retry_of_idx" ON "jobs" ("retry_of") WHERE "retry_of" IS NOT NULL;
--> statement-breakpoint
-- An imported row's `key` column: importing the same file twice adds each key's job once.
ALTER TABLE "jobs" ADD COLUMN IF NOT EXISTS "import_key" text;
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "jobs_import_key_idx" ON "jobs" ("import_key") WHERE "import_key" IS NOT NULL;
--> statement-breakpoint
-- The date filter (--since) and the list's order.
CREATE INDEX IF NOT EXISTS "jobs_created_at_idx" ON "jobs" ("created_at");
