-- The callback outbox (issue 21, one verb per ending): endJob writes a row here in the same
-- transaction that ends a job with a callbackUrl; the master's delivery loop starts the
-- signed, Temporal-retried delivery workflow for it and stamps started_at. The job id is the
-- key, so a job gets at most one row however many writers reach its end.
CREATE TABLE "job_callbacks" (
	"job_id" bigint PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"workflow_id" text,
	"started_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "job_callbacks" ADD CONSTRAINT "job_callbacks_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- The loop's sweep reads only rows not yet started, by job id.
CREATE INDEX "job_callbacks_waiting_idx" ON "job_callbacks" USING btree ("job_id") WHERE "started_at" IS NULL;
--> statement-breakpoint
-- A new row wakes the delivery loop at once; its sweep is the safety net for a missed NOTIFY.
CREATE OR REPLACE FUNCTION grokflow_notify_callbacks() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('grokflow_callbacks', '');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS job_callbacks_notify ON job_callbacks;
--> statement-breakpoint
CREATE TRIGGER job_callbacks_notify AFTER INSERT ON job_callbacks
  FOR EACH STATEMENT EXECUTE FUNCTION grokflow_notify_callbacks();
