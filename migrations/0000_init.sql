CREATE TYPE "public"."item_status" AS ENUM('PENDING', 'RUNNING', 'COMPLETED', 'CONTENT_MODERATED', 'FAILED');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED', 'ERROR');--> statement-breakpoint
CREATE TABLE "accounts" (
	"name" text PRIMARY KEY NOT NULL,
	"storage_state" text,
	"cooldown_until" timestamp with time zone,
	"daily_quota" integer,
	"last_auth_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"from_status" "job_status",
	"to_status" "job_status" NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "job_items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"index" integer NOT NULL,
	"prompt" text,
	"status" "item_status" DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"moderation_retries" integer DEFAULT 0 NOT NULL,
	"media_url" text,
	"file_path" text,
	"sha256" text,
	"bytes" bigint,
	"hd" boolean DEFAULT false NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"status" "job_status" DEFAULT 'PENDING' NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"account" text,
	"progress" smallint DEFAULT 0 NOT NULL,
	"progress_message" text,
	"workflow_id" text,
	"run_id" text,
	"result" jsonb,
	"error_message" text,
	"retry_of" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_items" ADD CONSTRAINT "job_items_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_events_job_idx" ON "job_events" USING btree ("job_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "job_items_job_index_uq" ON "job_items" USING btree ("job_id","index");--> statement-breakpoint
CREATE INDEX "jobs_claim_idx" ON "jobs" USING btree ("status","type","priority" DESC NULLS LAST,"created_at");--> statement-breakpoint
CREATE INDEX "jobs_in_flight_idx" ON "jobs" USING btree ("status","updated_at") WHERE status IN ('INQUEUE', 'PROGRESS');