-- Issue 24. Each item's time per step (src/shared/itemSteps.ts names them), so the overhead
-- the driver adds to Grok's own generation time can be read per item and summed per run.
ALTER TABLE "job_items" ADD COLUMN "steps" jsonb;
--> statement-breakpoint
-- What Grok itself says is left on the account (/rest/media/imagine/quota_info), read when the
-- account starts work and by `accounts check`: the pool skips an account with none left
-- before Grok answers "Rate limit reached". Null: never read.
ALTER TABLE "accounts" ADD COLUMN "grok_quota_left" integer;
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "grok_quota_total" integer;
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "grok_quota_read_at" timestamp with time zone;
--> statement-breakpoint
-- When Grok's window ends (read_at + its window); null: the end of the day it was read.
ALTER TABLE "accounts" ADD COLUMN "grok_quota_resets_at" timestamp with time zone;
--> statement-breakpoint
-- The last canary (`accounts check`, scheduled by CANARY_CRON): a failed one keeps the
-- account out of its pool until a check passes. Null: never checked (not held out).
ALTER TABLE "accounts" ADD COLUMN "canary_ok" boolean;
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "canary_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "canary_error" text;
