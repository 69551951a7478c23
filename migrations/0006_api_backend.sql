ALTER TABLE "accounts" ADD COLUMN "kind" text DEFAULT 'browser' NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "daily_budget_ticks" bigint;--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_kind_check" CHECK ("accounts"."kind" IN ('browser', 'api'));--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "backend" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "cost_ticks" bigint;--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "backend_token" text;--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "cost_ticks" bigint;
