ALTER TABLE "job_items" ADD COLUMN "duration" text;--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "resolution" text;